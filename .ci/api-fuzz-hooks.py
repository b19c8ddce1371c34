"""Schemathesis hooks for `.ci/api-fuzz.py` (loaded through SCHEMATHESIS_HOOKS; see there).

Two things random data cannot do, supplied from the environment the script sets:

- PLI_FUZZ_COSIGNATURE: a real witness cosignature (JSON body), added to the description
  as the example of `POST /v1/audit/cosignatures`, so the examples phase gets past the
  witness check: no generated signature verifies.
- PLI_FUZZ_KEEP_STAFF / PLI_FUZZ_SPARE_STAFF: the staff changes (rotate, role, revoke) find
  staff ids in `GET /admin/v1/staff`, the caller's own among them; rotating or revoking the
  caller would leave the rest of the pass unauthorised. A call aimed at the caller goes to
  the spare member instead (acting on oneself is covered by `crates/pli/tests`).
"""

import json
import os

import schemathesis

STAFF_CHANGES = {
    "/admin/v1/staff/{staff_id}/rotate",
    "/admin/v1/staff/{staff_id}/role",
    "/admin/v1/staff/{staff_id}/revoke",
}


@schemathesis.hook
def before_load_schema(context, raw_schema):
    cosignature = os.environ.get("PLI_FUZZ_COSIGNATURE")
    if not cosignature:
        return
    operation = raw_schema["paths"]["/v1/audit/cosignatures"]["post"]
    media = operation["requestBody"]["content"]["application/json"]
    media["example"] = json.loads(cosignature)


@schemathesis.hook
def before_call(context, case, **kwargs):
    keep = os.environ.get("PLI_FUZZ_KEEP_STAFF")
    if not keep or case.operation.path not in STAFF_CHANGES:
        return
    if str(case.path_parameters.get("staff_id")) == keep:
        case.path_parameters["staff_id"] = int(os.environ["PLI_FUZZ_SPARE_STAFF"])
