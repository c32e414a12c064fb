"""Concurrent changes to one aggregate, applied together: one read, many decisions, one write.

A popular aggregate (a training session everyone wants a place in) turns optimistic concurrency
into a retry storm: every request reads, decides, writes, and all but one lose the race and start
over, so throughput falls as load rises and requests time out. Here the changes waiting for the
same aggregate in this process are queued; one task reads the latest version, applies each
queued change in arrival order, and saves once. Another replica's write still surfaces as a
version conflict, and then the whole batch is decided again on the fresh version.

The domain's rule makes this safe: a refused command raises *before* it changes anything (tested
per aggregate), so a refusal in the middle of a batch leaves the others' changes intact; each
caller gets its own result or its own error. Each event keeps its caller's correlation id and
trace (``Origin``), so combining is invisible in the event stream and the traces.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from alliance_common.outbox import ConcurrencyConflict, Origin

log = logging.getLogger(__name__)


class Aggregate(Protocol):
    events: list[Any]  # domain events or integration events, one origin each


A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")


@dataclass
class _Pending:
    change: Callable[[Any], Any]
    origin: Origin
    future: asyncio.Future[tuple[Any, Any]]


class ChangeCombiner(Generic[A]):
    def __init__(
        self,
        load: Callable[[str], Awaitable[A]],
        save: Callable[[A, Sequence[Origin]], Awaitable[None]],
        *,
        attempts: int = 30,
        max_batch: int = 200,
        gather: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._load = load
        self._save = save
        # Awaited before each batch is taken from the queue (changes arriving meanwhile join it).
        self._gather = gather
        self.attempts = attempts
        self.max_batch = max_batch
        self._queues: dict[str, list[_Pending]] = {}
        self._drainers: dict[str, asyncio.Task[None]] = {}

    async def apply(self, key: str, change: Callable[[A], R], correlation_id: str | None = None) -> tuple[A, R]:
        """Apply ``change`` to the latest ``key`` and save; returns the saved aggregate and the change's result.

        The change's own exception (a refusal) is raised to this caller only.
        """
        future: asyncio.Future[tuple[Any, Any]] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(key, []).append(_Pending(change, Origin.here(correlation_id), future))
        if key not in self._drainers:
            self._drainers[key] = asyncio.create_task(self._drain(key), name=f"combine {key}")
        aggregate, result = await future
        return aggregate, result

    async def _drain(self, key: str) -> None:
        try:
            while True:
                if self._gather is not None and self._queues.get(key):
                    await self._gather(key)
                queue = self._queues.get(key)
                if not queue:
                    return  # no await between this check and the cleanup below: nothing is left behind
                batch, self._queues[key] = queue[: self.max_batch], queue[self.max_batch :]
                await self._apply(key, [p for p in batch if not p.future.done()])
        finally:
            self._drainers.pop(key, None)
            # Left over only if this task was cancelled (shutdown): those callers get an error.
            _fail(self._queues.pop(key, []), RuntimeError(f"stopped before changing {key}"))

    async def _apply(self, key: str, batch: list[_Pending]) -> None:
        if not batch:
            return
        for attempt in range(self.attempts):
            try:
                aggregate = await self._load(key)
            except Exception as exc:  # not found, store down: every caller gets the same answer
                _fail(batch, exc)
                return
            origins: list[Origin] = []
            outcomes: list[tuple[bool, Any]] = []
            for pending in batch:
                before = len(aggregate.events)
                try:
                    result = pending.change(aggregate)
                except Exception as exc:
                    del aggregate.events[before:]
                    outcomes.append((False, exc))
                    continue
                origins.extend([pending.origin] * (len(aggregate.events) - before))
                outcomes.append((True, result))
            if any(ok for ok, _ in outcomes):
                try:
                    await self._save(aggregate, origins)
                except ConcurrencyConflict as exc:
                    if attempt == self.attempts - 1:
                        _fail(batch, exc)
                        return
                    continue  # another replica wrote first: decide the batch again on its version
                except Exception as exc:
                    _fail(batch, exc)
                    return
            for pending, (ok, value) in zip(batch, outcomes, strict=True):
                if pending.future.done():
                    continue
                if ok:
                    pending.future.set_result((aggregate, value))
                else:
                    pending.future.set_exception(value)
            return


def _fail(batch: list[_Pending], exc: BaseException) -> None:
    for pending in batch:
        if not pending.future.done():
            pending.future.set_exception(exc)
