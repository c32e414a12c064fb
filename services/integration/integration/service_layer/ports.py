"""The archive as the use cases see it: every feature of this service reads events through this port.

``adapters.archive.MongoArchive`` implements it on the store; ``adapters.memory.InMemoryArchive``
in memory, for unit tests of use cases without infrastructure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Protocol

from integration.domain.archive import ArchivedEvent


class Archive(Protocol):
    async def add(self, events: Sequence[ArchivedEvent]) -> int:
        """Store events not yet archived (by ``id``; ``seq`` is assigned here, the given one ignored).

        Returns how many were new; an event already archived is left exactly as it was.
        """
        ...

    def scan(
        self,
        *,
        types: Collection[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
    ) -> AsyncIterator[ArchivedEvent]:
        """Every archived event in ``seq`` order, optionally only these types, ``since <= time < until``."""
        ...

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
        """At most ``limit`` events after ``after_seq`` in ``seq`` order (the change feed's read), optionally
        only these types, about this ``subject``, ``since <= time < until`` (the auditors' listing)."""
        ...

    async def by_ids(self, ids: Sequence[str]) -> list[ArchivedEvent]:
        """The archived events with these ids, in ``seq`` order (unknown ids are left out)."""
        ...

    async def last_seq(self) -> int:
        """The highest ``seq`` assigned so far (0 when empty): the archive's version, e.g. for ETags."""
        ...
