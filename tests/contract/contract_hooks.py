"""Schemathesis hooks for the contract run (loaded through ``SCHEMATHESIS_HOOKS``).

Every test case is sent with the token of one role: the role is chosen from the case's own
content, so a case keeps its role when it is replayed or shrunk, and the operations' cases are
spread over all roles. ``CONTRACT_TOKENS`` holds ``{role: token}``; when ``CONTRACT_ROLES_SEEN``
names a file, the number of cases sent per role is written there at exit.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import zlib
from typing import Any

import schemathesis

TOKENS: dict[str, str] = json.loads(os.environ.get("CONTRACT_TOKENS", "{}"))
ROLES = sorted(TOKENS)
SEEN: collections.Counter[str] = collections.Counter()


def role_of(case: Any) -> str:
    key = repr((case.method, case.path, case.path_parameters, case.query, case.body)).encode()
    return ROLES[zlib.crc32(key) % len(ROLES)]


@schemathesis.auth(refresh_interval=None)
class RoleTokens:
    def get(self, case: Any, ctx: Any) -> dict[str, str]:
        return TOKENS

    def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
        role = role_of(case)
        SEEN[role] += 1
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data[role]}"}


def _write_seen() -> None:
    path = os.environ.get("CONTRACT_ROLES_SEEN")
    if path:
        with open(path, "w") as out:
            json.dump(dict(SEEN), out)


atexit.register(_write_seen)
