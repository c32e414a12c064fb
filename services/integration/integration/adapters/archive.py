"""The archive on the store: collection ``events``, one document per event, ``_id`` = the CloudEvents id.

Writing a batch costs three round trips whatever its size: reserve a block of sequence numbers
(one compare-and-set on the counter document, which also records the block as pending), insert the
batch (``insert_many(ordered=False)``: an id archived already fails on the unique ``_id`` alone and
is left exactly as it was; its reserved number is a gap, never reused), then release the block.

Readers never see a number before every lower one is settled: the change feed's cursor is a
sequence number, and a writer that reserved 1..10 but stores after another stored 11..20 would
otherwise let a reader pass 20 and never see 1..10. So ``page``, ``scan`` and ``last_seq`` stop
at the horizon: just below the lowest block still pending (or the counter, when none is). A
pending block older than the lease is taken as settled (its writer died; the consumer redelivers
those events, which get new numbers). One writer or several (replicas in one consumer group), the
numbers stay unique and increasing, and a cursor never skips an event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from alliance_common.mongo import Document
from integration.domain.archive import ArchivedEvent

log = logging.getLogger(__name__)

EVENTS = "events"
COUNTERS = "counters"
COUNTER_ID = "events"
DUPLICATE_KEY = 11000
SCAN_BATCH = 1000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class MongoArchive:
    def __init__(self, db: AsyncDatabase[Document], *, lease_s: float = 60.0) -> None:
        self.events = db[EVENTS]
        self.counters = db[COUNTERS]
        self.lease_ms = int(lease_s * 1000)
        self._counter: Document | None = None  # the counter document as this writer last saw it

    async def setup(self) -> None:
        await self.events.create_index([("seq", ASCENDING)], unique=True)
        await self.events.create_index([("type", ASCENDING), ("time", ASCENDING)])
        await self.events.create_index([("subject", ASCENDING), ("time", ASCENDING)])
        await self.events.create_index([("time", ASCENDING)])
        try:
            await self.counters.insert_one({"_id": COUNTER_ID, "seq": 0, "version": 0, "pending": []})
        except DuplicateKeyError:
            pass  # kept from an earlier start (or another replica's)

    # --- writing ---------------------------------------------------------------------------------

    async def add(self, events: Sequence[ArchivedEvent]) -> int:
        unique: list[ArchivedEvent] = []
        ids: set[str] = set()
        for event in events:  # the first of each id, in the given order
            if event.id not in ids:
                ids.add(event.id)
                unique.append(event)
        if not unique:
            return 0
        block = await self._reserve(len(unique))
        try:
            return await self._insert(unique, block["start"])
        finally:
            self._counter = await self.counters.find_one_and_update(
                {"_id": COUNTER_ID},
                {"$pullAll": {"pending": [block]}, "$inc": {"version": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if _now_ms() - block["at"] > self.lease_ms:
                log.warning(
                    "archive: %d..%d stored after its lease; a reader may have passed it", block["start"], block["end"]
                )

    async def _reserve(self, count: int) -> dict[str, int]:
        """Reserve ``count`` numbers and record them as pending, in one compare-and-set on the counter.

        The set is guarded by the counter's ``version`` (every reservation and release changes it):
        a writer that saw an old counter retries from the current one. One writer alone never
        retries (it knows the counter from its own last write), so a batch costs one round trip here.
        """
        while True:
            counter = self._counter or await self.counters.find_one({"_id": COUNTER_ID})
            if counter is None:
                raise RuntimeError("the archive's counter is missing: MongoArchive.setup() was not run")
            now = _now_ms()
            seq = int(counter["seq"])
            block = {"start": seq + 1, "end": seq + count, "at": now}
            # Blocks past their lease are dropped here (their writers died: see the module's notes).
            pending = [b for b in counter.get("pending", ()) if now - int(b["at"]) <= self.lease_ms] + [block]
            version = int(counter["version"])
            result = await self.counters.update_one(
                {"_id": COUNTER_ID, "version": version},
                {"$set": {"seq": seq + count, "pending": pending, "version": version + 1}},
            )
            if result.matched_count == 1:
                self._counter = {**counter, "seq": seq + count, "pending": pending, "version": version + 1}
                return block
            self._counter = None  # another writer moved it: read it again

    async def _insert(self, events: list[ArchivedEvent], first_seq: int) -> int:
        archived_at = datetime.now(UTC)
        documents = [self._document(event, first_seq + i, archived_at) for i, event in enumerate(events)]
        try:
            result = await self.events.insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", ())
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            return int(exc.details.get("nInserted", len(documents) - len(errors)))
        return len(result.inserted_ids)

    @staticmethod
    def _document(event: ArchivedEvent, seq: int, archived_at: datetime) -> Document:
        return {
            "_id": event.id,
            "seq": seq,
            "type": event.type,
            "source": event.source,
            "subject": event.subject,
            "time": _utc(event.time),
            "data": event.data,
            "archived_at": archived_at,
        }

    # --- reading ---------------------------------------------------------------------------------

    async def horizon(self) -> int:
        """The highest sequence number below which every reserved number is settled."""
        counter = await self.counters.find_one({"_id": COUNTER_ID})
        if counter is None:
            return 0
        now = _now_ms()
        live = [int(b["start"]) for b in counter.get("pending", ()) if now - int(b["at"]) <= self.lease_ms]
        return min(live) - 1 if live else int(counter["seq"])

    async def last_seq(self) -> int:
        return await self.horizon()

    @staticmethod
    def _filter(
        after_seq: int,
        upto: int,
        types: Collection[str] | None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"seq": {"$gt": after_seq, "$lte": upto}}
        if types is not None:
            query["type"] = {"$in": sorted(types)}
        if since is not None or until is not None:
            query["time"] = {
                **({"$gte": _utc(since)} if since is not None else {}),
                **({"$lt": _utc(until)} if until is not None else {}),
            }
        return query

    @staticmethod
    def _event(doc: Document) -> ArchivedEvent:
        return ArchivedEvent(
            id=str(doc["_id"]),
            seq=int(doc["seq"]),
            type=str(doc["type"]),
            source=str(doc["source"]),
            subject=str(doc["subject"]),
            time=_utc(doc["time"]),
            data=dict(doc.get("data") or {}),
        )

    async def scan(
        self,
        *,
        types: Collection[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
    ) -> AsyncIterator[ArchivedEvent]:
        if types is not None and not types:
            return
        upto = await self.horizon()
        # Pages by sequence number (no cursor held open between pages: a long consumer of the
        # iterator never times a server cursor out).
        while True:
            found = (
                await self.events.find(self._filter(after_seq, upto, types, since, until))
                .sort("seq", ASCENDING)
                .limit(SCAN_BATCH)
                .to_list()
            )
            for doc in found:
                yield self._event(doc)
            if len(found) < SCAN_BATCH:
                return
            after_seq = int(found[-1]["seq"])

    async def page(
        self, *, after_seq: int = 0, types: Collection[str] | None = None, limit: int = 100
    ) -> list[ArchivedEvent]:
        if types is not None and not types:
            return []
        upto = await self.horizon()
        found = (
            await self.events.find(self._filter(after_seq, upto, types)).sort("seq", ASCENDING).limit(limit).to_list()
        )
        return [self._event(doc) for doc in found]

    async def by_ids(self, ids: Sequence[str]) -> list[ArchivedEvent]:
        if not ids:
            return []
        found = await self.events.find({"_id": {"$in": list(dict.fromkeys(ids))}}).to_list()
        return sorted((self._event(doc) for doc in found), key=lambda e: e.seq)
