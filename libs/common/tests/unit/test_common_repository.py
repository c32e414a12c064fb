"""The repository base over its in-memory twin: mapping, versions, conflicts, events, queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from alliance_common.events import IntegrationEvent
from alliance_common.outbox import AlreadyExists, ConcurrencyConflict, Loaded, Origin
from alliance_common.pagination import encode_cursor
from alliance_common.repository import EventTable, Repository
from alliance_common.testing import InMemoryKeyedView, InMemoryStore, matches

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Part:
    name: str
    price: Decimal


@dataclass(frozen=True)
class WidgetMade:
    widget_id: str
    colour: Colour
    parts: tuple[Part, ...]
    at: datetime


@dataclass(frozen=True)
class WidgetPolished:
    widget_id: str


class PartMessage(BaseModel):
    name: str
    price: Decimal


class WidgetMadeV1(IntegrationEvent):
    event_type: ClassVar[str] = "test.repository.widget.made.v1"
    topic: ClassVar[str] = "test.events"
    widget_id: str
    colour: str
    parts: list[PartMessage]
    at: datetime
    grown_later: str | None = None


IntegrationEvent.registry.pop(WidgetMadeV1.event_type)  # a test event: kept out of the platform's catalogue


@dataclass
class Widget:
    id: str
    colour: Colour
    made_at: datetime
    parts: list[Part] = field(default_factory=list)
    shelf: str | None = None
    version: int = 0
    events: list[Any] = field(default_factory=list, repr=False)


TABLE = EventTable({WidgetMade: WidgetMadeV1, WidgetPolished: None})


class WidgetRepository(Repository[Widget]):
    indexes = ([("colour", 1)],)

    def __init__(self, store: InMemoryStore, remember: int = 0) -> None:
        super().__init__(store, Widget, to_integration=TABLE, remember=remember)

    async def of_colour(self, colour: Colour, limit: int, cursor: str | None = None) -> list[Widget]:
        return await self._find({"colour": colour.value}, limit, cursor)

    async def with_part(self, name: str) -> Widget | None:
        return await self._first({"parts.name": name})

    async def ids_on_shelf(self) -> list[str]:
        return await self._ids({"shelf": {"$ne": None}})


def made(widget_id: str, colour: Colour = Colour.RED, parts: tuple[Part, ...] = ()) -> Widget:
    widget = Widget(widget_id, colour, NOW, list(parts))
    widget.events.append(WidgetMade(widget_id, colour, parts, NOW))
    return widget


async def test_round_trip_versions_and_published_events() -> None:
    store = InMemoryStore()
    repo = WidgetRepository(store)
    widget = made("w1", parts=(Part("bolt", Decimal("0.10")),))
    await repo.add(widget, "corr-1")
    assert widget.version == 1 and widget.events == []
    loaded = await repo.get("w1")
    assert loaded == Widget("w1", Colour.RED, NOW, [Part("bolt", Decimal("0.10"))], version=1)
    # The document is JSON mode, without the transient fields.
    assert store.docs["w1"].state == {
        "colour": "red",
        "made_at": "2026-03-01T09:30:00Z",
        "parts": [{"name": "bolt", "price": "0.10"}],
        "shelf": None,
    }
    [published] = store.published
    assert published.subject == "w1" and published.correlation_id == "corr-1"
    assert published.event == WidgetMadeV1(
        widget_id="w1", colour="red", parts=[PartMessage(name="bolt", price=Decimal("0.10"))], at=NOW
    )
    assert loaded is not None
    loaded.shelf = "A3"
    loaded.events.append(WidgetPolished("w1"))  # internal: mapped to nothing
    await repo.save(loaded, applied_event="evt-9")
    assert loaded.version == 2 and len(store.published) == 1
    assert store.docs["w1"].applied_events == ["evt-9"]


async def test_stale_version_conflicts_and_changes_nothing() -> None:
    store = InMemoryStore()
    repo = WidgetRepository(store)
    await repo.add(made("w1"))
    first, second = await repo.get("w1"), await repo.get("w1")
    assert first is not None and second is not None
    first.shelf = "A1"
    await repo.save(first)
    second.shelf = "B2"
    second.events.append(WidgetMade("w1", Colour.BLUE, (), NOW))
    with pytest.raises(ConcurrencyConflict):
        await repo.save(second)
    again = await repo.get("w1")
    assert again is not None and again.shelf == "A1" and again.version == 2
    assert len(store.published) == 1
    assert second.events, "a refused write keeps the events for a retry"


async def test_taken_id_is_refused() -> None:
    store = InMemoryStore()
    repo = WidgetRepository(store)
    await repo.add(made("w1"))
    with pytest.raises(AlreadyExists):
        await repo.add(made("w1", Colour.BLUE))
    got = await repo.get("w1")
    assert got is not None and got.colour is Colour.RED and len(store.published) == 1
    assert await repo.get("nope") is None


async def test_origins_give_each_event_its_caller() -> None:
    store = InMemoryStore()
    repo = WidgetRepository(store)
    widget = made("w1")
    widget.events.append(WidgetMade("w1", Colour.RED, (), NOW))
    await repo.save(widget, origins=[Origin("a", {}), Origin("b", {})])
    assert [p.correlation_id for p in store.published] == ["a", "b"]
    # An event that maps to nothing drops its origin with it.
    polished = await repo.get("w1")
    assert polished is not None
    polished.events += [WidgetPolished("w1"), WidgetMade("w1", Colour.BLUE, (), NOW)]
    await repo.save(polished, origins=[Origin("c", {}), Origin("d", {})])
    assert [p.correlation_id for p in store.published] == ["a", "b", "d"]
    other = made("w2")
    with pytest.raises(ValueError):
        await repo.save(other, origins=[])


async def test_named_queries_page_by_id() -> None:
    store = InMemoryStore()
    repo = WidgetRepository(store)
    for i, colour in enumerate([Colour.RED, Colour.BLUE, Colour.RED, Colour.RED, Colour.BLUE]):
        await repo.add(made(f"w{i}", colour, (Part(f"p{i}", Decimal(i)),)))
    page = await repo.of_colour(Colour.RED, 2)
    assert [w.id for w in page] == ["w0", "w2"]
    rest = await repo.of_colour(Colour.RED, 2, encode_cursor(page[-1].id))
    assert [w.id for w in rest] == ["w3"]
    found = await repo.with_part("p4")
    assert found is not None and found.id == "w4"
    assert await repo.with_part("nothing") is None
    shelved = await repo.get("w1")
    assert shelved is not None
    shelved.shelf = "C"
    await repo.save(shelved)
    assert await repo.ids_on_shelf() == ["w1"]
    await repo.ensure_indexes()
    assert store.indexes == [[("colour", 1)]]


def test_event_table_refuses_a_field_the_contract_lacks() -> None:
    @dataclass(frozen=True)
    class Extra:
        widget_id: str
        secret: str

    with pytest.raises(TypeError, match="secret"):
        EventTable({Extra: WidgetMadeV1})
    with pytest.raises(TypeError, match="no integration event"):
        TABLE(Extra("w", "s"))


def test_filter_subset() -> None:
    doc = {"_id": "b", "n": 3, "tags": ["x", "y"], "items": [{"k": "a", "s": None}, {"k": "b"}], "none": None}
    assert matches(doc, {"tags": "x", "items.k": "b", "n": {"$gte": 3, "$lt": 4}})
    assert matches(doc, {"_id": {"$gt": "a"}, "missing": None, "none": None})
    assert not matches(doc, {"_id": {"$gt": "b"}})
    assert matches(doc, {"n": {"$in": [1, 3]}, "tags": {"$nin": ["z"]}, "items.k": {"$ne": "c"}})
    assert not matches(doc, {"items.k": {"$ne": "a"}})
    assert matches(doc, {"$or": [{"n": 1}, {"tags": "y"}], "missing": {"$exists": False}})
    with pytest.raises(NotImplementedError):
        matches(doc, {"n": {"$regex": "3"}})


async def test_keyed_view_applies_each_event_once() -> None:
    view = InMemoryKeyedView()
    await view.apply("m1", "e1", {"good": True, "name": "Acme"})
    await view.apply("m1", "e2", {"good": False})
    await view.apply("m1", "e1", {"good": True})  # redelivered: ignored
    await view.apply("m2", "e3", {"good": True})
    assert await view.get("m1") == {"good": False, "name": "Acme"}
    assert await view.get("m3") is None
    assert await view.keys_where({"good": True}) == ["m2"]


class CountingStore(InMemoryStore):
    """The in-memory store, counting its reads by id."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, doc_id: str) -> Loaded | None:
        self.reads += 1
        return await super().get(doc_id)


