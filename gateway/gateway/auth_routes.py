"""Token endpoints: OAuth2 client credentials for machines, a development login for people."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field, StringConstraints

from alliance_common.auth import ORGANISATION_ROLES, SCOPES, Role, Unauthenticated
from alliance_common.errors import Forbidden, InvalidInput, NotFound
from alliance_common.openapi import problems
from alliance_common.problems import RequestModel
from gateway.issuer import Issuer, secret_matches
from gateway.settings import Settings

# The edge (``gateway.edge.Edge.limited``) rate-limits every caller of /auth/* and size-limits
# the bodies sent there (``auth_max_body_bytes``), before these routes run.
router = APIRouter(prefix="/auth", tags=["auth"], responses=problems(413, 429))


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
    if not settings.dev_login_enabled:
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
        401,
        403,
        404,
        s401="unknown client or wrong secret",
        s403="a scope not granted to this client was asked for",
        s404="this gateway issues no tokens",
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
    client = settings.machine_clients.get(client_id)
    if client is None or not secret_matches(client, client_secret):
        raise Unauthenticated("unknown client or wrong secret")
    requested = set(scope.split()) if scope else set(client.scopes)
    if not requested <= set(client.scopes):
        raise Forbidden(f"scopes not granted to this client: {' '.join(sorted(requested - set(client.scopes)))}")
    unknown = requested - set(SCOPES)  # a registration naming a scope no route states
    if unknown:
        raise InvalidInput(f"unknown scopes: {' '.join(sorted(unknown))} (see the README's list)", field="scope")
    issuer = _issuer(request)
    token = issuer.issue(client_id, [Role.AGENCY], name=client.name, kind="machine", scopes=requested)
    return TokenResponse(access_token=token, expires_in=issuer.ttl_s, scope=" ".join(sorted(requested)))
