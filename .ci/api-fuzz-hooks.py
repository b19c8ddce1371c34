"""Schemathesis hooks for `.ci/api-fuzz.py` (loaded through SCHEMATHESIS_HOOKS; see there).

Most operations check something random data cannot make before they reach their core
logic. Schemathesis warns about an operation whose valid (positive) cases all got a 4xx in
a phase, and rightly: such an operation is fuzzed at its front door only. So `before_call`
turns every other positive case of those operations (the first of each phase among them)
into one the server serves, keeping what it can of the generated values; the other cases
keep their random data, so the refusals stay fuzzed. Negative cases are left alone.

What each one needs, and where it comes from (the PLI_FUZZ_* variables are set by the
script, which makes what they name before the pass through the real CLI):

- POST /v1/accounts: a fresh challenge, solved here (the server runs with
  `--pow-difficulty 4`), a fresh username, a region the server serves (`GET /v1/policy`).
- POST /v1/devices, DELETE /v1/devices/{device_id}: an endorsement, an Ed25519 signature by
  the calling device. They run as an account these hooks register themselves, with a key
  made here: a new device it endorses; the removal of a device it added just before. A
  device the fuzzer added is removed again, so the account stays under its device cap.
- POST /v1/devices/{device_id}/history: another device of that account, added once (the
  body, a sealed part, is any bytes to the server).
- GET /v1/users/{username}/devices and /directory, POST .../key-packages/claim, GET
  /admin/v1/inventory/{username}: an account that exists (PLI_FUZZ_USERS; registered with
  `pli register`, so it has key packages to claim).
- POST /v1/messages: an MLS `PrivateMessage` in its wire format (RFC 9420 §6.3) carrying a
  commit in epoch 0 of a new group (the server starts the group's epoch with it), for a
  device that exists (PLI_FUZZ_RECIPIENT); a generated Welcome becomes a well-formed one.
- POST /v1/ephemeral: an MLS application `PrivateMessage` in its wire format for the
  recipient device (a typing indicator; the server hands it on or drops it, storing
  nothing).
- GET /v1/audit/inclusion and /consistency, GET /v1/directory/audit: log sizes and an entry
  within the audit log, and epochs within the key directory, as they stand when the call is
  made.
- POST /v1/audit/cosignatures: only a witness the server lists is heard (`--witness`), so
  the script has it co-sign a checkpoint before the run; that real cosignature
  (PLI_FUZZ_COSIGNATURE) is the operation's example in the description, and the body of
  the valid cases (the server keeps a cosignature it already has as it would a new one).
- GET /v1/ws: a ticket from `POST /v1/ws/ticket` in place of the generated one (the
  upgrade headers are in the description). Every upgrade the server grants is closed here
  at once, with a close frame, so the connection goes back to the pool as a closed one
  rather than as a WebSocket the next request would be written to.
- POST /admin/v1/accounts/{username}/region: an account that exists (PLI_FUZZ_MOVER) and
  a region the server serves (it runs with two).
- POST /admin/v1/requests and /{id}/edit: the generated request, with what the targets'
  region policy refuses taken out (a category the basis does not reach, IP data the
  region does not keep, an emergency without an attestation, a target named twice, a day
  that is not in the calendar); an edit goes to a request still open to edits
  (PLI_FUZZ_EDITABLE, entered before the pass).
- POST /admin/v1/requests/{id}/approve and /reject: a request in a state that allows it,
  entered by another member (the author may not approve): each valid case takes the next
  one of PLI_FUZZ_APPROVABLE / PLI_FUZZ_REJECTABLE, entered before the pass.
- POST /admin/v1/requests/{id}/disclose and /close: the same, from PLI_FUZZ_DISCLOSABLE
  (approved by both legal reviewers) and PLI_FUZZ_CLOSABLE (rejected).
- POST /admin/v1/staff: the generated name made unique (staff names are).
- POST /admin/v1/staff/{staff_id}/rotate and /role: the spare member (PLI_FUZZ_SPARE_STAFF);
  /revoke: the next of the members entered to be revoked (PLI_FUZZ_REVOCABLE), so the spare
  stays for the others.
- PLI_FUZZ_KEEP_STAFF: the staff changes also find staff ids in `GET /admin/v1/staff`, the
  caller's own among them; rotating or revoking the caller would leave the rest of the pass
  unauthorised, and a revoked spare would be unknown to every later change. A call aimed
  at the caller goes to the spare instead, a revocation of either to one of the members to
  revoke (acting on oneself is covered by `crates/pli/tests`).

- The abuse reports and trust & safety operations: see `.ci/api_fuzz_abuse.py`.
- The attachment operations: see `.ci/api_fuzz_attachments.py` (as the hooks' own account).
- Reading a profile: see `.ci/api_fuzz_profiles.py` (as the hooks' own account).

The wire formats these cases are built in (proof of work, MLS messages, WebSocket frames)
are in `.ci/api_fuzz_wire.py`.

PLI_FUZZ_TRACE, when set, names a file that gets one line per call (process, i.e. pass;
operation, phase, mode, whether the hooks made the case valid, status): what to read when
a warning comes back.
"""

