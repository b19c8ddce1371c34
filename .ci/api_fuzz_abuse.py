"""What the trust-safety pass of `.ci/api-fuzz.py` needs to reach the abuse operations'
core logic, and the hooks that hand it out (imported by `.ci/api-fuzz-hooks.py`).

Before the pass, `make` has `spammer` send `reporter` messages and `reporter` report each
one (`pli report`, so every report verifies against its franking stamp); half the reports
are resolved with a warning by a second trust & safety member, and `spammer` appeals each
of those actions (`pli appeal`), so the pass (as the first member) may decide them:

- GET /admin/v1/abuse-reports/{id}, POST .../resolve: a stored report (PLI_FUZZ_REPORTS);
  a resolution whose action and days the rules refuse becomes a warning;
- POST /admin/v1/accounts/{username}/reinstate: `spammer`, with a reason that is not blank;
- POST /admin/v1/actions/{id}/appeal/decide: the next appealed action (PLI_FUZZ_APPEALED).

Before the user pass (as `fuzzer`), `make_for_user` has `spammer` send `fuzzer` messages,
which `fuzzer` receives (`pli sync`); each one's franking values, read from `fuzzer`'s own
client database, make a report body (PLI_FUZZ_REPORT_BODIES) for POST /v1/reports, each one
filed once. And `informant` reports messages `fuzzer` sent, which the second trust & safety
member resolves with a warning: actions on `fuzzer` for POST /v1/me/actions/{id}/appeal to
appeal, one each (PLI_FUZZ_MY_ACTIONS).
"""

import base64
import json
import os
import random
import sqlite3

# Reports made, and as many appealed actions. Each reporting account files fewer than the
# server's 20 reports an hour: `reporter` for the trust-safety pass, `informant` for the user
# pass.
POOL = 8
# Report bodies for the user pass: its coverage phase alone files about as many as POOL.
BODIES = 3 * POOL
ACTIONS = {"dismiss", "warn", "suspend", "ban"}


def make(pli, run, homes, env):
    """Reports and appealed actions; the variables the hooks read."""
    reports = []
    for i in range(2 * POOL):
        run([pli, "--home", homes["spammer"], "send", "@reporter", f"fuzz offer {i}"])
        run([pli, "--home", homes["reporter"], "sync"])
        filed = run([pli, "--home", homes["reporter"], "--json", "report", "@spammer",
                     "--last", "1", "--reason", "spam"])
        reports.append(str(json.loads(filed.splitlines()[0])["id"]))
    appealed = []
    for report in reports[POOL:]:
        action = run([pli, "--json", "admin", "reports", "resolve", report, "--action", "warn",
                      "--reason", "fuzz"], env)
        action = str(json.loads(action)["id"])
        run([pli, "--home", homes["spammer"], "appeal", action, "fuzz appeal"])
        appealed.append(action)
    return {"PLI_FUZZ_REPORTS": ",".join(reports[:POOL]), "PLI_FUZZ_APPEALED": ",".join(appealed)}


def _report_bodies(home):
    """Report bodies for every franked message `home`'s device received, one message each."""
    rows = sqlite3.connect(os.path.join(home, "client.db")).execute(
        "SELECT group_id, sender, sender_device, text, message_id, frank_key, frank_stamp"
        " FROM messages WHERE outgoing = 0 AND frank_key IS NOT NULL"
    )
    b64 = lambda data: base64.b64encode(data).decode()
    bodies = []
    for group, sender, device, text, message_id, key, stamp in rows:
        message = {
            "text": text, "sender_device": device, "message_id": b64(message_id),
            "franking_key": b64(key), "key_id": int.from_bytes(stamp[:4], "big"),
            "day": int.from_bytes(stamp[4:8], "big"), "tag": b64(stamp[8:]),
        }
        bodies.append({"conversation": group.hex(), "reported": sender, "reason": "spam",
                       "messages": [message]})
    return bodies


def make_for_user(pli, run, homes, env):
    """Reports `fuzzer` can file, and actions on `fuzzer` it can appeal."""
    for i in range(BODIES):
        run([pli, "--home", homes["spammer"], "send", "@fuzzer", f"fuzz offer to you {i}"])
    run([pli, "--home", homes["fuzzer"], "sync"])
    actions = []
    for i in range(POOL):
        run([pli, "--home", homes["fuzzer"], "send", "@informant", f"fuzz reply {i}"])
        run([pli, "--home", homes["informant"], "sync"])
        filed = run([pli, "--home", homes["informant"], "--json", "report", "@fuzzer",
                     "--last", "1", "--reason", "spam"])
        report = str(json.loads(filed.splitlines()[0])["id"])
        action = run([pli, "--json", "admin", "reports", "resolve", report, "--action", "warn",
                      "--reason", "fuzz"], env)
        actions.append(str(json.loads(action)["id"]))
    return {
        "PLI_FUZZ_REPORT_BODIES": json.dumps(_report_bodies(homes["fuzzer"])),
        "PLI_FUZZ_MY_ACTIONS": ",".join(actions),
    }


_filed = []


def valid_report(case):
    """The next report body not filed yet; the last one again once all were (a replay)."""
    bodies = json.loads(os.environ.get("PLI_FUZZ_REPORT_BODIES", "[]"))
    if len(_filed) < len(bodies):
        _filed.append(bodies[len(_filed)])
    if _filed:
        case.body = dict(_filed[-1], reason=case.body.get("reason", "spam"))
        if case.body["reason"] not in {"spam", "harassment", "illegal", "other"}:
            case.body["reason"] = "spam"


def valid_appeal(case, next_of):
    action = next_of("PLI_FUZZ_MY_ACTIONS")
    if action is not None:
        case.path_parameters["id"] = int(action)
    _reason(case.body, "text")


def _reason(body, field="reason"):
    if not isinstance(body.get(field), str) or not body[field].strip() or len(body[field].encode()) > 2000:
        body[field] = "fuzz"


def _report(case):
    reports = [r for r in os.environ.get("PLI_FUZZ_REPORTS", "").split(",") if r]
    case.path_parameters["id"] = int(random.choice(reports))


def valid_show(case):
    _report(case)


def valid_resolve(case):
    _report(case)
    body = case.body
    if body.get("action") not in ACTIONS:
        body["action"] = "warn"
    if body["action"] == "suspend":
        days = body.get("days")
        body["days"] = days if isinstance(days, int) and 1 <= days <= 3650 else 7
    else:
        body.pop("days", None)
    _reason(body)


def valid_reinstate(case):
    case.path_parameters["username"] = "spammer"
    _reason(case.body)


def valid_decision(case, next_of):
    action = next_of("PLI_FUZZ_APPEALED")
    if action is not None:
        case.path_parameters["id"] = int(action)
    _reason(case.body)
