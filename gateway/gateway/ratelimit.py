"""Per-caller rate limits: in one gateway replica's memory, or shared by all replicas through the store.

``RateLimiter``: a token bucket per caller (``rate_per_s``, ``burst``), in this replica's memory.
With one gateway that is the whole limit; with N replicas a caller who spreads its calls gets N
times its allowance.

``SharedRateLimiter`` (``RATE_LIMIT_SHARED=true``): every replica counts against one counter
per caller and fixed window, kept in the gateway's own database (``MONGODB_URL``, database
``gateway``, collection ``rate_limits``). A window lasts ``burst / rate_per_s`` seconds and
allows ``burst`` calls, so the long-run rate is the same ``rate_per_s`` (at a window's edge a
caller may spend two windows' worth back to back, as with any fixed window).

No request waits for the store. Each replica decides locally and reconciles in the background
every ``sync_s`` (0.15 s by default): it adds what it accepted since the last sync to each
caller's window document (``$inc``, upserted) and reads back the totals that all replicas have
written. A call is refused once the last total read plus what this replica accepted since then
reaches the limit.

Overshoot bound: between two syncs a replica does not see what the others accept, so a window
can accept at most ``limit + replicas x (calls one replica accepts from that caller in sync_s)``,
i.e. ``limit + replicas x caller's rate per replica x (sync_s + the store's round trip)``, and never more than
``replicas x limit``. With the defaults (200 per 2 s window, 0.15 s sync, two replicas), a caller
sending 1,000 calls/s to each replica gets at most 200 + 2 x 150 = 500 in a window instead of 200,
and one that spreads 200 calls/s gets at most 200 + 60. Callers below their limit are never
refused because of the sharing.

When the store does not answer, the replica keeps deciding on what it knows: the last totals it
read plus its own count, which for a new window is a per-replica limit (the allowance doubles
with two replicas, as before sharing). It logs the fallback and its end, and the counts it kept
meanwhile are written once the store answers again. A sync whose outcome is unknown (an error
after sending) is retried: a delta may then count twice, which only ever refuses sooner.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

log = logging.getLogger(__name__)


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int, max_callers: int = 100_000) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.max_callers = max_callers
        self.buckets: dict[str, Bucket] = {}

    def take(self, caller: str, now: float | None = None) -> float:
        """0.0 if the call may proceed, else the seconds to wait before retrying."""
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(caller)
        if bucket is None:
            if len(self.buckets) >= self.max_callers:
                self.buckets.clear()  # bounded memory; a reset only ever grants more
            bucket = self.buckets[caller] = Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


@dataclass
class Count:
    """One caller's calls in one window, as this replica knows them."""

    window: int
    seen: int = 0  # the total of all replicas at the last sync (this replica's sent calls included)
    unsent: int = 0  # accepted here since the last sync began
    sending: int = 0  # accepted here, being written by the sync under way
    touched: bool = True  # called since the last sync: its total is read back


@dataclass
class Exchange:
    """What one sync writes (each key's delta) and reads back (every key's total)."""

    window: int
    deltas: dict[str, int] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)


class CounterStore(Protocol):
    async def exchange(self, window: int, deltas: dict[str, int], callers: list[str]) -> dict[str, int]:
        """Add each delta to its caller's window counter, then return the totals of ``callers``."""
        ...

    async def forget_before(self, window: int) -> None:
        """Delete the counters of windows before ``window``."""
        ...


