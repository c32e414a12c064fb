"""Who is calling: bearer JWTs verified by the gateway and again by every service.

The gateway authenticates; services do not trust a header they cannot verify, so the
same signed token travels with the request and each service checks its signature,
issuer, audience and expiry before any handler runs (defence in depth).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from alliance_common.errors import DomainError, Forbidden


class Role(StrEnum):
    MEMBER_ADMIN = "member_admin"  # manages its own organisation's membership and data
    MEMBER_STAFF = "member_staff"  # works for a member organisation
    LICENSEE = "licensee"  # an outside (non-member) licensee
    SECRETARIAT = "secretariat"  # operates the platform
    COUNCIL = "council"  # decides admissions, approves projects
    EXPERT = "expert"  # evaluates patents, reviews drafts
    AGENCY = "agency"  # a government agency's machine client


STAFF = frozenset({Role.SECRETARIAT, Role.COUNCIL})
ORGANISATION_ROLES = frozenset({Role.MEMBER_ADMIN, Role.MEMBER_STAFF, Role.LICENSEE})


class Unauthenticated(DomainError):
    status = 401
    title = "Unauthorized"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    org_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    kind: str = "user"  # "user" or "machine"
    name: str | None = None

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF)

    def can_access_org(self, org_id: str) -> bool:
        """Staff see every organisation; anyone else only their own."""
        return self.is_staff or (self.org_id is not None and self.org_id == org_id)

    def require_org(self, org_id: str) -> None:
        if not self.can_access_org(org_id):
            raise Forbidden("you may only act on your own organisation's records")


class TokenVerifier:
    def __init__(self, public_key_pem: str, issuer: str, audience: str) -> None:
        self.key = public_key_pem
        self.issuer = issuer
        self.audience = audience

    @classmethod
    def from_file(cls, path: Path, issuer: str, audience: str) -> TokenVerifier:
        return cls(path.read_text(), issuer, audience)

    def verify(self, token: str) -> Principal:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the bearer token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid bearer token: {exc}") from exc
        try:
            roles = frozenset(Role(r) for r in claims.get("roles", []))
        except ValueError as exc:
            raise Unauthenticated(f"invalid bearer token: {exc}") from exc
        return Principal(
            subject=str(claims["sub"]),
            roles=roles,
            org_id=claims.get("org"),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            kind=str(claims.get("typ", "user")),
            name=claims.get("name"),
        )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    return token.strip()


def get_principal(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    principal = verifier.verify(bearer_token(request))
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(principal: Principal, *roles: Role) -> None:
    if not principal.has_any(*roles):
        raise Forbidden(f"requires one of the roles: {', '.join(sorted(r.value for r in roles))}")


def correlation_id(request: Request) -> str | None:
    """The gateway's request id; stamped on the events a request causes."""
    return request.headers.get("x-request-id")


CorrelationId = Annotated[str | None, Depends(correlation_id)]
