"""Transactional outbox without multi-document transactions.

An aggregate's document carries its own ``outbox`` array: the state change and the
events that record it are one single-document write (atomic on FerretDB and MongoDB
alike), guarded by an optimistic ``version``. The relay publishes pending entries with
the idempotent producer and then removes exactly those entries with ``$pullAll``.
A crash between publish and removal only re-publishes; consumers drop duplicates by id.

The relay is woken by every write (no polling delay on the normal path) and publishes the
entries that write announced as they were written, without reading them back; it also scans
on a slow timer for what no wake announced (a crash, another replica, Kafka outages). After
a failed publish it reads the announced documents back before trying again.

A key's events must reach Kafka in order. A write whose document still had entries pending
(``outbox_pending`` set before it: an earlier write's entries not yet published, perhaps by another
replica's relay, stuck on a broker outage) must not publish its own entries alone: they would
overtake the earlier ones, and a consumer would see a suspension before the admission it
follows. So the versioned write is conditional on the flag being clear; when it was set (rare: a
second round trip), the write is made without that condition and asks its relay to read the
document back and publish all its entries in order; an earlier entry sent twice is dropped by the
consumers as a duplicate. (``findAndModify`` returning the flag would save that round trip, but
FerretDB 1.24 implements it without projections, so it would return the whole document.)

The scan must not read every document: ``{"outbox.0": {"$exists": true}}`` is served by no
index (on MongoDB either), so each scan, and each readiness probe's backlog count, read whole
collections. Every write that adds entries therefore also sets ``outbox_pending: true``, an
indexed equality the store serves from its index. The relay's removal clears it in the same
write when the outbox holds exactly what was published (the usual case: one write per
publish, not two); otherwise the scan clears it, in a write conditional on an empty outbox,
once everything is published. A process's first scan still
uses the full filter, once, for documents written before the flag existed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from alliance_common import failpoints
from alliance_common.errors import Conflict
from alliance_common.events import CONTENT_TYPE, IntegrationEvent, envelope_for
from alliance_common.kafka import new_producer, sleep_or_stop
from alliance_common.mongo import Document
from alliance_common.settings import ServiceSettings
from alliance_common.telemetry import current_trace_carrier, end_publish_span, start_publish_span

log = logging.getLogger(__name__)

RESERVED_FIELDS = ("_id", "version", "outbox", "outbox_pending", "applied_events")
PENDING = "outbox_pending"
# CloudEvents structured mode: the value is the whole envelope; no ``ce_`` header may go beside it,
# or SDKs read the record as binary mode (the value as the data) and reject it.
STRUCTURED_MODE = ("content-type", CONTENT_TYPE.encode())
SCAN_PAGE = 500


class ConcurrencyConflict(Conflict):
    """The aggregate changed since it was read; reload and try again (a 409 over HTTP)."""


class AlreadyExists(Conflict):
    """An aggregate with this id exists already."""


@dataclass(frozen=True)
class Loaded:
    """A stored aggregate's state as read, with the version to write against."""

    id: str
    version: int
    state: Document
    applied_events: tuple[str, ...]


class Origin(NamedTuple):
    """Who caused an event: the request's correlation id and its W3C trace context."""

    correlation_id: str | None
    trace: dict[str, str]

    @classmethod
    def here(cls, correlation_id: str | None) -> Origin:
        return cls(correlation_id, current_trace_carrier())


