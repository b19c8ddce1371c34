"""Valid cases of the attachment operations for `.ci/api-fuzz-hooks.py` (see its docstring).

Each runs as the hooks' own account (`account()` there), which uploads attachments for the
peer's device (PLI_FUZZ_RECIPIENT):

- POST /v1/attachments: the generated size brought within 16..1,015 bytes (a tiny file),
  for the recipient device.
- GET /v1/attachments/{id}, GET .../chunks/{index}, POST .../fetched: an attachment this
  account uploaded whole before (one chunk of 16 bytes, an empty file's tag); the uploader
  may read it back, and its "fetched" changes nothing (only recipients' count).
- PUT .../chunks/{index}: chunk 0 of a fresh 16-byte attachment, 16 bytes.
"""

import os
import secrets

_uploaded = []


def _recipient():
    return int(os.environ["PLI_FUZZ_RECIPIENT"])


def _create(api, auth, size=16):
    return api("POST", "/v1/attachments", auth=auth, json={"size": size, "recipients": [_recipient()]})["id"]


def _uploaded_one(api, auth):
    if not _uploaded:
        attachment = _create(api, auth)
        api("PUT", f"/v1/attachments/{attachment}/chunks/0", auth=auth, data=secrets.token_bytes(16))
        _uploaded.append(attachment)
    return _uploaded[0]


def valid_create(case, api, auth):
    size = case.body.get("size") if isinstance(case.body, dict) else None
    try:
        size = int(size)
    except (TypeError, ValueError):
        size = 0
    case.body = {"size": 16 + size % 1000, "recipients": [_recipient()]}


def valid_uploaded(case, api, auth):
    case.path_parameters["id"] = _uploaded_one(api, auth)
    if "index" in case.path_parameters:
        case.path_parameters["index"] = 0


def valid_chunk_upload(case, api, auth):
    case.path_parameters["id"] = _create(api, auth)
    case.path_parameters["index"] = 0
    # Of the type it was generated as: schemathesis takes a body of another type for a
    # negative case.
    case.body = secrets.token_bytes(16) if isinstance(case.body, bytes) else secrets.token_hex(8)


VALID = {
    ("POST", "/v1/attachments"): valid_create,
    ("GET", "/v1/attachments/{id}"): valid_uploaded,
    ("GET", "/v1/attachments/{id}/chunks/{index}"): valid_uploaded,
    ("POST", "/v1/attachments/{id}/fetched"): valid_uploaded,
    ("PUT", "/v1/attachments/{id}/chunks/{index}"): valid_chunk_upload,
}
