"""Who is calling: bearer JWTs verified by the gateway and again by every service.

The gateway authenticates; services do not trust a header they cannot verify, so the
same signed token travels with the request and each service checks its signature,
issuer, audience and expiry before any handler runs (defence in depth).

What a route admits is declared on the route itself, once, as its principal dependency:

- ``CurrentPrincipal``: portal users only (a bearer token of a person). A machine token is
  refused with 403 in the service itself. Every mutating route uses it: machine clients are
  read-only integrators.
- ``Reader(scope)`` (``LicensingReader``, ``StandardsReader``, ...): portal users, and machine
  clients whose token carries ``scope``; a machine token without it is refused with 403.
- ``Writer(scope)`` for a write scope (``WRITE_SCOPES``: ``webhooks:manage``): the same, on a
  route that changes something: the one kind of route a machine token may write through.

FastAPI turns these declarations into each operation's ``security`` in the service's OpenAPI:
``bearer`` for the first, ``bearer`` or ``oauth2`` (client credentials, with the scope) for the
second, so the document and the check come from the same line of code. ``SCOPES`` is the
catalogue of scopes a machine client can be granted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2

from alliance_common.errors import DomainError, Forbidden

log = logging.getLogger(__name__)


class Role(StrEnum):
    MEMBER_ADMIN = "member_admin"  # manages its own organisation's membership and data
    MEMBER_STAFF = "member_staff"  # works for a member organisation
    LICENSEE = "licensee"  # an outside (non-member) licensee
    SECRETARIAT = "secretariat"  # operates the platform
    COUNCIL = "council"  # decides admissions, approves projects
    EXPERT = "expert"  # evaluates patents, reviews drafts
    AGENCY = "agency"  # a government agency's machine client


STAFF = frozenset({Role.SECRETARIAT, Role.COUNCIL})  # the alliance's organs (not experts)
ORGANISATION_ROLES = frozenset({Role.MEMBER_ADMIN, Role.MEMBER_STAFF, Role.LICENSEE})


class Scope(StrEnum):
    """What a machine client's token may do (OAuth2 scopes): read, and write only where a write scope says so."""

    LICENSING_READ = "licensing:read"
    STANDARDS_READ = "standards:read"
    TRAINING_READ = "training:read"
    STATISTICS_READ = "statistics:read"
    LICENCE_FILINGS_READ = "licence-filings:read"
    EVENTS_READ = "events:read"
    WEBHOOKS_MANAGE = "webhooks:manage"


# The catalogue: every scope a machine client can be granted, and what it reads. The gateway
# issues no other (its /auth/token refuses an unknown scope); the README's table says the same.
SCOPES: dict[str, str] = {
    Scope.LICENSING_READ: "licensing: pool programmes and each programme's list of essential patents",
    Scope.STANDARDS_READ: "standards: projects, their history, the lifecycle table, and filing records",
    Scope.TRAINING_READ: "training: the published training sessions",
    Scope.STATISTICS_READ: "statistics and the annual report (aggregates); the public membership events of the feed",
    Scope.LICENCE_FILINGS_READ: "licensing: licence-contract filing records (licensors, licensee, patents, deadline, "
    "filing status)",
    Scope.EVENTS_READ: "the change feed and the event archive (integration), each event type as the other scopes allow",
    Scope.WEBHOOKS_MANAGE: "webhook subscriptions (integration): register, change, replay (a write scope)",
}

# What a machine token may do without a write scope: read. The gateway applies the same rule
# before proxying.
MACHINE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The scopes that let a machine write, on exactly the routes that state them (``Writer``).
WRITE_SCOPES = frozenset({Scope.WEBHOOKS_MANAGE.value})

TOKEN_URL = "/auth/token"  # the gateway's OAuth2 token endpoint (client credentials)


