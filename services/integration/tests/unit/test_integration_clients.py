"""Machine clients: the secretariat's use cases on in-memory fakes of the registry and the provider."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from alliance_common.auth import SCOPES, Principal, Role
from alliance_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from integration.domain.clients import MachineClient, client_id_for
from integration.service_layer.clients import ClientService

SECRETARIAT = Principal("sec@alliance.example", frozenset({Role.SECRETARIAT}))
COUNCIL = Principal("council@alliance.example", frozenset({Role.COUNCIL}))
MEMBER = Principal("admin@m.example", frozenset({Role.MEMBER_ADMIN}), org_id="M-1")
# even a machine token that somehow carries the role
MACHINE = Principal("agency-demo", frozenset({Role.SECRETARIAT}), scopes=frozenset(SCOPES), kind="machine")


class FakeRegistry:
    def __init__(self) -> None:
        self.clients: dict[str, MachineClient] = {}

    async def add(self, client: MachineClient) -> bool:
        if client.client_id in self.clients:
            return False
        self.clients[client.client_id] = client
        return True

    async def get(self, client_id: str) -> MachineClient | None:
        return self.clients.get(client_id)

    async def replace(self, client: MachineClient) -> bool:
        current = self.clients.get(client.client_id)
        if current is None or current.version != client.version - 1:
            return False
        self.clients[client.client_id] = client
        return True

    async def page(self, after: str | None, limit: int) -> list[MachineClient]:
        ids = sorted(i for i in self.clients if after is None or i > after)
        return [self.clients[i] for i in ids[:limit]]

    async def revoked_ids(self) -> list[str]:
        return [c.client_id for c in self.clients.values() if c.revoked]


class FakeProvider:
    def __init__(self) -> None:
        self.clients: dict[str, dict[str, object]] = {}
        self.counter = 0

    def _secret(self) -> str:
        self.counter += 1
        return f"secret-{self.counter}"

    async def exists(self, client_id: str) -> bool:
        return client_id in self.clients

    async def create(self, client_id: str, name: str, scopes: Sequence[str]) -> str:
        secret = self._secret()
        self.clients[client_id] = {"name": name, "scopes": list(scopes), "enabled": True, "secret": secret}
        return secret

    async def new_secret(self, client_id: str) -> str:
        secret = self._secret()
        self.clients[client_id]["secret"] = secret
        return secret

    async def disable(self, client_id: str) -> None:
        self.clients[client_id]["enabled"] = False


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


Parts = tuple[ClientService, FakeRegistry, FakeProvider]


@pytest.fixture
def parts() -> Parts:
    registry, provider = FakeRegistry(), FakeProvider()
    return ClientService(registry, provider, catalogue=SCOPES.keys(), clock=Clock()), registry, provider


async def test_the_secretariat_registers_a_client_whose_secret_is_shown_once(parts: Parts) -> None:
    service, registry, provider = parts
    issued = await service.register(SECRETARIAT, "  Fujian  Market Regulator ", ["statistics:read", "licensing:read"])
    client = issued.client
    assert client.client_id.startswith("agency-fujian-market-regulator-")
    assert client.name == "Fujian Market Regulator"
    assert client.scopes == ("licensing:read", "statistics:read")
    assert client.created_by == SECRETARIAT.subject
    assert issued.client_secret == provider.clients[client.client_id]["secret"]
    assert provider.clients[client.client_id]["scopes"] == ["licensing:read", "statistics:read"]
    # the record never holds the secret
    assert issued.client_secret not in repr(dataclasses.asdict(registry.clients[client.client_id]))
    assert (await service.get(COUNCIL, client.client_id)) == client


@pytest.mark.parametrize(
    ("name", "scopes", "client_id", "field"),
    [
        ("X", [], None, "scopes"),
        ("X", ["statistics:read", "admin:all"], None, "scopes"),
        ("   ", ["statistics:read"], None, "name"),
        ("X", ["statistics:read"], "Bad_Id", "client_id"),
        ("X", ["statistics:read"], "alliance-gateway", "client_id"),
    ],
)
async def test_bad_registrations_name_the_field_and_create_nothing(
    parts: Parts, name: str, scopes: list[str], client_id: str | None, field: str
) -> None:
    service, registry, provider = parts
    with pytest.raises(InvalidInput) as refused:
        await service.register(SECRETARIAT, name, scopes, client_id)
    assert refused.value.field == field
    assert registry.clients == {} and provider.clients == {}


async def test_an_id_taken_is_a_conflict(parts: Parts) -> None:
    service, _, provider = parts
    await service.register(SECRETARIAT, "A", ["statistics:read"], client_id="agency-a")
    with pytest.raises(Conflict):
        await service.register(SECRETARIAT, "A again", ["statistics:read"], client_id="agency-a")
    provider.clients["agency-only-at-the-provider"] = {}
    with pytest.raises(Conflict):
        await service.register(SECRETARIAT, "B", ["statistics:read"], client_id="agency-only-at-the-provider")


@pytest.mark.parametrize("who", [COUNCIL, MEMBER, MACHINE])
async def test_only_the_secretariat_manages_clients(parts: Parts, who: Principal) -> None:
    service, registry, _ = parts
    issued = await service.register(SECRETARIAT, "A", ["statistics:read"], client_id="agency-a")
    with pytest.raises(Forbidden):
        await service.register(who, "B", ["statistics:read"])
    with pytest.raises(Forbidden):
        await service.rotate(who, "agency-a")
    with pytest.raises(Forbidden):
        await service.revoke(who, "agency-a")
    assert registry.clients["agency-a"] == issued.client


@pytest.mark.parametrize("who", [MEMBER, MACHINE])
async def test_members_and_machines_do_not_read_the_clients(parts: Parts, who: Principal) -> None:
    service, _, _ = parts
    await service.register(SECRETARIAT, "A", ["statistics:read"], client_id="agency-a")
    with pytest.raises(Forbidden):
        await service.page(who, None, 10)
    with pytest.raises(Forbidden):
        await service.get(who, "agency-a")


async def test_rotation_gives_a_new_secret_and_revocation_is_final(parts: Parts) -> None:
    service, _, provider = parts
    first = await service.register(SECRETARIAT, "A", ["statistics:read"], client_id="agency-a")
    rotated = await service.rotate(SECRETARIAT, "agency-a")
    assert rotated.client_secret != first.client_secret
    assert rotated.client_secret == provider.clients["agency-a"]["secret"]
    assert rotated.client.rotated_at is not None and rotated.client.version == 2
    assert await service.revoked_ids() == []
    revoked = await service.revoke(SECRETARIAT, "agency-a")
    assert revoked.revoked and provider.clients["agency-a"]["enabled"] is False
    assert await service.revoked_ids() == ["agency-a"]
    with pytest.raises(Conflict):
        await service.rotate(SECRETARIAT, "agency-a")
    with pytest.raises(Conflict):
        await service.revoke(SECRETARIAT, "agency-a")
    with pytest.raises(NotFound):
        await service.revoke(SECRETARIAT, "agency-unknown")


async def test_pages_follow_the_ids(parts: Parts) -> None:
    service, _, _ = parts
    for name in ("c", "a", "b"):
        await service.register(SECRETARIAT, name, ["statistics:read"], client_id=f"agency-{name}")
    first = await service.page(SECRETARIAT, None, 2)
    rest = await service.page(SECRETARIAT, first[-1].client_id, 2)
    assert [c.client_id for c in first + rest] == ["agency-a", "agency-b", "agency-c"]


def test_ids_made_from_names_are_valid_even_for_chinese_names() -> None:
    made = client_id_for("福建省市场监督管理局", None)
    assert made.startswith("agency-") and len(made) == len("agency-") + 6
    assert client_id_for("Fujian", None) != client_id_for("Fujian", None)


async def test_a_client_may_name_its_agencys_contact_which_is_kept_and_told(parts: Parts) -> None:
    service, registry, _ = parts
    issued = await service.register(
        SECRETARIAT, "Fujian Market Regulator", ["webhooks:manage"], contact_email="  it-desk@amr.fujian.example "
    )
    assert issued.client.contact_email == "it-desk@amr.fujian.example"
    assert await service.contact_of(issued.client.client_id) == "it-desk@amr.fujian.example"
    plain = await service.register(SECRETARIAT, "Xiamen Bureau", ["webhooks:manage"], contact_email="")
    assert plain.client.contact_email is None and await service.contact_of(plain.client.client_id) is None
    assert await service.contact_of("agency-unknown") is None
    assert len(registry.clients) == 2


@pytest.mark.parametrize(
    "address", ["it-desk", "it desk@amr.example", "it@@amr.example", "it@amr", "it@amr..example", "a" * 250 + "@x.cn"]
)
async def test_a_bad_contact_address_is_refused_naming_the_field_and_creates_nothing(
    parts: Parts, address: str
) -> None:
    service, registry, provider = parts
    with pytest.raises(InvalidInput) as refused:
        await service.register(SECRETARIAT, "X", ["webhooks:manage"], contact_email=address)
    assert refused.value.field == "contact_email"
    assert registry.clients == {} and provider.clients == {}
