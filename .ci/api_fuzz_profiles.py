"""Valid cases of the profile operations for `.ci/api-fuzz-hooks.py` (see its docstring).

Each runs as the hooks' own account (`account()` there):

- GET /v1/users/{username}/profile: that account, which stores a sealed profile (random
  bytes: the server cannot tell them from one) just before, since a DELETE case may have
  removed the last.
"""

import secrets


def valid_profile_read(case, api, account):
    api(
        "PUT",
        "/v1/me/profile",
        auth=account.auth,
        data=secrets.token_bytes(64),
    )
    case.path_parameters["username"] = account.username


VALID = {
    ("GET", "/v1/users/{username}/profile"): valid_profile_read,
}