def machine_may_call(method: str, scopes: Collection[str] = ()) -> bool:
    """Machine clients are read-only integrators (only safe methods), unless ``scopes`` (a token's,
    or a route's) hold a write scope: then it is the route's to decide (``authorise``)."""
    return method.upper() in MACHINE_METHODS or bool(WRITE_SCOPES.intersection(scopes))


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
        """The alliance's organs (secretariat, council): they read every organisation's records.

        Reading only: acting for an organisation is the secretariat's (``may_act_for``). The
        council decides (admissions, expulsions, projects), it does not run members' accounts.
        """
        return bool(self.roles & STAFF)

    @property
    def is_secretariat(self) -> bool:
        """The secretariat operates the platform: it alone acts on an organisation's behalf."""
        return Role.SECRETARIAT in self.roles and self.kind != "machine"

    def can_access_org(self, org_id: str) -> bool:
        """Read access: staff see every organisation; anyone else only their own."""
        return self.is_staff or (self.org_id is not None and self.org_id == org_id)

    def may_act_for(self, org_id: str) -> bool:
        """Acting for ``org_id`` (its users, its withdrawal, its patents): the secretariat, or its own people."""
        return self.is_secretariat or (self.org_id is not None and self.org_id == org_id)

    def require_org(self, org_id: str) -> None:
        """Refuse unless the caller may act for ``org_id`` (``may_act_for``)."""
        if not self.may_act_for(org_id):
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
        self._setup(issuer, audience, cache_size, clock)

    def _setup(self, issuer: str, audience: str, cache_size: int, clock: Callable[[], float]) -> None:
        self.issuer = issuer
        self.audience = audience
        self.cache_size = cache_size
        self.clock = clock
        self._verified: dict[str, tuple[float, Principal]] = {}

    @classmethod
    def from_file(cls, path: Path, issuer: str, audience: str) -> TokenVerifier:
        return cls(path.read_text(), issuer, audience)

    def verify(self, token: str) -> Principal:
        """Verify on the calling thread (a key fetch, if one is due, too: for sync callers and tools)."""
        return self._cached(token) or self._verify_and_keep(token, fetch=True)

    async def averify(self, token: str) -> Principal:
        """Verify without blocking the event loop: a key fetch that is due runs in a thread first."""
        cached = self._cached(token)
        if cached is not None:
            return cached
        await self._prepare(token)
        return self._verify_and_keep(token, fetch=False)

    async def start(self) -> None:
        """Get ready to verify (the JWKS fetched at startup): nothing for a PEM key."""

    async def _prepare(self, token: str) -> None:
        """Make the key ``token`` needs available, off the event loop (nothing for a PEM key)."""

    def _cached(self, token: str) -> Principal | None:
        cached = self._verified.get(token)
        if cached is not None:
            if self.clock() < cached[0]:
                return cached[1]
            self._verified.pop(token, None)
        return None

    def _verify_and_keep(self, token: str, fetch: bool) -> Principal:
        now = self.clock()
        expires_at, principal = self._verify(token, fetch)
        if now < expires_at:
            if len(self._verified) >= self.cache_size:
                self._verified.pop(next(iter(self._verified)), None)  # the oldest entry
            self._verified[token] = (expires_at, principal)
        return principal

    def _verify(self, token: str, fetch: bool = True) -> tuple[float, Principal]:
        """The full verification (signature, issuer, audience, times, roles): the token's exp and its principal."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key_for(token, fetch),
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
        return float(claims["exp"]), self._principal(claims)

    def _key_for(self, token: str, fetch: bool) -> RSAPublicKey:
        """The key that verifies ``token``: the one PEM key of this verifier."""
        return self.key

    def _kind(self, claims: dict[str, Any]) -> str:
        """The gateway's issuer states the kind in ``typ`` (absent: a person)."""
        return str(claims.get("typ", "user"))

    def _subject(self, claims: dict[str, Any], kind: str) -> str:
        """Who the caller is to the platform: the gateway's issuer puts it in ``sub``."""
        return str(claims["sub"])

    def _principal(self, claims: dict[str, Any]) -> Principal:
        try:
            roles = frozenset(Role(r) for r in claims.get("roles", []))
        except (TypeError, ValueError) as exc:
            raise Unauthenticated(INVALID_TOKEN) from exc
        kind = self._kind(claims)
        return Principal(
            subject=self._subject(claims, kind),
            roles=roles,
            org_id=claims.get("org"),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            kind=kind,
            name=claims.get("name"),
        )