async def test_a_remembered_aggregate_is_loaded_without_a_read_and_saved_against_its_version() -> None:
    store = CountingStore()
    repo = WidgetRepository(store, remember=2)
    await repo.add(made("w1"), applied_event="evt-1")
    found = await repo.load("w1", recent=True)
    assert store.reads == 0 and found is not None
    widget, applied = found
    assert applied == ("evt-1",) and widget.version == 1
    widget.shelf = "A1"
    await repo.save(widget, applied_event="evt-2")
    again = await repo.load("w1", recent=True)
    assert store.reads == 0 and again is not None
    assert again[0] == Widget("w1", Colour.RED, NOW, shelf="A1", version=2) and again[1] == ("evt-1", "evt-2")
    assert again[0] is not widget  # a fresh object each time: changing one changes no other
    # Without ``recent``, and for ``get``, the store is read.
    assert await repo.load("w1") == again and await repo.get("w1") == again[0]
    assert store.reads == 2


async def test_a_stale_memory_conflicts_is_forgotten_and_the_next_load_reads_the_store() -> None:
    store = CountingStore()
    mine, theirs = WidgetRepository(store, remember=10), WidgetRepository(store)
    await mine.add(made("w1"))
    other = await theirs.get("w1")
    assert other is not None
    other.shelf = "B2"
    await theirs.save(other, applied_event="evt-theirs")  # written by another process
    found = await mine.load("w1", recent=True)
    assert found is not None and found[0].version == 1 and found[1] == ()  # stale, from memory
    found[0].shelf = "A1"
    with pytest.raises(ConcurrencyConflict):
        await mine.save(found[0], applied_event="evt-mine")
    reads = store.reads
    fresh = await mine.load("w1", recent=True)
    assert store.reads == reads + 1 and fresh is not None
    assert (fresh[0].shelf, fresh[0].version, fresh[1]) == ("B2", 2, ("evt-theirs",))
    assert store.docs["w1"].applied_events == ["evt-theirs"]


async def test_memory_is_bounded_and_off_by_default() -> None:
    store = CountingStore()
    repo = WidgetRepository(store, remember=2)
    for name in ("w1", "w2", "w3"):
        await repo.add(made(name))
    await repo.load("w1", recent=True)  # the least recently used was dropped
    assert store.reads == 1
    await repo.load("w3", recent=True)
    assert store.reads == 1
    plain = WidgetRepository(store)
    await plain.load("w3", recent=True)
    await plain.load("w3", recent=True)
    assert store.reads == 3