class AggregateStore:
    """One collection of aggregates; every save writes state and outbox entries together."""

    def __init__(self, collection: AsyncCollection[Document], relay: OutboxRelay, source: str, topic: str) -> None:
        self.collection = collection
        self.relay = relay
        self.source = source
        self.topic = topic
        relay.register(collection)

    async def get(self, doc_id: str) -> Loaded | None:
        doc = await self.collection.find_one({"_id": doc_id}, {"outbox": 0})
        if doc is None:
            return None
        return Loaded(
            id=doc_id,
            version=int(doc["version"]),
            state={k: v for k, v in doc.items() if k not in RESERVED_FIELDS},
            applied_events=tuple(doc.get("applied_events", ())),
        )

    def _entries(
        self,
        subject: str,
        events: Sequence[IntegrationEvent],
        correlation_id: str | None,
        origins: Sequence[Origin] | None = None,
    ) -> list[Document]:
        if origins is not None and len(origins) != len(events):
            raise ValueError(f"{len(origins)} origins for {len(events)} events")
        here = Origin.here(correlation_id)
        entries = []
        for i, event in enumerate(events):
            origin = origins[i] if origins is not None else here
            envelope = envelope_for(event, source=self.source, subject=subject, correlation_id=origin.correlation_id)
            entries.append(
                {
                    "id": envelope.id,
                    "topic": event.topic,
                    "key": subject,
                    "type": envelope.type,
                    "value": envelope.to_bytes().decode(),
                    "trace": origin.trace,
                }
            )
        return entries

    async def save(
        self,
        doc_id: str,
        expected_version: int,
        state: Document,
        events: Sequence[IntegrationEvent] = (),
        *,
        applied_event: str | None = None,
        correlation_id: str | None = None,
        origins: Sequence[Origin] | None = None,
    ) -> int:
        """Write ``state`` and its events atomically; returns the new version.

        ``expected_version`` is 0 for a new aggregate. ``applied_event`` records the id
        of the consumed event that caused this change, so it is never applied twice.
        ``origins`` (one per event) is for a write that combines several callers' changes:
        each event then keeps its own caller's correlation id and trace.
        """
        entries = self._entries(doc_id, events, correlation_id, origins)
        clean = {k: v for k, v in state.items() if k not in RESERVED_FIELDS}
        if expected_version == 0:
            doc = {
                "_id": doc_id,
                "version": 1,
                **clean,
                "outbox": entries,
                PENDING: bool(entries),
                "applied_events": [applied_event] if applied_event else [],
            }
            try:
                await self.collection.insert_one(doc)
            except DuplicateKeyError as exc:
                # Which unique index refused it? Stores word the error differently; ask the data.
                if await self.collection.find_one({"_id": doc_id}, {"_id": 1}) is not None:
                    raise AlreadyExists(doc_id) from exc
                raise
        else:
            update: Document = {"$set": {**clean, "version": expected_version + 1}}
            push: Document = {}
            if entries:
                push["outbox"] = {"$each": entries}
                update["$set"][PENDING] = True
            if applied_event:
                push["applied_events"] = applied_event
            if push:
                update["$push"] = push
            versioned: Document = {"_id": doc_id, "version": expected_version}
            # Entries must not overtake earlier ones still pending (perhaps another replica's relay
            # is publishing them): the write says whether any were, in its filter. Usually none
            # were, and this one write is all; else the write is made without that condition and
            # the relay reads the document back, to publish all its entries in order.
            alone = {**versioned, PENDING: {"$ne": True}} if entries else versioned
            result = await self.collection.update_one(alone, update)
            if result.matched_count == 0 and entries:
                result = await self.collection.update_one(versioned, update)
                if result.matched_count == 1:
                    self.relay.notify(self.collection.name, doc_id)  # read back: all its entries, in order
                    return expected_version + 1
            if result.matched_count == 0:
                raise ConcurrencyConflict(f"{self.collection.name}/{doc_id} is no longer at version {expected_version}")
        if entries:
            self.relay.notify(self.collection.name, doc_id, entries)
        return expected_version + 1


