"""Who is calling: bearer JWTs verified by the gateway and again by every service.

The gateway authenticates; services do not trust a header they cannot verify, so the
same signed token travels with the request and each service checks its signature,
issuer, audience and expiry before any handler runs (defence in depth).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
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


# The only two answers to a bad token: fixed texts that say what to do, never the JWT library's
# message (which names the check that failed and helps whoever is forging tokens).
EXPIRED_TOKEN = "the bearer token has expired; get a new one (POST /auth/token for machine clients)"
INVALID_TOKEN = (
    "the bearer token is not valid here; send a token issued by the alliance's sign-in "
    "or POST /auth/token, as 'Authorization: Bearer <token>'"
)


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
    """Verifies RS256 bearer tokens; remembers the tokens it verified until they expire.

    Why the cache is safe: for a given key, issuer and audience, verifying the same token
    string always gives the same claims and the same answer, except for the checks that
    depend on the clock. Of those, ``nbf`` and ``iat`` can only turn from failing to passing
    as time goes on, so a token that passed once still passes; ``exp`` is the only one that
    turns a pass into a failure, and an entry is used only while ``now < exp`` (without the
    5 s leeway, so the cache never accepts what a fresh verification would refuse). After
    that the token is verified again in full (and refused once past the leeway). Failures
    are never cached. The cache is bounded (oldest entries go first) and keyed by the whole
    token, signature included, so a forged or altered token never hits a cached entry.
    """

    def __init__(
        self,
        public_key_pem: str,
        issuer: str,
        audience: str,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Parsed once: PyJWT would otherwise load the PEM on every decode.
        key = serialization.load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, RSAPublicKey):
            raise ValueError("the token issuer's key must be an RSA public key (RS256)")
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self.cache_size = cache_size
        self.clock = clock
        self._verified: dict[str, tuple[float, Principal]] = {}

    @classmethod
    def from_file(cls, path: Path, issuer: str, audience: str) -> TokenVerifier:
        return cls(path.read_text(), issuer, audience)

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        now = self.clock()
        if cached is not None:
            if now < cached[0]:
                return cached[1]
            del self._verified[token]
        expires_at, principal = self._verify(token)
        if now < expires_at:
            if len(self._verified) >= self.cache_size:
                del self._verified[next(iter(self._verified))]  # the oldest entry
            self._verified[token] = (expires_at, principal)
        return principal

    def _verify(self, token: str) -> tuple[float, Principal]:
        """The full verification (signature, issuer, audience, times, roles): the token's exp and its principal."""
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
            raise Unauthenticated(EXPIRED_TOKEN) from exc
        except jwt.PyJWTError as exc:  # the library's own text (which check failed) is not told
            raise Unauthenticated(INVALID_TOKEN) from exc
        try:
            roles = frozenset(Role(r) for r in claims.get("roles", []))
        except ValueError as exc:
            raise Unauthenticated(INVALID_TOKEN) from exc
        return float(claims["exp"]), Principal(
            subject=str(claims["sub"]),
            roles=roles,
            org_id=claims.get("org"),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            kind=str(claims.get("typ", "user")),
            name=claims.get("name"),
        )


def bearer_token(request: Request) -> str:
    return bearer_token_of(request.headers.get("authorization", ""))


def bearer_token_of(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    return token.strip()


# The dependencies below are `async def` on purpose: FastAPI runs a plain `def` dependency in
# its thread pool, one thread hand-off per request for what is a few microseconds of work
# (a cached token) or one RS256 verification (~0.1 ms, short enough for the event loop).
async def get_principal(request: Request) -> Principal:
    return principal_of(request)


def principal_of(request: Request) -> Principal:
    """The verified caller of ``request`` (also remembered in ``request.state.principal``)."""
    verifier: TokenVerifier = request.app.state.verifier
    principal = verifier.verify(bearer_token(request))
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(principal: Principal, *roles: Role) -> None:
    if not principal.has_any(*roles):
        raise Forbidden(f"requires one of the roles: {', '.join(sorted(r.value for r in roles))}")


async def correlation_id(request: Request) -> str | None:
    """The gateway's request id; stamped on the events a request causes."""
    return request.headers.get("x-request-id")


CorrelationId = Annotated[str | None, Depends(correlation_id)]
