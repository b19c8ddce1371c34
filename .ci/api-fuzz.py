#!/usr/bin/env python3
"""API fuzzing: schemathesis against a live `pli serve`, held to its own /openapi.json.

Checks: no 5xx, and every answer's status, content type, headers and body match the
description. Four passes: the user API with a registered device's credentials, the admin API
as an operator and as a legal reviewer (so both allowed and denied calls run), and
account deletion on an account of its own.

Usage: .ci/api-fuzz.py [path to the pli binary]   (default target/debug/pli)
Environment: PLI_API_FUZZ_EXAMPLES (test cases per operation and phase, default 25).
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
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=env)
    return out.stdout.strip()


def main():
    pli = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/debug/pli")
    examples = os.environ.get("PLI_API_FUZZ_EXAMPLES", "25")
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "data")
        server = subprocess.Popen(
            [pli, "serve", "--data", data, "--listen", "127.0.0.1:0", "--pow-difficulty", "4"],
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
            devices = []
            for name in ["fuzzer", "deleter"]:
                home = os.path.join(work, name)
                run([pli, "register", "--home", home, "--server", url, name])
                devices.append(
                    sqlite3.connect(os.path.join(home, "client.db"))
                    .execute("SELECT device_id, secret FROM device")
                    .fetchone()
                )
            operator = run([pli, "admin", "init", "--data", data])
            legal = os.path.join(work, "legal.cred")
            env = dict(os.environ, PLI_STAFF_CRED=operator, PLI_ADMIN_URL=url)
            run([pli, "admin", "staff", "add", "reviewer", "--role", "legal", "--out", legal], env)
            staff = {}
            for name, path in [("operator", operator), ("legal", legal)]:
                with open(path) as f:
                    cred = json.load(f)
                staff[name] = f"PliStaff {cred['staff_id']}.{cred['secret']}"

            # Deleting the account would leave the rest of the user pass unauthorised: it
            # runs last, on an account of its own.
            passes = [
                ("user API", "Pli {}.{}".format(*devices[0]), "^/v1/(?!accounts/self$)"),
                ("admin API as operator", staff["operator"], "^/admin/"),
                ("admin API as legal", staff["legal"], "^/admin/"),
                ("account deletion", "Pli {}.{}".format(*devices[1]), "^/v1/accounts/self$"),
            ]
            cases = 0
            failed = 0
            for title, auth, paths in passes:
                print(f"== schemathesis: {title}", flush=True)
                result = subprocess.run(
                    [
                        "schemathesis", "run", f"{url}/openapi.json",
                        "--header", f"Authorization: {auth}",
                        "--include-path-regex", paths,
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
