"""The shared rate limit's reconciliation, driven by explicit clock values and an in-memory store.

The store here is a dict (the real one, ``MongoCounterStore`` on FerretDB, is exercised by
``gateway/tests/integration/test_gateway_shared_ratelimit.py`` with two gateway processes).
"""

from __future__ import annotations

import asyncio

import pytest

from gateway.ratelimit import SharedRateLimiter


class DictStore:
    def __init__(self) -> None:
        self.counts: dict[tuple[int, str], int] = {}
        self.fail = False
        self.exchanges = 0

    async def exchange(self, window: int, deltas: dict[str, int], callers: list[str]) -> dict[str, int]:
        if self.fail:
            raise ConnectionError("store down")
        self.exchanges += 1
        for caller, delta in deltas.items():
            self.counts[window, caller] = self.counts.get((window, caller), 0) + delta
        return {c: self.counts[window, c] for c in {*callers, *deltas} if (window, c) in self.counts}

    async def forget_before(self, window: int) -> None:
        self.counts = {k: v for k, v in self.counts.items() if k[0] >= window}


def accepted(limiter: SharedRateLimiter, caller: str, calls: int, now: float) -> int:
    return sum(limiter.take(caller, now=now) == 0.0 for _ in range(calls))


def test_a_window_allows_the_burst_and_lasts_burst_over_rate_seconds() -> None:
    limiter = SharedRateLimiter(rate_per_s=10.0, burst=5)
    assert limiter.window_s == pytest.approx(0.5)
    assert accepted(limiter, "a", 8, now=100.0) == 5
    assert limiter.take("a", now=100.1) == pytest.approx(0.4)  # the rest of the window
    assert accepted(limiter, "a", 8, now=100.5) == 5  # a new window


async def test_after_a_sync_each_replica_counts_the_others_calls() -> None:
    store = DictStore()
    a, b = SharedRateLimiter(1.0, 10), SharedRateLimiter(1.0, 10)
    assert accepted(a, "x", 6, now=0.0) == 6
    await a.sync_once(store, now=0.0)
    assert accepted(b, "x", 1, now=0.1) == 1  # b has not read the total yet: it decides alone
    await b.sync_once(store, now=0.1)  # writes its 1, reads 7
    assert accepted(b, "x", 10, now=0.2) == 3
    await b.sync_once(store, now=0.2)
    # a was not called since its sync: it reads the total again only once it is (no idle reads),
    # so its next call is decided on what it knew: one more, within the stated overshoot bound.
    await a.sync_once(store, now=0.3)
    assert accepted(a, "x", 1, now=0.3) == 1
    await a.sync_once(store, now=0.4)
    assert accepted(a, "x", 10, now=0.4) == 0
    assert store.counts[0, "x"] == 11


async def test_two_replicas_hammered_between_syncs_stay_within_the_stated_bound() -> None:
    """limit + replicas x (calls one replica accepts between two syncs), as the module states."""
    store = DictStore()
    limit, per_interval = 100, 15
    replicas = [SharedRateLimiter(1.0, limit) for _ in range(2)]
    total = 0
    for step in range(40):  # 40 sync intervals, well inside one 100 s window
        for r in replicas:
            total += accepted(r, "x", per_interval, now=float(step))
        for r in replicas:
            await r.sync_once(store, now=float(step))
    assert limit <= total <= limit + len(replicas) * per_interval
    assert store.counts[0, "x"] == total


async def test_unshared_replicas_would_give_twice_the_allowance() -> None:
    """The reason for sharing: without syncs, two replicas accept the limit each."""
    replicas = [SharedRateLimiter(1.0, 50) for _ in range(2)]
    assert sum(accepted(r, "x", 100, now=0.0) for r in replicas) == 100


async def test_a_store_outage_falls_back_to_the_local_count_and_sends_it_later() -> None:
    store = DictStore()
    limiter = SharedRateLimiter(1.0, 10)
    store.fail = True
    assert accepted(limiter, "x", 4, now=0.0) == 4
    assert await limiter.sync_once(store, now=0.0) is False
    assert limiter.shared is False
    assert accepted(limiter, "x", 20, now=0.1) == 6  # the local limit still holds
    store.fail = False
    assert await limiter.sync_once(store, now=0.2) is True
    assert limiter.shared is True
    assert store.counts[0, "x"] == 10  # nothing accepted meanwhile was lost to the others


async def test_calls_accepted_while_a_sync_is_under_way_are_kept_for_the_next() -> None:
    class SlowStore(DictStore):
        async def exchange(self, window: int, deltas: dict[str, int], callers: list[str]) -> dict[str, int]:
            await asyncio.sleep(0.05)
            return await super().exchange(window, deltas, callers)

    store = SlowStore()
    limiter = SharedRateLimiter(1.0, 10)
    accepted(limiter, "x", 3, now=0.0)
    sync = asyncio.create_task(limiter.sync_once(store, now=0.0))
    await asyncio.sleep(0.01)
    assert accepted(limiter, "x", 20, now=0.0) == 7  # the 3 being sent still count
    await sync
    assert store.counts[0, "x"] == 3
    await limiter.sync_once(store, now=0.0)
    assert store.counts[0, "x"] == 10


async def test_past_windows_are_dropped_and_a_new_window_starts_from_zero() -> None:
    store = DictStore()
    limiter = SharedRateLimiter(1.0, 5)  # 5 s windows
    accepted(limiter, "x", 5, now=0.0)
    await limiter.sync_once(store, now=0.0)
    assert accepted(limiter, "x", 5, now=5.0) == 5
    await limiter.sync_once(store, now=5.0)
    assert store.counts == {(0, "x"): 5, (1, "x"): 5}
    await store.forget_before(1)
    assert store.counts == {(1, "x"): 5}


async def test_idle_syncs_do_not_touch_the_store() -> None:
    store = DictStore()
    limiter = SharedRateLimiter(1.0, 5)
    accepted(limiter, "x", 1, now=0.0)
    await limiter.sync_once(store, now=0.0)
    await limiter.sync_once(store, now=0.1)
    await limiter.sync_once(store, now=0.2)
    assert store.exchanges == 1


async def test_run_syncs_until_stopped_and_sends_the_last_counts() -> None:
    store = DictStore()
    limiter = SharedRateLimiter(100.0, 1000, sync_s=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(limiter.run(store, stop))
    limiter.take("x")
    await asyncio.sleep(0.05)
    limiter.take("x")
    stop.set()
    await task
    assert sum(store.counts.values()) == 2
