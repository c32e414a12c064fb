"""Token endpoints: OAuth2 client credentials for machines, a development login for people.

With an OpenID Connect provider (OIDC_ISSUER, Keycloak locally), POST /auth/token stays the
agencies' documented token URL but is the provider's: the gateway checks the request's form
(grant type, the scope names of the catalogue), forwards the same form fields to the provider's
token endpoint, which authenticates the client and grants the scopes, and answers the provider's
refusals as its own problems. The dev login is off then (404): people sign in with the provider.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Annotated, Any, Literal

import aiohttp
from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field, StringConstraints

from alliance_common.auth import ORGANISATION_ROLES, SCOPES, Role, TokenVerifier, Unauthenticated
from alliance_common.errors import DomainError, Forbidden, InvalidInput, NotFound
from alliance_common.openapi import problems
from alliance_common.problems import RequestModel
from gateway.issuer import Issuer, secret_matches
from gateway.settings import Settings

# The edge (``gateway.edge.Edge.limited``) rate-limits every caller of /auth/* and size-limits
# the bodies sent there (``auth_max_body_bytes``), before these routes run.
router = APIRouter(prefix="/auth", tags=["auth"], responses=problems(413, 429))

log = logging.getLogger(__name__)

BAD_CLIENT = "unknown client or wrong secret"


class ProviderUnavailable(DomainError):
    status = 503
    title = "Service unavailable"


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str | None = None


class DevLogin(RequestModel):
    subject: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(examples=["chen.li@example.com"])
    roles: list[Role] = Field(min_length=1, max_length=len(Role), examples=[["member_admin"]])
    org_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    name: Annotated[str, StringConstraints(max_length=200)] | None = None


def _issuer(request: Request) -> Issuer:
    issuer: Issuer | None = request.app.state.issuer
    if issuer is None:
        raise NotFound("this gateway issues no tokens (no signing key configured)")
    return issuer


@router.post(
    "/dev-login",
    response_model=TokenResponse,
    summary="Development only: a portal user's token with the roles given",
    responses=problems(404, s404="development login is disabled, or this gateway issues no tokens"),
)
async def dev_login(body: DevLogin, request: Request) -> TokenResponse:
    settings: Settings = request.app.state.settings
    if not settings.dev_login_enabled or settings.provider:
        raise NotFound("development login is disabled")
    if Role.AGENCY in body.roles:
        raise InvalidInput("agencies use client credentials (POST /auth/token)", field="roles")
    if set(body.roles) & ORGANISATION_ROLES and not body.org_id and Role.LICENSEE not in body.roles:
        raise InvalidInput("member roles need the organisation id", field="org_id")
    issuer = _issuer(request)
    token = issuer.issue(body.subject, body.roles, org_id=body.org_id, name=body.name)
    return TokenResponse(access_token=token, expires_in=issuer.ttl_s)


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="OAuth2 client credentials for machine clients",
    responses=problems(
        400,
        401,
        403,
        404,
        503,
        s400="the identity provider refused the request",
        s401="unknown client or wrong secret",
        s403="a scope not granted to this client was asked for",
        s404="this gateway issues no tokens",
        s503="the identity provider could not be reached",
    ),
)
async def client_credentials(
    request: Request,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str, Form()],
    client_secret: Annotated[str, Form()],
    scope: Annotated[str, Form()] = "",
) -> TokenResponse:
    if grant_type != "client_credentials":
        raise InvalidInput("only client_credentials is supported", field="grant_type")
    settings: Settings = request.app.state.settings
    if settings.provider:
        unknown_scopes = set(scope.split()) - set(SCOPES)
        if unknown_scopes:
            listed = " ".join(sorted(unknown_scopes))
            raise InvalidInput(f"unknown scopes: {listed} (see the README's list)", field="scope")
        form = {"grant_type": grant_type, "client_id": client_id, "client_secret": client_secret}
        if scope:
            form["scope"] = scope
        return await from_provider(request, form)
    client = settings.machine_clients.get(client_id)
    if client is None or not secret_matches(client, client_secret):
        raise Unauthenticated(BAD_CLIENT)
    requested = set(scope.split()) if scope else set(client.scopes)
    if not requested <= set(client.scopes):
        raise Forbidden(f"scopes not granted to this client: {' '.join(sorted(requested - set(client.scopes)))}")
    unknown = requested - set(SCOPES)  # a registration naming a scope no route states
    if unknown:
        raise InvalidInput(f"unknown scopes: {' '.join(sorted(unknown))} (see the README's list)", field="scope")
    issuer = _issuer(request)
    token = issuer.issue(client_id, [Role.AGENCY], name=client.name, kind="machine", scopes=requested)
    return TokenResponse(access_token=token, expires_in=issuer.ttl_s, scope=" ".join(sorted(requested)))


async def token_endpoint(request: Request) -> str:
    """The provider's token endpoint: OIDC_TOKEN_URL, or its discovery document's (fetched once)."""
    settings: Settings = request.app.state.settings
    if settings.oidc_token_url is not None:
        return settings.oidc_token_url
    known: str | None = getattr(request.app.state, "token_endpoint", None)
    if known is None:
        assert settings.oidc_issuer is not None
        discovery_url = settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
        _, discovery = await provider_json(request, "GET", discovery_url)
        if not isinstance(discovery.get("token_endpoint"), str):
            raise ProviderUnavailable("the identity provider's discovery document names no token endpoint")
        known = str(discovery["token_endpoint"])
        request.app.state.token_endpoint = known
    return known


async def provider_json(
    request: Request, method: str, url: str, form: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """The provider's status and JSON answer; 503 when it cannot be reached or answers no JSON object."""
    session: aiohttp.ClientSession = request.app.state.http
    # The upstream session adds no headers of its own (it relays callers'): state them here.
    headers = {"accept": "application/json"}
    encoded = None
    if form is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
        encoded = urllib.parse.urlencode(form).encode()
    try:
        async with session.request(
            method, url, data=encoded, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
        ) as response:
            body = await response.json(content_type=None)
            status = response.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("the identity provider did not answer %s %s: %r", method, url, exc)
        raise ProviderUnavailable("the identity provider could not be reached; try again shortly") from exc
    if not isinstance(body, dict) or status >= 500:
        log.warning("the identity provider answered %s %s with %s", method, url, status)
        raise ProviderUnavailable("the identity provider could not be reached; try again shortly")
    return status, body


async def from_provider(request: Request, form: dict[str, str]) -> TokenResponse:
    """Client credentials at the provider; its refusals as our problems, its token checked as ours."""
    status, body = await provider_json(request, "POST", await token_endpoint(request), form)
    if status != 200:
        error = str(body.get("error", ""))
        if error == "invalid_client" or status == 401:
            raise Unauthenticated(BAD_CLIENT)
        if error == "invalid_scope":
            raise Forbidden(f"scopes not granted to this client: {form.get('scope', '')}".strip())
        if error == "unauthorized_client":
            raise Forbidden("this client may not use client credentials")
        raise DomainError(f"the identity provider refused the request ({error or status})")
    token = body.get("access_token")
    if not isinstance(token, str):
        raise ProviderUnavailable("the identity provider answered without a token; try again shortly")
    # The token must be one the platform takes from a machine: verified here as every service will.
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.averify(token)
    if principal.kind != "machine":
        raise Forbidden("this client is not registered as a machine client")
    return TokenResponse(
        access_token=token,
        expires_in=int(body.get("expires_in", 0)),
        scope=" ".join(sorted(principal.scopes & set(SCOPES))) or None,
    )