import base64
import collections
import datetime
import hashlib
import json
import os
import random
import secrets
import socket
import struct

import sys

import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# The wire formats live beside this file (schemathesis loads it by path, not as a package).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_fuzz_wire import APPLICATION, COMMIT, close_frame_in, private_message, solve, welcome  # noqa: E402
import api_fuzz_abuse as abuse  # noqa: E402
import api_fuzz_attachments as attachments  # noqa: E402
import api_fuzz_profiles as profiles  # noqa: E402

URL = os.environ.get("PLI_FUZZ_URL", "").rstrip("/")
USERS = json.loads(os.environ.get("PLI_FUZZ_USERS", "[]"))

STAFF_CHANGES = {
    "/admin/v1/staff/{staff_id}/rotate",
    "/admin/v1/staff/{staff_id}/role",
    "/admin/v1/staff/{staff_id}/revoke",
}

SESSION = requests.Session()


def api(method, path, auth=None, **kwargs):
    headers = {"Authorization": auth} if auth else {}
    answer = SESSION.request(method, URL + path, headers=headers, timeout=30, **kwargs)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def b64(data):
    return base64.b64encode(data).decode()


class Auth(requests.auth.AuthBase):
    """Another credential for one call: the `--header` one is set after the case's own headers."""

    def __init__(self, value):
        self.value = value

    def __call__(self, request):
        request.headers["Authorization"] = self.value
        return request


# Which positive case of an operation this is, per phase.
_turns = collections.Counter()
# The cases made valid, by id.
_made_valid = {}


def takes_turn(case):
    """Whether this case is one to make valid: every other positive case, the first included."""
    meta = case.meta
    if meta is None or meta.generation.mode is not schemathesis.GenerationMode.POSITIVE:
        return False
    key = (case.operation.label, str(meta.phase.name))
    turn = _turns[key]
    _turns[key] += 1
    return turn % 2 == 0


def as_int(value, default=0):
    """A generated integer, also as the text the coverage phase sends."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# Registration.


def fresh_username():
    return "fz" + secrets.token_hex(6)


_regions = []


def regions():
    if not _regions:
        _regions.extend(r["region"] for r in api("GET", "/v1/policy")["regions"])
    return _regions


def solved_registration(body, username):
    puzzle = api("GET", "/v1/register/challenge")
    body["username"] = username
    body["challenge"] = puzzle["challenge"]
    body["nonce"] = solve(puzzle["challenge"], username, puzzle["difficulty"])
    return body


def valid_registration(case):
    body = case.body
    solved_registration(body, fresh_username())
    if len(base64.b64decode(body["signature_key"])) != 32:
        body["signature_key"] = b64(public_key(Ed25519PrivateKey.generate()))
    if body.get("region") is not None and body["region"] not in regions():
        body["region"] = random.choice(regions())


# Devices, as an account of the hooks' own.


def public_key(private):
    return private.public_key().public_bytes_raw()


class Account:
    def __init__(self):
        self.key = Ed25519PrivateKey.generate()
        self.username = fresh_username()
        body = solved_registration({"signature_key": b64(public_key(self.key))}, self.username)
        answer = api("POST", "/v1/accounts", json=body)
        self.auth = f"Pli {answer['device_id']}.{answer['device_secret']}"

    def endorse(self, device_id, key):
        """The signature of `pli_proto::kt::endorsement_message`."""
        message = b"pli device endorsement v1\n" + self.username.encode() + b"\n"
        message += struct.pack(">Q", int(device_id)) + key
        return self.key.sign(message)

    def new_device(self, body):
        """`body` made a valid addition of a device to this account (its id kept)."""
        key = public_key(Ed25519PrivateKey.generate())
        body["signature_key"] = b64(key)
        if len(base64.b64decode(body.get("secret_hash", ""))) != 32:
            body["secret_hash"] = b64(hashlib.sha256(secrets.token_hex(32).encode()).digest())
        body["endorsement"] = b64(self.endorse(body["device_id"], key))
        keys = body.get("directory_keys")
        if keys is not None:
            while len(keys["origin"].encode()) > 256:
                keys["origin"] = keys["origin"][:-1]
            keys["signing_key"] = b64(secrets.token_bytes(32))
            if len(base64.b64decode(keys["vrf_public_key"])) > 64:
                keys["vrf_public_key"] = b64(secrets.token_bytes(32))
            keys["mac"] = b64(secrets.token_bytes(32))
        return body


_account = []


def account():
    if not _account:
        _account.append(Account())
    return _account[0]


def valid_device_addition(case, kwargs):
    kwargs["auth"] = Auth(account().auth)
    account().new_device(case.body)
    _made_valid[case.id] = "added"


def valid_device_removal(case, kwargs):
    own = account()
    kwargs["auth"] = Auth(own.auth)
    body = own.new_device({"device_id": secrets.randbelow(2**53 - 1) + 1})
    api("POST", "/v1/devices", auth=own.auth, json=body)
    case.path_parameters["device_id"] = body["device_id"]


_history_target = []


def valid_history_relay(case, kwargs):
    """A history part from the hooks' own account to another device of it, added once (a
    device per case would reach the account's device cap)."""
    own = account()
    kwargs["auth"] = Auth(own.auth)
    if not _history_target:
        body = own.new_device({"device_id": secrets.randbelow(2**53 - 1) + 1})
        api("POST", "/v1/devices", auth=own.auth, json=body)
        _history_target.append(body["device_id"])
    case.path_parameters["device_id"] = _history_target[0]


