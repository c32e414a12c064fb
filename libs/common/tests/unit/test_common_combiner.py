"""The change combiner with an in-memory store: batching, refusals, lost races, origins."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from alliance_common.combiner import ChangeCombiner
from alliance_common.errors import Conflict
from alliance_common.events import IntegrationEvent
from alliance_common.outbox import ConcurrencyConflict, Origin


class Added(IntegrationEvent):
    topic: ClassVar[str] = "test.events"
    event_type: ClassVar[str] = "alliance.test.added.v1"
    summary: ClassVar[str] = "An item was added."
    item: int


IntegrationEvent.registry.pop(Added.event_type)  # a test event: kept out of the platform's catalogue


@dataclass
class Box:
    items: list[int]
    version: int
    capacity: int = 1000
    events: list[IntegrationEvent] = field(default_factory=list)

    def add(self, item: int) -> int:
        if len(self.items) >= self.capacity:
            raise Conflict("the box is full")  # refused before changing anything
        self.items.append(item)
        self.events.append(Added(item=item))
        return len(self.items)


class FakeStore:
    def __init__(self, capacity: int = 1000) -> None:
        self.items: list[int] = []
        self.version = 1
        self.capacity = capacity
        self.saves = 0
        self.published: list[tuple[int, str | None]] = []
        self.conflicts_to_raise = 0

    async def load(self, key: str) -> Box:
        await asyncio.sleep(0.001)
        return Box(list(self.items), self.version, self.capacity)

    async def save(self, box: Box, origins: Sequence[Origin]) -> None:
        await asyncio.sleep(0.002)
        assert len(origins) == len(box.events)
        if self.conflicts_to_raise:
            self.conflicts_to_raise -= 1
            self.items.append(-1)  # another replica's write
            self.version += 1
            raise ConcurrencyConflict("moved on")
        if box.version != self.version:
            raise ConcurrencyConflict("stale")
        self.items, self.version, self.saves = list(box.items), self.version + 1, self.saves + 1
        self.published += [
            (e.item, o.correlation_id) for e, o in zip(box.events, origins, strict=True) if isinstance(e, Added)
        ]


async def test_racing_changes_are_all_applied_in_fewer_writes() -> None:
    store = FakeStore()
    combiner: ChangeCombiner[Box] = ChangeCombiner(store.load, store.save)
    results = await asyncio.gather(
        *(combiner.apply("box", lambda b, i=i: b.add(i), correlation_id=f"req-{i}") for i in range(50))
    )
    assert sorted(store.items) == list(range(50))
    assert sorted(size for _, size in results) == list(range(1, 51))  # each saw its own place
    assert store.saves < 50  # combined
    assert sorted(store.published) == [(i, f"req-{i}") for i in range(50)]  # each event keeps its caller


async def test_a_refusal_fails_only_its_caller() -> None:
    store = FakeStore(capacity=3)
    combiner: ChangeCombiner[Box] = ChangeCombiner(store.load, store.save)
    outcomes = await asyncio.gather(
        *(combiner.apply("box", lambda b, i=i: b.add(i)) for i in range(10)), return_exceptions=True
    )
    placed = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(placed) == 3 and len(refused) == 7
    assert store.items == [0, 1, 2]  # arrival order
    assert [item for item, _ in store.published] == [0, 1, 2]


async def test_a_lost_race_decides_the_batch_again_on_the_new_version() -> None:
    store = FakeStore(capacity=3)
    store.conflicts_to_raise = 2  # two other writers add an item each first
    combiner: ChangeCombiner[Box] = ChangeCombiner(store.load, store.save)
    outcomes = await asyncio.gather(
        *(combiner.apply("box", lambda b, i=i: b.add(i)) for i in range(3)), return_exceptions=True
    )
    assert store.items == [-1, -1, 0]
    assert sum(1 for o in outcomes if isinstance(o, Conflict)) == 2


async def test_too_many_lost_races_fail_every_caller_and_nothing_is_left_queued() -> None:
    store = FakeStore()
    store.conflicts_to_raise = 100
    combiner: ChangeCombiner[Box] = ChangeCombiner(store.load, store.save, attempts=3)
    with pytest.raises(ConcurrencyConflict):
        await combiner.apply("box", lambda b: b.add(1))
    store.conflicts_to_raise = 0
    assert (await combiner.apply("box", lambda b: b.add(2)))[1] == len(store.items)


async def test_changes_arriving_while_the_batch_gathers_join_it() -> None:
    store = FakeStore()
    gathered: list[str] = []

    async def gather(key: str) -> None:
        gathered.append(key)
        await asyncio.sleep(0.05)

    combiner: ChangeCombiner[Box] = ChangeCombiner(store.load, store.save, gather=gather)
    first = asyncio.create_task(combiner.apply("box", lambda b: b.add(0)))
    await asyncio.sleep(0.01)  # the batch is gathering, not yet taken
    later = [asyncio.create_task(combiner.apply("box", lambda b, i=i: b.add(i))) for i in range(1, 4)]
    await asyncio.gather(first, *later)
    assert store.items == [0, 1, 2, 3] and store.saves == 1  # one batch, one write
    assert gathered == ["box"]
