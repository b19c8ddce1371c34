#!/usr/bin/env python3
"""API fuzzing: schemathesis against a live `pli serve`, held to its own /openapi.json.

Checks: no 5xx, and every answer's status, content type, headers and body match the
description. Every operation is fuzzed with a credential it accepts, so the fuzzer gets past
authentication everywhere:

- the user API (public operations included) as a registered device;
- the admin API once per staff role (operator, legal, trust-safety, auditor), each pass
  taking the operations that role may call. Which roles may call an operation is read from
  the description itself (`x-pli-roles`, generated from the server's role table), so a new
  admin route or a changed role needs no change here. Separate passes rather than one pass
  with per-operation headers: a role's pass then also chains its own calls (create a
  request, then approve it) in the stateful phase, and what one pass changes cannot lock
  another out. Calls with the wrong role are tested in `crates/pli/tests/admin_roles.rs`;
- the staff changes (rotate, role, revoke) as an operator of their own, after the other
  admin passes, since they revoke and rotate the staff they find; a hook keeps them off the
  caller's own credential (.ci/api-fuzz-hooks.py);
- account deletion, last, on an account of its own.

Getting past authentication is not enough: most operations check what random data cannot
make (a proof of work, a signature, an MLS message, a name or id that exists, a request in
the right state) before they reach their core logic, and schemathesis warns about every
operation whose valid cases it never got served in a phase. The hooks
(.ci/api-fuzz-hooks.py, whose docstring says what each operation gets) make every other
valid case one the server serves; the run is meant to print no warning. What they need is
made here first, through the CLI where there is a command for it:

- the server runs with two regions (`--region`), so an account can be moved, and a
  registration limit (`--registrations-per-hour`) the valid registrations stay under;
- `POST /v1/audit/cosignatures` hears only a witness the server lists: the server is
  started with one (`--witness`), which co-signs a checkpoint before the run; its real
  cosignature is the operation's example and the body of its valid cases;
- accounts that exist (`pli register`): `peer` to look up, claim from, inventory and send
  to, `mover` to move; then a first key-directory epoch (`pli admin directory publish`);
- just before the pass that acts on them (an earlier pass may have closed earlier ones):
  lawful requests entered by trust-safety (`pli admin request new`), some taken on by the
  legal reviewers (`approve`, `reject`), for the legal pass to edit, approve, reject,
  disclose and close, and one for trust-safety to edit; staff members for the staff changes
  to revoke (`pli admin staff add`).

Schemathesis also reads .ci/api-fuzz.toml (a WebSocket upgrade's 101 is not a server error).

Usage: .ci/api-fuzz.py [path to the pli binary]   (default target/debug/pli)
Environment: PLI_API_FUZZ_EXAMPLES (test cases per operation and phase, default 25);
PLI_API_FUZZ_PASSES (a regular expression: only the passes whose title it matches);
PLI_FUZZ_TRACE (see the hooks).
Prints one line at the end: `api-fuzz: N cases, M failed passes`.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
import shutil
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_fuzz_abuse as abuse  # noqa: E402

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def run(args, env=None):
    out = subprocess.run(args, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"api-fuzz: {' '.join(args[1:])} failed: {out.stderr.strip()}")
    return out.stdout.strip()


HOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api-fuzz-hooks.py")
CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api-fuzz.toml")
ROLES = ["operator", "legal", "trust-safety", "auditor"]
STAFF_CHANGES = {"rotate_staff", "change_staff_role", "revoke_staff"}
# Accounts the hooks name where an operation needs one that exists: `peer` for lookups,
# claims, inventories and as a message's recipient, `mover` for region moves.
USERS = ["peer", "mover"]
# Accounts the trust-safety pass's abuse reports are made with (.ci/api_fuzz_abuse.py).
ABUSE_USERS = ["spammer", "reporter", "informant"]
# Lawful requests entered for the legal pass to approve, and as many for each other step
# (reject, disclose, close); staff members for the staff changes to revoke.
POOL = 20


def enter_request(pli, env):
    """A lawful request through `pli admin request new`; returns its id."""
    return run(
        [pli, "admin", "request", "new", "--authority", "api fuzz", "--country", "FR",
         "--basis", "court-order", "--doc-ref", "fuzz", "--doc-sha256", "ab" * 32,
         "--target", "peer", "--data", "subscriber"],
        env,
    )


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


def admin_operations(url):
    """Each role's admin operation ids, from the description's `x-pli-roles`."""
    spec = get_json(f"{url}/openapi.json")
    by_role = {role: [] for role in ROLES}
    for path, item in spec["paths"].items():
        for operation in item.values():
            if not isinstance(operation, dict) or not path.startswith("/admin/"):
                continue
            roles = operation.get("x-pli-roles")
            if not roles:
                sys.exit(f"api-fuzz: {path} does not say which roles may call it")
            for role in roles:
                by_role[role].append(operation["operationId"])
    return by_role


def cosign_once(pli, key, state, url):
    """Runs the witness until it has co-signed a checkpoint; returns its cosignature body."""
    witness = subprocess.Popen(
        [pli, "audit", "witness", "--key", key, "--state", state, "--server", url,
         "--interval", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        vkey = witness.stdout.readline().split()[1]
        deadline = time.time() + 60
        while time.time() < deadline:
            line = witness.stdout.readline()
            found = re.match(r"co-signed the checkpoint of size (\d+)", line)
            if found:
                size = int(found.group(1))
                break
            if not line:
                sys.exit("api-fuzz: the witness stopped before co-signing")
        else:
            sys.exit("api-fuzz: the witness co-signed nothing within a minute")
    finally:
        witness.terminate()
        witness.wait(timeout=30)
    name = vkey.split("+")[0]
    for note in get_json(f"{url}/v1/audit/checkpoints?from={size}&limit=1")["checkpoints"]:
        for line in note.splitlines():
            if line.startswith(f"\u2014 {name} "):
                return {"size": size, "witness": vkey, "cosignature": line}
    sys.exit("api-fuzz: the server does not serve the witness's cosignature")


def main():
    pli = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/debug/pli")
    examples = os.environ.get("PLI_API_FUZZ_EXAMPLES", "25")
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "data")
        # The witness's key, as the server is to list it: `pli audit witness` prints it first,
        # before it tries the server (none yet: the port is closed).
        key = os.path.join(work, "witness.key")
        state = os.path.join(work, "witness.state")
        first = subprocess.Popen(
            [pli, "audit", "witness", "--key", key, "--state", state,
             "--server", "http://127.0.0.1:9"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        vkey = first.stdout.readline().split()[1]
        first.terminate()
        first.wait(timeout=30)
        server = subprocess.Popen(
            [pli, "serve", "--data", data, "--listen", "127.0.0.1:0", "--pow-difficulty", "4",
             "--registrations-per-hour", "1000", "--region", "eu", "--region", "us",
             "--witness", vkey],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # The server prints its bound address once it is listening (on stderr, with
            # its logs, which a thread then keeps draining so the server never blocks).
            first = server.stderr.readline()
            log = open(os.path.join(work, "server.log"), "w")
            threading.Thread(target=shutil.copyfileobj, args=(server.stderr, log), daemon=True).start()
            match = re.search(r"(http://\S+)", first)
            if not match:
                sys.exit(f"api-fuzz: the server did not start: {first!r}")
            url = match.group(1)
            devices = {}
            homes = {}
            for name in ["fuzzer", "deleter"] + USERS + ABUSE_USERS:
                home = homes[name] = os.path.join(work, name)
                run([pli, "register", "--home", home, "--server", url, name])
                devices[name] = (
                    sqlite3.connect(os.path.join(home, "client.db"))
                    .execute("SELECT device_id, secret FROM device")
                    .fetchone()
                )
            # Staff: the operator from `admin init`, one member per other role, and for the
            # staff changes an operator of their own and a spare member to act on.
            creds = {"operator": run([pli, "admin", "init", "--data", data])}
            env = dict(os.environ, PLI_STAFF_CRED=creds["operator"], PLI_ADMIN_URL=url)
            for name, role in [(r, r) for r in ROLES[1:]] + [
                ("second-legal", "legal"), ("second-trust-safety", "trust-safety"),
                ("staff-changer", "operator"), ("spare", "auditor")
            ]:
                creds[name] = os.path.join(work, f"{name}.cred")
                run([pli, "admin", "staff", "add", name, "--role", role, "--out", creds[name]], env)
            staff = {}
            for name, path in creds.items():
                with open(path) as f:
                    cred = json.load(f)
                staff[name] = (cred["staff_id"], f"PliStaff {cred['staff_id']}.{cred['secret']}")
            # The devices registered so far, in the key directory's first epoch.
            run([pli, "admin", "directory", "publish"], env)
            # What the legal, trust-safety and staff-change passes act on, made just before
            # each of them (an earlier pass may have closed or revoked what came before).
            entering = dict(env, PLI_STAFF_CRED=creds["trust-safety"])

            def reviewed(*steps):
                """A request entered by trust-safety, then taken through `steps` by legal staff."""
                request = enter_request(pli, entering)
                for cred, step in steps:
                    run([pli, "admin", "request", *step, request], dict(env, PLI_STAFF_CRED=creds[cred]))
                return request

            def pool(*steps):
                return ",".join(reviewed(*steps) for _ in range(POOL))

            approval = ("approve",)
            rejection = ("reject", "--reason", "out of scope")

            def requests_to_review():
                return {
                    "PLI_FUZZ_EDITABLE": reviewed(),
                    "PLI_FUZZ_APPROVABLE": pool(),
                    "PLI_FUZZ_REJECTABLE": pool(),
                    # Approved by both legal reviewers, the pass's own one among them.
                    "PLI_FUZZ_DISCLOSABLE": pool(("legal", approval), ("second-legal", approval)),
                    "PLI_FUZZ_CLOSABLE": pool(("second-legal", rejection)),
                }

            def trust_safety_work():
                # A request to edit; reports to read and resolve, appeals to decide.
                second = dict(env, PLI_STAFF_CRED=creds["second-trust-safety"])
                made = abuse.make(pli, run, homes, second)
                return dict(made, PLI_FUZZ_EDITABLE=reviewed())

            def staff_to_revoke():
                ids = []
                for i in range(POOL):
                    out = os.path.join(work, f"revocable-{i}.cred")
                    run([pli, "admin", "staff", "add", f"revocable-{i}", "--role", "auditor",
                         "--out", out], env)
                    with open(out) as f:
                        ids.append(str(json.load(f)["staff_id"]))
                return {"PLI_FUZZ_REVOCABLE": ",".join(ids)}

            cosignature = cosign_once(pli, key, state, url)
            by_role = admin_operations(url)

            def ids(operations):
                return [arg for op in sorted(operations) for arg in ["--include-operation-id", op]]

            device = "Pli {}.{}"
            no_setup = dict
            def user_work():
                # Reports the fuzzer can file, and actions on it to appeal.
                second = dict(env, PLI_STAFF_CRED=creds["second-trust-safety"])
                return abuse.make_for_user(pli, run, homes, second)

            passes = [
                ("user API", device.format(*devices["fuzzer"]), ["--include-path-regex", "^/v1/(?!accounts/self$)"], user_work),
            ]
            setups = {"legal": requests_to_review, "trust-safety": trust_safety_work}
            for role in ROLES:
                passes.append(
                    (f"admin API as {role}", staff[role][1], ids(set(by_role[role]) - STAFF_CHANGES),
                     setups.get(role, no_setup))
                )
            # Their producers too (add, list), for the stateful phase's staff ids.
            changes = STAFF_CHANGES | {"add", "list_staff"}
            passes += [
                ("staff changes as operator", staff["staff-changer"][1], ids(changes), staff_to_revoke),
                ("account deletion", device.format(*devices["deleter"]), ["--include-path-regex", "^/v1/accounts/self$"], no_setup),
            ]
            hook_env = dict(
                os.environ,
                SCHEMATHESIS_HOOKS=HOOKS,
                PLI_FUZZ_URL=url,
                PLI_FUZZ_USERS=json.dumps(USERS),
                PLI_FUZZ_RECIPIENT=str(devices["peer"][0]),
                PLI_FUZZ_MOVER="mover",
                PLI_FUZZ_COSIGNATURE=json.dumps(cosignature),
                PLI_FUZZ_KEEP_STAFF=str(staff["staff-changer"][0]),
                PLI_FUZZ_SPARE_STAFF=str(staff["spare"][0]),
            )
            only = re.compile(os.environ.get("PLI_API_FUZZ_PASSES", ""))
            cases = 0
            failed = 0
            for title, auth, selection, setup in passes:
                if not only.search(title):
                    continue
                print(f"== schemathesis: {title}", flush=True)
                result = subprocess.run(
                    [
                        "schemathesis", "--config-file", CONFIG, "run", f"{url}/openapi.json",
                        "--header", f"Authorization: {auth}",
                        *selection,
                        "--checks", CHECKS,
                        "--max-examples", examples,
                        # One worker: with several, hypothesis parses lambda sources from
                        # threads at once, which CPython 3.11's ast can crash on
                        # ("AST constructor recursion depth mismatch"), failing the run
                        # for a reason that is not the API's.
                        "--workers", "1",
                        "--no-color",
                        "--generation-database", "none",
                        "--output-sanitize", "true",
                    ],
                    capture_output=True,
                    text=True,
                    env=dict(hook_env, **setup()),
                )
                print(result.stdout[-6000:], result.stderr[-2000:], flush=True)
                found = re.search(r"(\d+) generated", result.stdout)
                cases += int(found.group(1)) if found else 0
                if result.returncode != 0:
                    failed += 1
            if server.poll() is not None:
                sys.exit("api-fuzz: the server exited during the run")
            print(f"api-fuzz: {cases} cases, {failed} failed passes")
            sys.exit(1 if failed else 0)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
