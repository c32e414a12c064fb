"""Use cases: the secretariat registers, rotates and revokes the agencies' machine clients.

The provider (Keycloak) holds the credentials and issues the tokens; the registry is the alliance's
record. Registering creates the client at the provider first (a failure there leaves no record);
revoking disables it at the provider first (no new token), then records the revocation, which the
gateway reads to refuse the client's tokens already issued (``revoked_ids``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from alliance_common.auth import Principal, Role
from alliance_common.errors import Conflict, Forbidden, NotFound
from integration.domain.clients import MachineClient, chosen_scopes, clean_contact_email, clean_name, client_id_for


class ClientRegistry(Protocol):
    async def add(self, client: MachineClient) -> bool:
        """Store a new client; False if its id is taken."""
        ...

    async def get(self, client_id: str) -> MachineClient | None: ...

    async def replace(self, client: MachineClient) -> bool:
        """Store ``client`` over its previous version (``version - 1``); False if that changed meanwhile."""
        ...

    async def page(self, after: str | None, limit: int) -> list[MachineClient]:
        """Clients by id after ``after``."""
        ...

    async def revoked_ids(self) -> list[str]: ...


class IdentityClients(Protocol):
    """The provider's side: a confidential client with a service account and these scopes."""

    async def create(self, client_id: str, name: str, scopes: Sequence[str]) -> str:
        """Create the client; its secret."""
        ...

    async def exists(self, client_id: str) -> bool: ...

    async def new_secret(self, client_id: str) -> str: ...

    async def disable(self, client_id: str) -> None: ...


@dataclass(frozen=True)
class Issued:
    """A client and its secret, shown once."""

    client: MachineClient
    client_secret: str


def _manager(principal: Principal) -> None:
    if principal.kind == "machine" or not principal.is_secretariat:
        raise Forbidden("only the secretariat manages machine clients")


def _reader(principal: Principal) -> None:
    if principal.kind == "machine" or not principal.has_any(Role.SECRETARIAT, Role.COUNCIL):
        raise Forbidden("only the secretariat and the council read the machine clients")


class ClientService:
    def __init__(
        self,
        registry: ClientRegistry,
        provider: IdentityClients,
        catalogue: Collection[str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.registry = registry
        self.provider = provider
        self.catalogue = catalogue
        self.clock = clock

    async def register(
        self,
        principal: Principal,
        name: str,
        scopes: Sequence[str],
        client_id: str | None = None,
        contact_email: str | None = None,
    ) -> Issued:
        _manager(principal)
        name = clean_name(name)
        contact = clean_contact_email(contact_email)
        granted = chosen_scopes(scopes, self.catalogue)
        client_id = client_id_for(name, client_id)
        if await self.registry.get(client_id) is not None or await self.provider.exists(client_id):
            raise Conflict(f"a client {client_id} exists already", field="client_id")
        secret = await self.provider.create(client_id, name, granted)
        client = MachineClient(
            client_id, name, granted, created_at=self.clock(), created_by=principal.subject, contact_email=contact
        )
        if not await self.registry.add(client):
            raise Conflict(f"a client {client_id} exists already", field="client_id")
        return Issued(client, secret)

    async def get(self, principal: Principal, client_id: str) -> MachineClient:
        _reader(principal)
        return await self._found(client_id)

    async def page(self, principal: Principal, after: str | None, limit: int) -> list[MachineClient]:
        _reader(principal)
        return await self.registry.page(after, limit)

    async def rotate(self, principal: Principal, client_id: str) -> Issued:
        _manager(principal)
        client = await self._found(client_id)
        rotated = client.rotated(self.clock(), principal.subject)
        secret = await self.provider.new_secret(client_id)
        if not await self.registry.replace(rotated):
            raise Conflict(f"client {client_id} changed meanwhile: read it and try again")
        return Issued(rotated, secret)

    async def revoke(self, principal: Principal, client_id: str) -> MachineClient:
        _manager(principal)
        client = await self._found(client_id)
        revoked = client.revoke(self.clock(), principal.subject)
        await self.provider.disable(client_id)
        if not await self.registry.replace(revoked):
            raise Conflict(f"client {client_id} changed meanwhile: read it and try again")
        return revoked

    async def revoked_ids(self) -> list[str]:
        return await self.registry.revoked_ids()

    async def contact_of(self, client_id: str) -> str | None:
        """The address registered for the client's agency (None: not registered here, or none given)."""
        client = await self.registry.get(client_id)
        return None if client is None else client.contact_email

    async def _found(self, client_id: str) -> MachineClient:
        client = await self.registry.get(client_id)
        if client is None:
            raise NotFound(f"no machine client {client_id} is managed here")
        return client
