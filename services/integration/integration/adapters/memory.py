"""The archive in memory: the same behaviour as ``MongoArchive``, for unit tests of the use cases."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime

from integration.domain.archive import ArchivedEvent


class InMemoryArchive:
    def __init__(self, events: Sequence[ArchivedEvent] = ()) -> None:
        self._events: list[ArchivedEvent] = []
        self._ids: set[str] = set()
        self._seq = 0
        self._preload = list(events)

    async def add(self, events: Sequence[ArchivedEvent]) -> int:
        await self._loaded()
        added = 0
        for event in events:
            if event.id in self._ids:
                continue
            self._seq += 1
            self._events.append(dataclasses.replace(event, seq=self._seq))
            self._ids.add(event.id)
            added += 1
        return added

    async def _loaded(self) -> None:
        if self._preload:
            preload, self._preload = self._preload, []
            await self.add(preload)

    async def scan(
        self,
        *,
        types: Collection[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
    ) -> AsyncIterator[ArchivedEvent]:
        await self._loaded()
        for event in list(self._events):
            if event.seq <= after_seq or (types is not None and event.type not in types):
                continue
            if (since is not None and event.time < since) or (until is not None and event.time >= until):
                continue
            yield event

    async def page(
        self,
        *,
        after_seq: int = 0,
        types: Collection[str] | None = None,
        limit: int = 100,
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ArchivedEvent]:
        out: list[ArchivedEvent] = []
        async for event in self.scan(types=types, after_seq=after_seq, since=since, until=until):
            if subject is not None and event.subject != subject:
                continue
            out.append(event)
            if len(out) >= limit:
                break
        return out

    async def by_ids(self, ids: Sequence[str]) -> list[ArchivedEvent]:
        await self._loaded()
        wanted = set(ids)
        return [e for e in self._events if e.id in wanted]

    async def last_seq(self) -> int:
        await self._loaded()
        return self._seq