def remove_added_device(case, response):
    if _made_valid.pop(case.id, None) == "added" and response.status_code == 200:
        api("DELETE", f"/v1/devices/{int(case.body['device_id'])}", auth=account().auth)


# Messages (their wire format: api_fuzz_wire.py).


def valid_submission(case):
    body = case.body
    # A new group each time: a generated id may well be one used before.
    group = secrets.token_bytes(max(16, min(32, len(body["group_id"]) // 2)))
    body["group_id"] = group.hex()
    body["message"] = b64(private_message(group, 0, COMMIT))
    recipient = int(os.environ["PLI_FUZZ_RECIPIENT"])
    body["recipients"] = [recipient]
    if body.get("welcome") is not None:
        body["welcome"] = {"message": b64(welcome()), "recipients": [recipient]}


def valid_ephemeral(case):
    body = case.body
    group = secrets.token_bytes(max(16, min(32, len(body["group_id"]) // 2)))
    body["group_id"] = group.hex()
    body["message"] = b64(private_message(group, 0, APPLICATION))
    body["recipients"] = [int(os.environ["PLI_FUZZ_RECIPIENT"])]


# The audit log and the key directory, as they stand.


def audit_log_size():
    size = 0
    while True:
        page = api("GET", f"/v1/audit/entries?from={size}&limit=1000")["entries"]
        size += len(page)
        if len(page) < 1000:
            return size


def valid_inclusion(case):
    size = 1 + as_int(case.query.get("size")) % audit_log_size()
    case.query["size"] = size
    case.query["index"] = as_int(case.query.get("index")) % size


def valid_consistency(case):
    to = as_int(case.query.get("to")) % (audit_log_size() + 1)
    case.query["to"] = to
    case.query["from"] = as_int(case.query.get("from")) % (to + 1)


def directory_epoch():
    roots = api("GET", "/v1/directory/roots?from=0&limit=1000")["roots"]
    return int(roots[-1].split("\n")[1])


def valid_directory_audit(case):
    latest = directory_epoch()
    if latest < 1:
        return
    to = 1 + as_int(case.query.get("to")) % latest
    case.query["to"] = to
    case.query["from"] = to - 1 - as_int(case.query.get("from")) % min(64, to)


def valid_cosignature(case):
    case.body = json.loads(os.environ["PLI_FUZZ_COSIGNATURE"])


# The delivery WebSocket.


def valid_upgrade(case):
    if case.query is not None and "ticket" in case.query:
        case.query["ticket"] = api("POST", "/v1/ws/ticket", auth=account().auth)["ticket"]


def close_upgraded(response, **kwargs):
    """Closes a socket the server upgraded: a close frame, the server's answer, the end."""
    if response.status_code != 101:
        return response
    connection = response.raw.connection
    sock = getattr(connection, "sock", None)
    if sock is None:
        return response
    mask = secrets.token_bytes(4)
    status = struct.pack(">H", 1000)
    sock.sendall(b"\x88\x82" + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(status)))
    sock.settimeout(2)
    try:
        received = b""
        # Frames the server sent first (queued deliveries) come before its close frame.
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
            if close_frame_in(received):
                break
    except (socket.timeout, OSError):
        pass
    connection.close()
    return response


# Regions.


def valid_move(case):
    case.path_parameters["username"] = os.environ["PLI_FUZZ_MOVER"]
    if case.body["region"] not in regions():
        case.body["region"] = random.choice(regions())


def existing_user(case):
    case.path_parameters["username"] = random.choice(USERS)


# Lawful requests.

STRENGTH = {"preservation": 0, "subpoena": 1, "court-order": 2, "mlat": 2, "emergency": 2, "search-warrant": 3}
NEEDS = {"subscriber": 1, "devices": 2, "ip": 2}


def real_day(day):
    try:
        return datetime.date.fromisoformat(day).year >= 1970 and len(day) == 10
    except ValueError:
        return False


def within_policy(request):
    """`request` with what `governance::rules::check_request` refuses taken out."""
    for field in ["authority", "doc_ref"]:
        if not request[field].strip():
            request[field] = "fuzz"
    request["targets"] = list(dict.fromkeys(request["targets"]))
    basis = request["basis"]
    # No region of the fuzz server keeps IP addresses.
    categories = [c for c in dict.fromkeys(request["categories"]) if c != "ip"]
    if basis != "preservation":
        categories = [c for c in categories if STRENGTH[basis] >= NEEDS[c]]
    request["categories"] = categories or ["subscriber"]
    if basis == "emergency" and not (request.get("attestation") or "").strip():
        request["attestation"] = "an imminent threat, in the requester's words"
    for field in ["nondisclosure_until", "due"]:
        if request.get(field) is not None and not real_day(request[field]):
            request[field] = "2030-06-30"
    return request


def valid_new_request(case):
    within_policy(case.body)


def valid_edit(case):
    case.path_parameters["id"] = os.environ["PLI_FUZZ_EDITABLE"]
    within_policy(case.body)


def next_of(variable):
    """The next id of the list in `variable` not handed out yet, or `None`."""
    pool = os.environ.get(variable, "")
    ids = [i for i in pool.split(",") if i]
    taken = _pools[variable]
    if taken < len(ids):
        _pools[variable] += 1
        return ids[taken]
    return None


_pools = collections.Counter()


def valid_approval(case):
    request = next_of("PLI_FUZZ_APPROVABLE")
    if request is not None:
        case.path_parameters["id"] = request


def valid_rejection(case):
    request = next_of("PLI_FUZZ_REJECTABLE")
    if request is not None:
        case.path_parameters["id"] = request
    if not case.body["reason"].strip():
        case.body["reason"] = "fuzz"


def valid_disclosure(case):
    request = next_of("PLI_FUZZ_DISCLOSABLE")
    if request is not None:
        case.path_parameters["id"] = request


def valid_closing(case):
    request = next_of("PLI_FUZZ_CLOSABLE")
    if request is not None:
        case.path_parameters["id"] = request


# Staff changes.


def fresh_staff_name(case):
    """The generated name, made unique: hypothesis draws the same short names again and again."""
    case.body["name"] = case.body["name"][:55] + "-" + secrets.token_hex(4)


def spare_member(case):
    case.path_parameters["staff_id"] = int(os.environ["PLI_FUZZ_SPARE_STAFF"])


_revoked = []


def revocable_member(case):
    """The next of the members entered to be revoked; once none is left, the last one again
    (already revoked: unknown)."""
    member = next_of("PLI_FUZZ_REVOCABLE")
    if member is not None:
        _revoked.append(int(member))
    case.path_parameters["staff_id"] = _revoked[-1]


VALID = {
    ("POST", "/v1/accounts"): valid_registration,
    ("POST", "/v1/devices"): valid_device_addition,
    ("DELETE", "/v1/devices/{device_id}"): valid_device_removal,
    ("POST", "/v1/devices/{device_id}/history"): valid_history_relay,
    ("GET", "/v1/users/{username}/devices"): existing_user,
    ("GET", "/v1/users/{username}/directory"): existing_user,
    ("POST", "/v1/users/{username}/key-packages/claim"): existing_user,
    ("POST", "/v1/messages"): valid_submission,
    ("POST", "/v1/ephemeral"): valid_ephemeral,
    ("GET", "/v1/audit/inclusion"): valid_inclusion,
    ("GET", "/v1/audit/consistency"): valid_consistency,
    ("GET", "/v1/directory/audit"): valid_directory_audit,
    ("POST", "/v1/audit/cosignatures"): valid_cosignature,
    ("GET", "/v1/ws"): valid_upgrade,
    ("POST", "/admin/v1/accounts/{username}/region"): valid_move,
    ("GET", "/admin/v1/inventory/{username}"): existing_user,
    ("POST", "/admin/v1/requests"): valid_new_request,
    ("POST", "/admin/v1/requests/{id}/edit"): valid_edit,
    ("POST", "/admin/v1/requests/{id}/approve"): valid_approval,
    ("POST", "/admin/v1/requests/{id}/reject"): valid_rejection,
    ("POST", "/admin/v1/requests/{id}/disclose"): valid_disclosure,
    ("POST", "/admin/v1/requests/{id}/close"): valid_closing,
    ("POST", "/admin/v1/staff"): fresh_staff_name,
    ("POST", "/admin/v1/staff/{staff_id}/rotate"): spare_member,
    ("POST", "/admin/v1/staff/{staff_id}/role"): spare_member,
    ("POST", "/admin/v1/staff/{staff_id}/revoke"): revocable_member,
    ("POST", "/v1/reports"): abuse.valid_report,
    ("POST", "/v1/me/actions/{id}/appeal"): lambda case: abuse.valid_appeal(case, next_of),
    ("GET", "/admin/v1/abuse-reports/{id}"): abuse.valid_show,
    ("POST", "/admin/v1/abuse-reports/{id}/resolve"): abuse.valid_resolve,
    ("POST", "/admin/v1/accounts/{username}/reinstate"): abuse.valid_reinstate,
    ("POST", "/admin/v1/actions/{id}/appeal/decide"): lambda case: abuse.valid_decision(case, next_of),
}
# The ones that call with another credential, or change the transport's arguments.
WITH_KWARGS = {valid_device_addition, valid_device_removal, valid_history_relay}


@schemathesis.deserializer("application/octet-stream")
def octets(ctx, response):
    """An attachment chunk, as the text its schema (`string`, `binary`) says it is."""
    return response.content.decode("latin-1")


@schemathesis.hook
def before_load_schema(context, raw_schema):
    cosignature = os.environ.get("PLI_FUZZ_COSIGNATURE")
    if not cosignature:
        return
    operation = raw_schema["paths"]["/v1/audit/cosignatures"]["post"]
    media = operation["requestBody"]["content"]["application/json"]
    media["example"] = json.loads(cosignature)


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    if path in STAFF_CHANGES:
        # Neither the caller nor the spare is revoked (nor the caller rotated or demoted),
        # whatever id the fuzzer found: one of those to revoke goes instead, or the spare.
        target = str(case.path_parameters.get("staff_id"))
        keep, spare = os.environ["PLI_FUZZ_KEEP_STAFF"], os.environ["PLI_FUZZ_SPARE_STAFF"]
        if path.endswith("/revoke") and target in (keep, spare):
            revocable_member(case)
        elif target == keep:
            spare_member(case)
    if path == "/v1/ws":
        kwargs["hooks"] = {"response": [close_upgraded]}
    attachment_case = attachments.VALID.get((case.method.upper(), path))
    if attachment_case is not None:
        # Every attachment call runs as the hooks' own account, whose uploads they read.
        kwargs["auth"] = Auth(account().auth)
        if takes_turn(case):
            _made_valid.setdefault(case.id, True)
            attachment_case(case, api, account().auth)
    profile_case = profiles.VALID.get((case.method.upper(), path))
    if profile_case is not None and takes_turn(case):
        _made_valid.setdefault(case.id, True)
        profile_case(case, api, account())
    make_valid = VALID.get((case.method.upper(), path))
    if make_valid is not None and takes_turn(case):
        _made_valid.setdefault(case.id, True)
        if make_valid in WITH_KWARGS:
            make_valid(case, kwargs)
        else:
            make_valid(case)


@schemathesis.hook
def after_call(context, case, response):
    made_valid = case.id in _made_valid
    if case.operation.path == "/v1/devices" and case.method.upper() == "POST":
        remove_added_device(case, response)
    _made_valid.pop(case.id, None)
    trace = os.environ.get("PLI_FUZZ_TRACE")
    if trace:
        meta = case.meta
        with open(trace, "a") as out:
            print(
                os.getpid(),
                case.method.upper(),
                case.operation.path,
                meta.phase.name if meta else "-",
                meta.generation.mode if meta else "-",
                "valid" if made_valid else "as-generated",
                response.status_code,
                file=out,
            )