def fetch_json(url: str, timeout: float = 5.0) -> Any:
    """GET ``url`` and parse its JSON body (the provider's discovery document and JWKS)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


class JwksTokenVerifier(TokenVerifier):
    """Verifies RS256 tokens of an OpenID Connect provider (Keycloak) against its JWKS.

    The signing key is chosen by the token's ``kid``. A ``kid`` this verifier does not hold makes
    it fetch the JWKS again, at most once per ``refetch_interval_s`` (so a flood of tokens with
    made-up ``kid`` values costs the provider one request per interval), which is how a rotated
    key is picked up without a restart (a token of a key published less than ``refetch_interval_s``
    after the last fetch is refused until the interval is over: 401, and the client's retry
    passes); the key set is also refetched when it is older than
    ``max_age_s`` (so a key the provider withdrew stops verifying new tokens). Everything else
    (the cache of verified tokens until their expiry, the two fixed 401 texts) is
    ``TokenVerifier``'s.

    The kind of caller is the ``kind`` claim, ``user`` or ``machine``, which the realm's clients
    state with a hardcoded claim mapper (``deploy/keycloak/alliance-realm.json``); a token
    without a valid one is refused, so a client the realm forgot to mark never passes as a
    person. (Keycloak's own ``typ`` claim is always "Bearer" and says nothing about the caller.)

    Who the caller is (``Principal.subject``): for a person, ``preferred_username``, which the realm
    makes the e-mail address (``registrationEmailAsUsername``), the key by which the platform knows
    people (organisations' users, registrations, applicants); for a machine, its client id
    (``azp``). Keycloak's ``sub`` (an opaque user id) is used for nothing.

    The fetch is a blocking HTTP GET with a short timeout. In a server it never runs on the event
    loop: ``start()`` (the app's lifespan) fetches at startup in a thread, and ``averify`` does a
    due refetch (unknown ``kid``, keys older than ``max_age_s``) in a thread too, one at a time
    (requests that need the same fetch wait for it, not for a fetch of their own). ``verify`` (sync
    callers, tools) fetches on the calling thread. A failed fetch keeps the keys held (while the
    provider is down, tokens of known keys still verify; an unknown ``kid`` gets the 401) and is
    retried after ``refetch_interval_s``.
    """

    KINDS = frozenset({"user", "machine"})

    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        audience: str,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
        refetch_interval_s: float = 5.0,
        max_age_s: float = 3600.0,
        fetch: Callable[[str], Any] = fetch_json,
    ) -> None:
        self._setup(issuer, audience, cache_size, clock)
        self.jwks_url = jwks_url
        self.refetch_interval_s = refetch_interval_s
        self.max_age_s = max_age_s
        self._fetch = fetch
        self._keys: dict[str, RSAPublicKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last attempt, successful or not
        self.fetches = 0
        self._inflight: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None

    @classmethod
    def from_issuer(cls, issuer: str, audience: str, **options: Any) -> JwksTokenVerifier:
        """Reads ``jwks_uri`` from the provider's discovery document (``<issuer>/.well-known/openid-configuration``)."""
        fetch: Callable[[str], Any] = options.get("fetch", fetch_json)
        discovery = fetch(issuer.rstrip("/") + "/.well-known/openid-configuration")
        return cls(str(discovery["jwks_uri"]), issuer, audience, **options)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def refresh(self) -> None:
        """Fetch the JWKS now and keep its RSA signing keys (replacing the ones held)."""
        now = self.clock()
        self._attempted_at = now
        self.fetches += 1
        document = self._fetch(self.jwks_url)
        keys: dict[str, RSAPublicKey] = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig" or jwk.get("alg", "RS256") != "RS256":
                continue  # e.g. Keycloak's RSA-OAEP encryption key
            kid = jwk.get("kid")
            key = jwt.PyJWK(jwk, algorithm="RS256").key
            if isinstance(kid, str) and isinstance(key, RSAPublicKey):
                keys[kid] = key
        self._keys = keys
        self._fetched_at = now

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.refetch_interval_s

    def _fetch_due(self, kid: str | None) -> bool:
        """Whether the key set should be fetched for a token of ``kid`` now (rate-limited)."""
        now = self.clock()
        stale = self._fetched_at is None or now - self._fetched_at >= self.max_age_s
        return (stale or kid not in self._keys) and self._may_fetch(now)

    def _try_refresh(self) -> None:
        try:
            self.refresh()
        except (OSError, ValueError, KeyError, TypeError, AttributeError, jwt.PyJWTError) as exc:
            log.warning("could not fetch the identity provider's keys from %s: %r", self.jwks_url, exc)

    async def start(self) -> None:
        """The key set fetched at startup, in a thread (a provider that is down is retried later)."""
        await self._refresh_off_loop()

    async def _prepare(self, token: str) -> None:
        kid = self._kid(token)
        pending = self._pending()
        if pending is not None and kid not in self._keys:
            await asyncio.shield(pending)  # the fetch under way may bring this kid
        elif self._fetch_due(kid):
            await self._refresh_off_loop()

    def _pending(self) -> asyncio.Future[None] | None:
        """The fetch under way on this event loop, if any."""
        if self._inflight is None or self._inflight[0] is not asyncio.get_running_loop():
            return None
        return None if self._inflight[1].done() else self._inflight[1]

    async def _refresh_off_loop(self) -> None:
        """One fetch in a thread at a time per event loop; whoever needs it meanwhile awaits that one."""
        loop = asyncio.get_running_loop()
        pending = self._pending()
        if pending is not None:
            await asyncio.shield(pending)
            return
        self._attempted_at = self.clock()  # the rate limit holds from now, while the thread runs
        future: asyncio.Future[None] = asyncio.ensure_future(asyncio.to_thread(self._try_refresh))
        self._inflight = (loop, future)
        await asyncio.shield(future)

    @staticmethod
    def _kid(token: str) -> str | None:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return None
        return kid if isinstance(kid, str) else None

    def _key_for(self, token: str, fetch: bool) -> RSAPublicKey:
        kid = self._kid(token)
        if kid is None:
            raise Unauthenticated(INVALID_TOKEN)
        if fetch and self._fetch_due(kid):
            self._try_refresh()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated(INVALID_TOKEN)
        return key

    def _kind(self, claims: dict[str, Any]) -> str:
        kind = claims.get("kind")
        if kind not in self.KINDS:
            raise Unauthenticated(INVALID_TOKEN)
        return str(kind)

    def _subject(self, claims: dict[str, Any], kind: str) -> str:
        """A person's e-mail (``preferred_username``), a machine's client id (``azp``); none: refused."""
        subject = claims.get("preferred_username") if kind == "user" else claims.get("azp")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated(INVALID_TOKEN)
        return subject


def bearer_token(request: Request) -> str:
    return bearer_token_of(request.headers.get("authorization", ""))


def bearer_token_of(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    return token.strip()


class OAuth2ClientCredentials(OAuth2):
    """The client-credentials flow agencies use (documentation only: the token is a bearer JWT,
    read by ``principal_of``; this scheme never answers on its own)."""

    def __init__(self, token_url: str, scopes: dict[str, str]) -> None:
        flows = OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl=token_url, scopes=scopes))
        super().__init__(
            flows=flows,
            scheme_name="oauth2",
            description="Machine clients (government agencies): OAuth2 client credentials at the gateway's "
            f"`{token_url}`; the token states its scopes. Read-only, except the routes that state a write "
            "scope (webhooks:manage).",
            auto_error=False,
        )


bearer_scheme = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="JWT",
    description="Portal users: an RS256 JWT from the alliance's identity provider.",
    auto_error=False,
)
oauth2_scheme = OAuth2ClientCredentials(TOKEN_URL, SCOPES)


def authorise(principal: Principal, method: str, scopes: list[str]) -> None:
    """The rule for machine tokens: only on a route that states a scope the token holds, and
    read-only unless that route states a write scope (``WRITE_SCOPES``).

    Users are not subject to scopes (their roles and the use cases decide); ``scopes`` empty
    means the route is for portal users only.
    """
    if principal.kind != "machine":
        return
    if not machine_may_call(method, scopes):
        raise Forbidden("machine credentials are read-only")
    if not scopes:
        raise Forbidden("this route is for portal users; machine credentials cannot call it")
    missing = sorted(set(scopes) - principal.scopes)
    if missing:
        raise Forbidden(f"the token lacks the scope: {' '.join(missing)}")


# The dependencies below are `async def` on purpose: FastAPI runs a plain `def` dependency in
# its thread pool, one thread hand-off per request for what is a few microseconds of work
# (a cached token) or one RS256 verification (~0.1 ms, short enough for the event loop).
async def get_principal(
    request: Request, _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> Principal:
    """A portal user (documented as ``bearer``); a machine token is refused."""
    principal = await principal_of(request)
    authorise(principal, request.method, [])
    return principal


def _reader(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """The dependency of a route that machine clients holding ``scope`` may call (read; write too
    when ``scope`` is a write scope).

    The scope is stated on the ``oauth2`` scheme only (FastAPI hands a ``Security`` scope down to
    every scheme below it, and a ``bearer`` requirement has no scopes), so the document reads
    ``bearer`` or ``oauth2: [scope]``; the check below uses the same ``scope``.
    """

    async def reader(
        request: Request,
        _bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),  # noqa: B008 (FastAPI's idiom)
        _oauth2: str | None = Security(oauth2_scheme, scopes=[scope.value]),  # noqa: B008
    ) -> Principal:
        principal = await principal_of(request)
        authorise(principal, request.method, [scope.value])
        return principal

    reader.__name__ = f"reader_{scope.name.lower()}"
    return reader


async def principal_of(request: Request) -> Principal:
    """The verified caller of ``request`` (also remembered in ``request.state.principal``)."""
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.averify(bearer_token(request))
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


_READERS = {scope: _reader(scope) for scope in Scope}


def Reader(scope: Scope) -> Any:  # noqa: N802 (reads as a type in a route's signature)
    """A route's principal that machine clients with ``scope`` may be too: ``Annotated[Principal, Reader(...)]``."""
    return Depends(_READERS[scope])


def Writer(scope: Scope) -> Any:  # noqa: N802 (reads as a type in a route's signature)
    """A write route's principal that machine clients with the write ``scope`` may be too (``WRITE_SCOPES``)."""
    if scope.value not in WRITE_SCOPES:
        raise ValueError(f"{scope.value} is not a write scope: machine tokens never write through it")
    return Depends(_READERS[scope])


LicensingReader = Annotated[Principal, Reader(Scope.LICENSING_READ)]
StandardsReader = Annotated[Principal, Reader(Scope.STANDARDS_READ)]
TrainingReader = Annotated[Principal, Reader(Scope.TRAINING_READ)]


def require_roles(principal: Principal, *roles: Role) -> None:
    if not principal.has_any(*roles):
        raise Forbidden(f"requires one of the roles: {', '.join(sorted(r.value for r in roles))}")


async def correlation_id(request: Request) -> str | None:
    """The gateway's request id; stamped on the events a request causes."""
    return request.headers.get("x-request-id")


CorrelationId = Annotated[str | None, Depends(correlation_id)]


class VerifierSettings(Protocol):
    """What ``verifier_for`` reads: the services' ``ServiceSettings`` and the gateway's settings both have it."""

    jwt_public_key_file: Path | None
    jwt_issuer: str
    jwt_audience: str
    oidc_issuer: str | None
    oidc_jwks_url: str | None


def verifier_for(settings: VerifierSettings) -> TokenVerifier:
    """The verifier the settings name: the OpenID Connect provider's JWKS when ``oidc_issuer`` is set
    (``oidc_jwks_url``, or its discovery document's ``jwks_uri``), else the PEM key file."""
    if settings.oidc_issuer is not None:
        if settings.oidc_jwks_url is not None:
            return JwksTokenVerifier(settings.oidc_jwks_url, settings.oidc_issuer, settings.jwt_audience)
        return JwksTokenVerifier.from_issuer(settings.oidc_issuer, settings.jwt_audience)
    if settings.jwt_public_key_file is None:
        raise RuntimeError("JWT_PUBLIC_KEY_FILE (a PEM public key) or OIDC_ISSUER must say how tokens are verified")
    return TokenVerifier.from_file(settings.jwt_public_key_file, settings.jwt_issuer, settings.jwt_audience)
