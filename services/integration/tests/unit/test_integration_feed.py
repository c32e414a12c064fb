"""The change feed's rules on the in-memory archive: who reads which types, and a cursor that never
skips or repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import alliance_contracts  # noqa: F401  (registers every event model)
from alliance_common.auth import Principal, Role
from alliance_common.errors import Forbidden, InvalidInput, NotFound
from alliance_common.events import IntegrationEvent
from alliance_common.pagination import encode_cursor
from integration.adapters.memory import InMemoryArchive
from integration.domain.archive import ArchivedEvent
from integration.domain.feed import SCOPE_TYPES, parse_types, types_for_scopes
from integration.service_layer import feed

T0 = datetime(2026, 1, 5, tzinfo=UTC)
ADMITTED = "alliance.membership.member.admitted.v1"
DUES = "alliance.membership.dues.invoiced.v1"
PROGRAMME = "alliance.licensing.programme.created.v1"
ROYALTY = "alliance.licensing.royalty.reported.v1"

SECRETARIAT = Principal(subject="s@alliance.example", roles=frozenset({Role.SECRETARIAT}))
MEMBER = Principal(subject="m@x.example", roles=frozenset({Role.MEMBER_ADMIN}), org_id="org-1")


def machine(*scopes: str) -> Principal:
    return Principal(subject="agency", roles=frozenset({Role.AGENCY}), kind="machine", scopes=frozenset(scopes))


def ev(i: int, type_: str, subject: str = "s-1") -> ArchivedEvent:
    owner = type_.split(".")[1]
    return ArchivedEvent(f"e{i}", 0, type_, f"/alliance/{owner}", subject, T0 + timedelta(hours=i), {"i": i})


def archive_of(n: int) -> InMemoryArchive:
    kinds = [ADMITTED, DUES, PROGRAMME, ROYALTY]
    return InMemoryArchive([ev(i, kinds[i % 4], subject=f"s-{i % 3}") for i in range(n)])


def test_every_listed_type_is_a_contract_type_and_no_private_one_is_listed() -> None:
    listed = set().union(*SCOPE_TYPES.values())
    assert listed <= set(IntegrationEvent.registry)
    private = {
        DUES,
        ROYALTY,
        "alliance.licensing.royalty.paid.v1",
        "alliance.licensing.royalties.distributed.v1",
        "alliance.membership.user.added.v1",
        "alliance.membership.application.submitted.v1",
        "alliance.standards.ballot.vote_voided.v1",
        "alliance.training.certificate.issued.v1",
        "alliance.training.registration.confirmed.v1",
    }
    assert not listed & private
    assert types_for_scopes(["statistics:read"]) >= {ADMITTED} and PROGRAMME in types_for_scopes(["licensing:read"])
    assert types_for_scopes(["events:read"]) == frozenset()


def test_parse_types() -> None:
    assert parse_types(None) is None and parse_types(" ") is None
    assert parse_types(f"{ADMITTED}, {DUES}") == {ADMITTED, DUES}
    for bad in ("admitted", f"{ADMITTED},", "alliance.x.y.v0", "A.b.c.v1"):
        with pytest.raises(ValueError):
            parse_types(bad)


async def test_following_the_cursor_gives_every_readable_event_once_and_an_empty_page_keeps_the_cursor() -> None:
    archive = archive_of(40)
    seen: list[str] = []
    after = None
    while True:
        page = await feed.changes(archive, SECRETARIAT, after, None, 7)
        seen += [e.id for e in page.items]
        if not page.items:
            assert page.cursor == after and not page.more
            break
        after = page.cursor
    assert seen == [f"e{i}" for i in range(40)]
    await archive.add([ev(40, ADMITTED)])
    page = await feed.changes(archive, SECRETARIAT, after, None, 7)
    assert [e.id for e in page.items] == ["e40"] and page.cursor != after


async def test_a_machine_sees_only_the_types_its_scopes_name() -> None:
    archive = archive_of(20)
    page = await feed.changes(archive, machine("events:read", "statistics:read"), None, None, 100)
    assert {e.type for e in page.items} == {ADMITTED}
    page = await feed.changes(archive, machine("events:read", "licensing:read", "statistics:read"), None, None, 100)
    assert {e.type for e in page.items} == {ADMITTED, PROGRAMME}
    with pytest.raises(Forbidden, match="royalty.reported"):
        await feed.changes(archive, machine("events:read", "licensing:read"), None, frozenset({ROYALTY}), 10)
    with pytest.raises(Forbidden, match="holds none"):
        await feed.changes(archive, machine("events:read"), None, None, 10)
    with pytest.raises(Forbidden):
        await feed.changes(archive, MEMBER, None, None, 10)
    only = await feed.changes(archive, SECRETARIAT, None, frozenset({DUES}), 100)
    assert {e.type for e in only.items} == {DUES} and len(only.items) == 5


@pytest.mark.parametrize(
    "cursor", ["nope", encode_cursor("seq:-1"), encode_cursor("seq:x"), encode_cursor("42"), encode_cursor("seq:01")]
)
async def test_a_cursor_not_ours_is_refused_naming_after(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await feed.changes(archive_of(3), SECRETARIAT, cursor, None, 10)
    assert refused.value.field == "after"


async def test_one_event_and_the_auditors_listing() -> None:
    archive = archive_of(30)
    assert (await feed.event(archive, SECRETARIAT, "e3")).type == ROYALTY
    with pytest.raises(NotFound):  # not the client's to read: as if it did not exist
        await feed.event(archive, machine("events:read", "licensing:read"), "e3")
    with pytest.raises(NotFound):
        await feed.event(archive, SECRETARIAT, "nope")
    items, cursor = await feed.listing(
        archive,
        SECRETARIAT,
        type_=ADMITTED,
        subject=None,
        since=T0,
        until=T0 + timedelta(hours=20),
        cursor=None,
        limit=3,
    )
    assert [e.id for e in items] == ["e0", "e4", "e8"] and cursor is not None
    items, cursor = await feed.listing(
        archive,
        SECRETARIAT,
        type_=ADMITTED,
        subject=None,
        since=T0,
        until=T0 + timedelta(hours=20),
        cursor=cursor,
        limit=3,
    )
    assert [e.id for e in items] == ["e12", "e16"] and cursor is None
    items, _ = await feed.listing(
        archive, SECRETARIAT, type_=None, subject="s-1", since=None, until=None, cursor=None, limit=100
    )
    assert [e.id for e in items] == [f"e{i}" for i in range(1, 30, 3)]
    with pytest.raises(InvalidInput) as refused:
        await feed.listing(archive, SECRETARIAT, type_=None, subject=None, since=T0, until=T0, cursor=None, limit=5)
    assert refused.value.field == "until"
    with pytest.raises(Forbidden):
        await feed.listing(
            archive,
            machine("events:read", "statistics:read"),
            type_=DUES,
            subject=None,
            since=None,
            until=None,
            cursor=None,
            limit=5,
        )
