"""The local token issuer: RS256 JWTs for portal users (development) and machine clients.

In production, portal users come from the alliance's identity provider; the gateway and
the services only need its public key. Machine clients use OAuth2 client credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Iterable

import jwt

from alliance_common.auth import Role
from gateway.settings import MachineClient


class Issuer:
    def __init__(self, private_key_pem: str, issuer: str, audience: str, ttl_s: int) -> None:
        self.key = private_key_pem
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = ttl_s

    def issue(
        self,
        subject: str,
        roles: Iterable[Role],
        *,
        org_id: str | None = None,
        name: str | None = None,
        kind: str = "user",
        scopes: Iterable[str] = (),
    ) -> str:
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_s,
            "jti": str(uuid.uuid4()),
            "roles": sorted(r.value for r in roles),
            "typ": kind,
        }
        if org_id:
            claims["org"] = org_id
        if name:
            claims["name"] = name
        scope = " ".join(sorted(scopes))
        if scope:
            claims["scope"] = scope
        return jwt.encode(claims, self.key, algorithm="RS256")


def secret_matches(client: MachineClient, secret: str) -> bool:
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return hmac.compare_digest(digest, client.secret_sha256)
