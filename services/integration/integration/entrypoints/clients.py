"""Machine clients managed through the API (the secretariat), and the revoked ones for the gateway.

``/api/v1/integration/clients``: register (the secret shown once), list, read, rotate the secret
(the new one shown once), revoke. ``/internal/revocations``: the revoked client ids, for the
gateway only (never routed from outside: the gateway proxies ``/api/v1/<service>/...`` alone, and
the caller shows the shared internal token).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from alliance_common.auth import CurrentPrincipal
from alliance_common.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from alliance_common.problems import RequestModel
from integration.domain.clients import MachineClient
from integration.service_layer.clients import ClientService, Issued


async def get_clients(request: Request) -> ClientService:
    service: ClientService = request.app.state.clients
    return service


Clients = Annotated[ClientService, Depends(get_clients)]

router = APIRouter(prefix="/api/v1/integration", tags=["machine clients"])
internal = APIRouter(prefix="/internal", include_in_schema=False)


class ClientCreate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Fujian Provincial Market Regulator",
                    "scopes": ["statistics:read", "events:read"],
                    "contact_email": "it-desk@amr.fujian.example",
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200, description="The agency or system the client stands for.")
    scopes: list[str] = Field(min_length=1, max_length=20, description="From the gateway's scope catalogue.")
    client_id: str | None = Field(
        default=None,
        min_length=4,
        max_length=64,
        description="Lower-case letters, digits and '-'; made from the name when left out.",
    )
    contact_email: str | None = Field(
        default=None,
        max_length=254,
        description="Who at the agency is told by e-mail about the client's systems (e.g. a webhook "
        "subscription disabled after failing); left out, the secretariat is told instead.",
    )


SECRET_EXAMPLE = "q4V0p3sXW2c8Yb1LrN7tJ5mK9hF6dA2e"  # noqa: S105 - an example in the document
CLIENT_EXAMPLE: dict[str, Any] = {
    "client_id": "agency-fujian-provincial-market-regulator-3f9a1c",
    "name": "Fujian Provincial Market Regulator",
    "scopes": ["events:read", "statistics:read"],
    "status": "active",
    "created_at": "2026-11-27T08:30:00Z",
    "created_by": "secretariat@alliance.example",
    "rotated_at": None,
    "rotated_by": None,
    "revoked_at": None,
    "revoked_by": None,
    "contact_email": "it-desk@amr.fujian.example",
}


class ClientPublic(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    status: str = Field(description="active or revoked")
    created_at: datetime
    created_by: str
    rotated_at: datetime | None
    rotated_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    contact_email: str | None = Field(default=None, description="Told when the client's systems need attention.")

    model_config = ConfigDict(json_schema_extra={"examples": [CLIENT_EXAMPLE]})

    @classmethod
    def of(cls, client: MachineClient) -> ClientPublic:
        return cls(
            client_id=client.client_id,
            name=client.name,
            scopes=list(client.scopes),
            status="revoked" if client.revoked else "active",
            created_at=client.created_at,
            created_by=client.created_by,
            rotated_at=client.rotated_at,
            rotated_by=client.rotated_by,
            revoked_at=client.revoked_at,
            revoked_by=client.revoked_by,
            contact_email=client.contact_email,
        )


class ClientIssued(ClientPublic):
    client_secret: str = Field(description="Shown this once: the platform does not keep it. Store it now.")
    token_url: str = Field(description="Where the client gets its tokens (OAuth2 client credentials).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {**CLIENT_EXAMPLE, "client_secret": "q4V0p3sXW2c8Yb1LrN7tJ5mK9hF6dA2e", "token_url": "/auth/token"}
            ]
        }
    )

    @classmethod
    def issued(cls, issued: Issued) -> ClientIssued:
        public = ClientPublic.of(issued.client)
        return cls(**public.model_dump(), client_secret=issued.client_secret, token_url="/auth/token")


class Revocations(BaseModel):
    client_ids: list[str]

    model_config = ConfigDict(json_schema_extra={"examples": [{"client_ids": ["agency-old-system-51c2a0"]}]})


@router.post(
    "/clients",
    status_code=201,
    response_model=ClientIssued,
    summary="Register an agency's machine client (secretariat); its secret is shown once",
)
async def register_client(body: ClientCreate, principal: CurrentPrincipal, clients: Clients) -> ClientIssued:
    issued = await clients.register(principal, body.name, body.scopes, body.client_id, body.contact_email)
    return ClientIssued.issued(issued)


@router.get("/clients", response_model=Page[ClientPublic], summary="The machine clients managed here, by id")
async def list_clients(
    principal: CurrentPrincipal, clients: Clients, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[ClientPublic]:
    page = await clients.page(principal, decode_cursor(cursor), limit + 1)
    items = page[:limit]
    following = encode_cursor(items[-1].client_id) if len(page) > limit else None
    return Page(items=[ClientPublic.of(c) for c in items], next_cursor=following)


@router.get("/clients/{client_id}", response_model=ClientPublic, summary="One machine client")
async def get_client(client_id: str, principal: CurrentPrincipal, clients: Clients) -> ClientPublic:
    return ClientPublic.of(await clients.get(principal, client_id))


@router.post(
    "/clients/{client_id}/rotate-secret",
    response_model=ClientIssued,
    summary="A new secret for the client, shown once (tokens already issued run out as usual)",
)
async def rotate_secret(client_id: str, principal: CurrentPrincipal, clients: Clients) -> ClientIssued:
    return ClientIssued.issued(await clients.rotate(principal, client_id))


@router.post(
    "/clients/{client_id}/revoke",
    response_model=ClientPublic,
    summary="Revoke the client: no new token, and its tokens already issued are refused at once",
)
async def revoke_client(client_id: str, principal: CurrentPrincipal, clients: Clients) -> ClientPublic:
    return ClientPublic.of(await clients.revoke(principal, client_id))


@internal.get("/revocations", response_model=Revocations)
async def revocations(
    request: Request, clients: Clients, x_internal_token: Annotated[str | None, Header()] = None
) -> Revocations:
    expected = request.app.state.internal_token
    if expected is None or x_internal_token is None or not secrets.compare_digest(x_internal_token, expected):
        raise HTTPException(status_code=404)
    return Revocations(client_ids=sorted(await clients.revoked_ids()))