class SharedRateLimiter:
    """Fixed-window counters shared through a ``CounterStore``, reconciled every ``sync_s`` (module doc)."""

    def __init__(self, rate_per_s: float, burst: int, sync_s: float = 0.15, max_callers: int = 100_000) -> None:
        self.limit = burst
        self.window_s = burst / rate_per_s
        self.sync_s = sync_s
        self.max_callers = max_callers
        self.counts: dict[str, Count] = {}
        self.shared = True  # False while the store does not answer (local decisions only)

    def window_of(self, now: float) -> int:
        return int(now // self.window_s)

    def take(self, caller: str, now: float | None = None) -> float:
        """0.0 if the call may proceed, else the seconds to wait (the rest of the window)."""
        now = time.time() if now is None else now  # wall clock: every replica's windows are the same
        window = int(now // self.window_s)
        count = self.counts.get(caller)
        if count is None or count.window != window:
            if count is None and len(self.counts) >= self.max_callers:
                self.counts.clear()  # bounded memory; a reset only ever grants more
            count = self.counts[caller] = Count(window)
        count.touched = True
        if count.seen + count.sending + count.unsent >= self.limit:
            return max((window + 1) * self.window_s - now, 0.001)
        count.unsent += 1
        return 0.0

    def begin_sync(self, now: float) -> Exchange:
        """The deltas to write and the callers to read back (those called since the last sync)."""
        window = self.window_of(now)
        exchange = Exchange(window)
        for caller, count in list(self.counts.items()):
            if count.window != window:
                del self.counts[caller]  # a past window: its counts no longer decide anything
                continue
            if count.unsent:
                exchange.deltas[caller] = count.unsent
                count.sending, count.unsent = count.unsent, 0
            if count.touched:
                exchange.keys.append(caller)
                count.touched = False
        return exchange

    def end_sync(self, exchange: Exchange, totals: dict[str, int] | None) -> None:
        """Apply the totals read back; None: the sync failed, its deltas go out with the next one."""
        for caller in set(exchange.deltas) | set(exchange.keys):
            count = self.counts.get(caller)
            if count is None or count.window != exchange.window:
                continue
            if totals is None:
                count.unsent += count.sending
                count.touched = True
            elif caller in totals:
                count.seen = max(count.seen, totals[caller])
            count.sending = 0

    async def sync_once(self, store: CounterStore, now: float | None = None) -> bool:
        """One reconciliation with the store; False when it did not answer (within 2 s at most)."""
        exchange = self.begin_sync(time.time() if now is None else now)
        if not exchange.deltas and not exchange.keys:
            return True
        try:
            totals = await asyncio.wait_for(
                store.exchange(exchange.window, exchange.deltas, exchange.keys), max(2.0, 10 * self.sync_s)
            )
        except Exception as exc:  # noqa: BLE001 - any store failure: keep deciding locally
            self.end_sync(exchange, None)
            if self.shared:
                log.warning("rate limits: the store did not answer (%s); limiting per replica until it does", exc)
                self.shared = False
            return False
        self.end_sync(exchange, totals)
        if not self.shared:
            log.warning("rate limits: the store answers again; limits are shared by all replicas")
            self.shared = True
        return True

    async def run(self, store: CounterStore, stop: asyncio.Event) -> None:
        """Sync every ``sync_s`` until ``stop``; past windows' counters are deleted now and then."""
        forgotten = -1
        while not stop.is_set():
            with_store = await self.sync_once(store)
            window = self.window_of(time.time())
            if with_store and window - 2 > forgotten:
                try:
                    await store.forget_before(window - 1)
                    forgotten = window - 2
                except Exception as exc:  # noqa: BLE001 - the next sync reports an unreachable store
                    log.debug("rate limits: past windows not deleted yet (%s)", exc)
            try:
                await asyncio.wait_for(stop.wait(), self.sync_s)
            except TimeoutError:
                pass
        await self.sync_once(store)  # what was accepted last still counts for the other replicas


class MongoCounterStore:
    """Window counters in a MongoDB (FerretDB) collection: ``{_id: "<window>:<caller>", w, n}``."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self.collection = collection

    async def exchange(self, window: int, deltas: dict[str, int], callers: list[str]) -> dict[str, int]:
        prefix = f"{window}:"
        if deltas:
            await self.collection.bulk_write(
                [
                    UpdateOne({"_id": prefix + caller}, {"$inc": {"n": delta}, "$set": {"w": window}}, upsert=True)
                    for caller, delta in deltas.items()
                ],
                ordered=False,
            )
        ids = [prefix + c for c in {*callers, *deltas}]
        totals: dict[str, int] = {}
        async for doc in self.collection.find({"_id": {"$in": ids}}, {"n": 1}):
            totals[str(doc["_id"])[len(prefix) :]] = int(doc["n"])
        return totals

    async def forget_before(self, window: int) -> None:
        await self.collection.delete_many({"w": {"$lt": window}})
