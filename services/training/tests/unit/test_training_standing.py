"""The member-standing view's cache: answers kept ``ttl_s`` at most, cleared by the events applied here.

On ``InMemoryKeyedView`` behind a wrapper that counts (and can hold) reads; a fake clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from alliance_common.events import envelope_for
from alliance_common.mongo import Document
from alliance_common.testing import InMemoryKeyedView
from alliance_contracts.membership import MemberReinstated, MemberSuspended
from training.adapters.standing import MemberStanding

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class CountingView:
    def __init__(self) -> None:
        self.inner = InMemoryKeyedView()
        self.reads = 0
        self.hold: asyncio.Event | None = None  # set: reads wait for it (after reading)

    async def apply(self, key: str, event_id: str, changes: Mapping[str, Any]) -> None:
        await self.inner.apply(key, event_id, changes)

    async def get(self, key: str) -> Document | None:
        self.reads += 1
        doc = await self.inner.get(key)
        if self.hold is not None:
            await self.hold.wait()
        return doc

    async def keys_where(self, query: Mapping[str, Any]) -> list[str]:
        return await self.inner.keys_where(query)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def standing(ttl_s: float = 2.0, max_entries: int = 100) -> tuple[MemberStanding, CountingView, Clock]:
    view, clock = CountingView(), Clock()
    return MemberStanding(view, ttl_s=ttl_s, max_entries=max_entries, clock=clock), view, clock


async def reinstate(s: MemberStanding, member: str) -> None:
    event = MemberReinstated(member_id=member, reinstated_at=NOW)
    await s.apply(envelope_for(event, source="/alliance/test", subject=member), event)


async def suspend(s: MemberStanding, member: str) -> None:
    event = MemberSuspended(member_id=member, reason="dues", suspended_at=NOW)
    await s.apply(envelope_for(event, source="/alliance/test", subject=member), event)


async def test_an_answer_is_kept_for_ttl_then_read_again() -> None:
    s, view, clock = standing(ttl_s=2.0)
    await reinstate(s, "org-a")
    assert await s.in_good_standing("org-a") is True
    assert await s.in_good_standing("org-a") is True
    assert await s.in_good_standing("org-x") is False  # unknown: not a member; cached too
    assert await s.in_good_standing("org-x") is False
    assert view.reads == 2
    clock.now += 1.9
    assert await s.in_good_standing("org-a") is True
    assert view.reads == 2
    clock.now += 0.2
    assert await s.in_good_standing("org-a") is True
    assert view.reads == 3


async def test_an_event_applied_here_clears_the_member_at_once() -> None:
    s, view, _ = standing()
    await reinstate(s, "org-a")
    assert await s.in_good_standing("org-a") is True
    assert await s.in_good_standing("org-b") is False
    await suspend(s, "org-a")
    assert await s.in_good_standing("org-a") is False
    await reinstate(s, "org-a")
    assert await s.in_good_standing("org-a") is True
    assert await s.in_good_standing("org-b") is False  # others stay cached
    assert view.reads == 4


async def test_a_read_overlapping_an_event_is_not_kept() -> None:
    s, view, _ = standing()
    await reinstate(s, "org-a")
    view.hold = asyncio.Event()
    read = asyncio.create_task(s.in_good_standing("org-a"))
    await asyncio.sleep(0)
    assert view.reads == 1  # it read "in good standing" and waits to return it
    await suspend(s, "org-a")  # applied meanwhile
    view.hold.set()
    assert await read is True  # as it read, before the event
    view.hold = None
    assert await s.in_good_standing("org-a") is False  # not answered from that older read
    assert view.reads == 2


async def test_a_read_while_an_event_is_being_applied_is_not_kept() -> None:
    s, view, _ = standing()
    await reinstate(s, "org-a")
    entered, release = asyncio.Event(), asyncio.Event()
    inner_apply = view.apply

    async def slow_apply(key: str, event_id: str, changes: Mapping[str, Any]) -> None:
        entered.set()
        await release.wait()
        await inner_apply(key, event_id, changes)

    view.apply = slow_apply  # type: ignore[method-assign]
    applying = asyncio.create_task(suspend(s, "org-a"))
    await entered.wait()
    assert await s.in_good_standing("org-a") is True  # the view is not written yet
    release.set()
    await applying
    assert await s.in_good_standing("org-a") is False
    assert view.reads == 2


async def test_no_caching_with_ttl_zero_and_the_cache_is_bounded() -> None:
    s, view, _ = standing(ttl_s=0)
    await s.in_good_standing("org-a")
    await s.in_good_standing("org-a")
    assert view.reads == 2
    s, view, _ = standing(max_entries=3)
    for member in ("a", "b", "c", "d"):
        await s.in_good_standing(member)
    assert view.reads == 4
    await s.in_good_standing("a")  # the oldest went first
    await s.in_good_standing("d")
    assert view.reads == 5
    assert await s.in_good_standing(None) is False
    assert await s.in_good_standing("") is False
    assert view.reads == 5
