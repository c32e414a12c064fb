"""The machine clients' record on the store, and the provider's side through Keycloak's admin API.

``MongoClientRegistry``: collection ``clients``, ``_id`` = the client id, replaced only over the
version it was read at. ``KeycloakClients``: a confidential client with a service account holding
the platform's ``agency`` role (what puts ``roles: [agency]`` in its tokens), the realm's ``alliance``
client scope (audience, subject) and the granted scopes as default client scopes, and the
``kind: machine`` and ``name`` claims the gateway and the services read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from alliance_common.errors import Conflict, Unavailable
from alliance_common.identity_admin import IdentityRefused, IdentityUnavailable, KeycloakAdminClient
from alliance_common.mongo import Document
from integration.domain.clients import MachineClient

CLIENTS = "clients"
Json = dict[str, Any]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _document(client: MachineClient) -> Document:
    return {
        "_id": client.client_id,
        "name": client.name,
        "scopes": list(client.scopes),
        "created_at": client.created_at,
        "created_by": client.created_by,
        "rotated_at": client.rotated_at,
        "rotated_by": client.rotated_by,
        "revoked_at": client.revoked_at,
        "revoked_by": client.revoked_by,
        "contact_email": client.contact_email,
        "version": client.version,
    }


def _client(doc: Document) -> MachineClient:
    created_at = _utc(doc["created_at"])
    assert created_at is not None
    return MachineClient(
        client_id=doc["_id"],
        name=doc["name"],
        scopes=tuple(doc["scopes"]),
        created_at=created_at,
        created_by=doc["created_by"],
        rotated_at=_utc(doc.get("rotated_at")),
        rotated_by=doc.get("rotated_by"),
        revoked_at=_utc(doc.get("revoked_at")),
        revoked_by=doc.get("revoked_by"),
        contact_email=doc.get("contact_email"),
        version=int(doc["version"]),
    )


class MongoClientRegistry:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.clients = db[CLIENTS]

    async def setup(self) -> None:
        await self.clients.create_index([("revoked_at", ASCENDING)])

    async def add(self, client: MachineClient) -> bool:
        try:
            await self.clients.insert_one(_document(client))
        except DuplicateKeyError:
            return False
        return True

    async def get(self, client_id: str) -> MachineClient | None:
        doc = await self.clients.find_one({"_id": client_id})
        return _client(doc) if doc else None

    async def replace(self, client: MachineClient) -> bool:
        previous = {"_id": client.client_id, "version": client.version - 1}
        result = await self.clients.replace_one(previous, _document(client))
        return result.modified_count == 1

    async def page(self, after: str | None, limit: int) -> list[MachineClient]:
        query: Document = {"_id": {"$gt": after}} if after else {}
        return [_client(d) async for d in self.clients.find(query).sort("_id", ASCENDING).limit(limit)]

    async def revoked_ids(self) -> list[str]:
        return [d["_id"] async for d in self.clients.find({"revoked_at": {"$ne": None}}, {"_id": 1})]


class KeycloakClients:
    """Machine clients of the realm, made and changed through the admin REST API.

    The provider's failures become the caller's problems: no answer (or 5xx) is 503, try again; a
    refusal is 409 when the client exists already, else 503 with the provider's reason (our realm's
    configuration, for an operator to fix).
    """

    def __init__(self, admin: KeycloakAdminClient, platform_client: str = "alliance-platform") -> None:
        self.admin = admin
        self.platform_client_id = platform_client
        self._scope_ids: dict[str, str] = {}
        self._platform: str | None = None

    async def _uuid(self, client_id: str) -> str | None:
        found = (await self.admin.call("GET", "/clients", params={"clientId": client_id})).json()
        return str(found[0]["id"]) if found else None

    async def _required_uuid(self, client_id: str) -> str:
        uuid = await self._uuid(client_id)
        if uuid is None:
            raise IdentityRefused(f"the provider has no client {client_id}", 404)
        return uuid

    async def _scope_id(self, name: str) -> str:
        if name not in self._scope_ids:
            scopes = (await self.admin.call("GET", "/client-scopes")).json()
            self._scope_ids.update({str(s["name"]): str(s["id"]) for s in scopes})
        if name not in self._scope_ids:
            raise IdentityRefused(f"the realm declares no client scope {name!r}", 404)
        return self._scope_ids[name]

    async def exists(self, client_id: str) -> bool:
        async with _provider_errors():
            return await self._uuid(client_id) is not None

    async def create(self, client_id: str, name: str, scopes: Sequence[str]) -> str:
        async with _provider_errors():
            return await self._create(client_id, name, scopes)

    async def new_secret(self, client_id: str) -> str:
        async with _provider_errors():
            uuid = await self._required_uuid(client_id)
            await self.admin.call("POST", f"/clients/{uuid}/client-secret")
            return await self._secret(uuid)

    async def disable(self, client_id: str) -> None:
        async with _provider_errors():
            await self._disable(client_id)

    async def _create(self, client_id: str, name: str, scopes: Sequence[str]) -> str:
        representation: Json = {
            "clientId": client_id,
            "name": name,
            "enabled": True,
            "publicClient": False,
            "clientAuthenticatorType": "client-secret",
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": False,
            "serviceAccountsEnabled": True,
            "protocolMappers": [_claim("kind", "machine"), _claim("name", name)],
        }
        await self.admin.call("POST", "/clients", representation)
        uuid = await self._required_uuid(client_id)
        # Only the scopes granted: the realm's defaults (profile, email, roles...) are taken off.
        current = (await self.admin.call("GET", f"/clients/{uuid}/default-client-scopes")).json()
        for scope in current:
            await self.admin.call("DELETE", f"/clients/{uuid}/default-client-scopes/{scope['id']}")
        for scope_name in ("alliance", *scopes):
            await self.admin.call("PUT", f"/clients/{uuid}/default-client-scopes/{await self._scope_id(scope_name)}")
        account = (await self.admin.call("GET", f"/clients/{uuid}/service-account-user")).json()
        platform = await self._platform_uuid()
        role = (await self.admin.call("GET", f"/clients/{platform}/roles/agency")).json()
        await self.admin.call("POST", f"/users/{account['id']}/role-mappings/clients/{platform}", [role])
        return await self._secret(uuid)

    async def _disable(self, client_id: str) -> None:
        uuid = await self._uuid(client_id)
        if uuid is None:
            return  # gone at the provider already: nothing can sign in as it
        representation: Json = (await self.admin.call("GET", f"/clients/{uuid}")).json()
        if representation.get("enabled", True):
            representation["enabled"] = False
            await self.admin.call("PUT", f"/clients/{uuid}", representation)

    async def _secret(self, uuid: str) -> str:
        body = (await self.admin.call("GET", f"/clients/{uuid}/client-secret")).json()
        value = body.get("value")
        if not value:
            raise IdentityUnavailable("the provider returned no client secret")
        return str(value)

    async def _platform_uuid(self) -> str:
        if self._platform is None:
            self._platform = await self._required_uuid(self.platform_client_id)
        return self._platform


class NoProvider:
    """A stack without an identity provider (the gateway's own development issuer): nothing to manage
    (its client routes are not even served; the revocation list is, empty)."""

    async def _refuse(self) -> None:
        raise Unavailable("no identity provider is configured here (IDENTITY_URL): machine clients cannot be managed")

    async def exists(self, client_id: str) -> bool:
        await self._refuse()
        return False

    async def create(self, client_id: str, name: str, scopes: Sequence[str]) -> str:
        await self._refuse()
        return ""

    async def new_secret(self, client_id: str) -> str:
        await self._refuse()
        return ""

    async def disable(self, client_id: str) -> None:
        await self._refuse()


@asynccontextmanager
async def _provider_errors() -> AsyncIterator[None]:
    try:
        yield
    except IdentityUnavailable as exc:
        raise Unavailable(f"the identity provider did not answer ({exc}); nothing was changed: try again") from exc
    except IdentityRefused as exc:
        if exc.status == 409:
            raise Conflict(f"the identity provider has this client already ({exc})", field="client_id") from exc
        raise Unavailable(f"the identity provider refused: {exc}") from exc


def _claim(name: str, value: str) -> Json:
    return {
        "name": name,
        "protocol": "openid-connect",
        "protocolMapper": "oidc-hardcoded-claim-mapper",
        "config": {
            "access.token.claim": "true",
            "id.token.claim": "false",
            "userinfo.token.claim": "false",
            "introspection.token.claim": "true",
            "claim.name": name,
            "claim.value": value,
            "jsonType.label": "String",
        },
    }