class OutboxRelay:
    """Publishes every pending outbox entry of the registered collections to Kafka."""

    def __init__(self, db: AsyncDatabase[Document], settings: ServiceSettings) -> None:
        self.db = db
        self.settings = settings
        self.collections: dict[str, AsyncCollection[Document]] = {}
        # Entries just written, per collection and document, in write order: published as they
        # are (they are stored: the write succeeded before the notice), without reading them back.
        self._written: dict[str, dict[str, list[Document]]] = {}
        # Documents whose entries must be read back first (after a failed publish).
        self._dirty: dict[str, set[str]] = {}
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self.published = 0
        self.emptied_at_once = 0  # documents whose outbox one write emptied (flag cleared with it)
        self.kafka_ok = False
        self._indexed = False
        self._full_scan_done = False

    def register(self, collection: AsyncCollection[Document]) -> None:
        self.collections[collection.name] = collection

    def notify(self, collection: str, doc_id: str, entries: Sequence[Document] = ()) -> None:
        """A write stored ``entries`` in ``doc_id``'s outbox (none given: read the document)."""
        if entries:
            self._written.setdefault(collection, {}).setdefault(doc_id, []).extend(entries)
        else:
            self._dirty.setdefault(collection, set()).add(doc_id)
        self._wake.set()

    def _pending_notices(self) -> bool:
        return any(self._written.values()) or any(self._dirty.values())

    async def backlog(self) -> int:
        total = 0
        for collection in self.collections.values():
            total += await collection.count_documents({PENDING: True, "outbox.0": {"$exists": True}})
        return total

    async def _ensure_indexes(self) -> None:
        # The flag's index serves the scan and the backlog count (the local store adds a GIN twin).
        for collection in self.collections.values():
            await collection.create_index(PENDING)
        self._indexed = True

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_scan = 0.0  # scan at once on start: entries left by a previous process
        backoff = 0.2
        while not stop.is_set():
            try:
                if not self._indexed:
                    await self._ensure_indexes()
                if loop.time() >= next_scan:
                    await self._publish_scan()
                    next_scan = loop.time() + self.settings.outbox_poll_interval_s
                await self._publish_written()
                await self._publish_dirty()
                backoff = 0.2
                self.kafka_ok = True
            except (TimeoutError, KafkaError, OSError, PyMongoError) as exc:
                self.kafka_ok = not isinstance(exc, KafkaError | asyncio.TimeoutError)
                log.warning("outbox relay: %s; retrying in %.1fs", exc, backoff)
                await self._drop_producer()
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if not self._pending_notices():
                self._wake.clear()
                timeout = max(0.0, next_scan - loop.time())
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({waiter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()
        await self._drop_producer()

    async def _producer_ready(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = new_producer(self.settings)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                await producer.stop()
            except Exception:  # a broken connection may fail to close; it is discarded anyway
                log.debug("closing producer failed", exc_info=True)

    async def _publish_written(self) -> None:
        while any(self._written.values()):
            for name in list(self._written):
                written = self._written.pop(name, {})
                # A document waiting to be read back (its earlier entries failed to publish) is
                # published from the store, all its entries in order: later notices would overtake.
                rereading = self._dirty.get(name, set())
                try:
                    docs = [(doc_id, entries) for doc_id, entries in written.items() if doc_id not in rereading]
                    for i in range(0, len(docs), 500):
                        await self._publish_documents(
                            [(name, {"_id": doc_id, "outbox": entries}) for doc_id, entries in docs[i : i + 500]]
                        )
                except BaseException:
                    # Read these documents back: the next round (or the scan) publishes what is left.
                    self._dirty.setdefault(name, set()).update(written)
                    raise

    async def _publish_dirty(self) -> None:
        while any(self._dirty.values()):
            for name in list(self._dirty):
                chosen = list(self._dirty.pop(name, ()))
                try:
                    # Reads by _id alone: some stores use the primary key only for that exact
                    # shape (FerretDB 1.x scans the collection for an $in); the dirty set is small.
                    collection = self.collections[name]
                    for i in range(0, len(chosen), 500):
                        found = [
                            await collection.find_one({"_id": doc_id}, {"outbox": 1}) for doc_id in chosen[i : i + 500]
                        ]
                        await self._publish_documents([(name, d) for d in found if d is not None])
                except BaseException:
                    # Keep them marked: the next round (or the scan) publishes them.
                    self._dirty.setdefault(name, set()).update(chosen)
                    raise

    async def _publish_scan(self) -> None:
        full = not self._full_scan_done
        for name, collection in self.collections.items():
            query: Document = {"outbox.0": {"$exists": True}} if full else {PENDING: True}
            after: str | None = None
            while True:
                page = query if after is None else {**query, "_id": {"$gt": after}}
                docs = await collection.find(page, {"outbox": 1}).sort("_id", 1).limit(SCAN_PAGE).to_list()
                if not docs:
                    break
                await self._publish_documents([(name, d) for d in docs])
                self._forget_written(name, docs)
                for doc in docs:
                    # Everything it held is published now (here or by an earlier notice): clear the
                    # flag unless a write added entries meanwhile (that write set it again).
                    await collection.update_one({"_id": doc["_id"], "outbox": {"$size": 0}}, {"$set": {PENDING: False}})
                if len(docs) < SCAN_PAGE:
                    break
                after = docs[-1]["_id"]
        self._full_scan_done = True

    async def _publish_documents(self, docs: list[tuple[str, Document]]) -> None:
        pending = [(name, doc) for name, doc in docs if doc.get("outbox")]
        if not pending:
            return
        producer = await self._producer_ready()
        sends: list[tuple[Any, Any]] = []
        for _, doc in pending:
            for entry in doc["outbox"]:
                span, headers = start_publish_span(entry["topic"], entry.get("trace") or {}, entry["id"], entry["key"])
                headers.append(STRUCTURED_MODE)
                future = await producer.send(
                    entry["topic"], entry["value"].encode(), key=entry["key"].encode(), headers=headers
                )
                sends.append((future, span))
        results = await asyncio.gather(*(f for f, _ in sends), return_exceptions=True)
        failed = None
        for (_, span), result in zip(sends, results, strict=True):
            end_publish_span(span, result if isinstance(result, BaseException) else None)
            if isinstance(result, BaseException):
                failed = result
        if failed is not None:
            raise failed
        failpoints.hit("outbox.after_publish")  # published and acknowledged, not yet removed
        for name, doc in pending:
            await self._remove_published(self.collections[name], doc)
            self.published += len(doc["outbox"])

    async def _remove_published(self, collection: AsyncCollection[Document], doc: Document) -> None:
        """Remove exactly the entries just published; entries appended meanwhile stay.

        Usually the outbox holds exactly what was published: then one write empties it and clears
        the pending flag (else the next scan would clear it, a second write per document). When a
        write appended entries meanwhile, that filter misses and ``$pullAll`` removes only the
        published ones (the flag stays set: the new entries are pending). One update per document:
        FerretDB 1.24 holds a pool connection per statement of an update command until the command
        ends, so one bulk of ~100 statements hangs the local store.
        """
        emptied = await collection.update_one(
            {"_id": doc["_id"], "outbox": doc["outbox"]}, {"$set": {"outbox": [], PENDING: False}}
        )
        if emptied.matched_count:
            self.emptied_at_once += 1
            return
        await collection.update_one({"_id": doc["_id"]}, {"$pullAll": {"outbox": doc["outbox"]}})

    def _forget_written(self, name: str, docs: list[Document]) -> None:
        """Drop notices of entries a scan has just published (they would only be sent twice)."""
        written = self._written.get(name)
        if not written:
            return
        for doc in docs:
            entries = written.get(doc["_id"])
            if entries:
                published = {entry["id"] for entry in doc["outbox"]}
                left = [entry for entry in entries if entry["id"] not in published]
                if left:
                    written[doc["_id"]] = left
                else:
                    del written[doc["_id"]]
