"""Idempotent Kafka consumer: at-least-once delivery, effects applied exactly once.

- Batches come from ``getmany``; offsets are committed only after every message up to them
  has had its effect stored (or gone to the dead-letter topic): for all partitions at once,
  at most every ``COMMIT_INTERVAL_S`` while messages keep coming, at once when a fetch comes
  back empty, and on a clean stop. A crash replays at most that much more, which the inbox
  and the documents' own records make harmless; each commit is a broker write, so one per
  fetch cost the broker a write per event at low batch sizes.
- Each processed event id is recorded per consumer group in the service's own database
  under a unique index (looked up, and recorded, once per partition batch), and handlers
  also record the event id in the aggregate they change
  (``AggregateStore.save(applied_event=...)``), so a crash between the effect and the
  record can never apply an event twice.
- An event of a type we handle is accepted only from the topic and ``source`` of the service
  that owns the type (``check_origin``); any other goes to the dead-letter topic at once.
- A handler whose whole effect is one document that records the event id in the same write
  (``records_itself``) needs no inbox: that document is its record, so the consumer neither
  looks its events up nor records them (two store round trips fewer per event). A redelivery
  runs the handler again, and the document's own record makes it change nothing. Within a
  batch, keys whose events all have such handlers are applied side by side (each key's events
  in order); every other event runs in offset order, as one sequence.
- A failing handler is retried with backoff; after the last attempt, or at once for a
  message that can never be read (``PoisonEvent``), it goes to ``<service>.dlq`` with the
  error, a short reason (``dlq.reason``) and its origin in the headers, and the consumer goes on.
- Records are read in either CloudEvents mode (structured, which the platform writes, or binary).
- A consumer may also take every event of its topics, of any type (``every_event``: a batch
  handler, e.g. the integration service's archive): it gets each fetch's events at once, in
  offset order per partition, after the same checks (a known type only from its owner, with a
  valid body; a type no contract declares only with the ``source`` of the topic it came on).
  Its effect must be idempotent by event id (it has no inbox); a batch that keeps failing
  restarts the consumer from its committed offsets rather than dead-lettering anything.
- Everything awaits; nothing blocks the event loop, so heartbeats keep flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, PyMongoError

from alliance_common import failpoints
from alliance_common.events import (
    Envelope,
    IntegrationEvent,
    PoisonEvent,
    UntrustedEvent,
    check_origin,
    envelope_from_record,
    source_for,
)
from alliance_common.kafka import new_consumer, new_producer, sleep_or_stop
from alliance_common.mongo import Document
from alliance_common.settings import ServiceSettings
from alliance_common.telemetry import batch_process_span, process_span

log = logging.getLogger(__name__)

EventHandler = Callable[[Envelope, IntegrationEvent], Awaitable[None]]
# Every event of a fetch at once (``EventConsumer(every_event=...)``), each partition's in offset order.
BatchHandler = Callable[[list[Envelope]], Awaitable[None]]


class BatchFailed(Exception):
    """An ``every_event`` batch failed on every attempt: the consumer restarts from its committed offsets."""


class SelfRecordingHandler:
    """A handler whose effect is one document written together with the event's id (see
    ``records_itself``); calling it calls the handler."""

    def __init__(self, handler: EventHandler) -> None:
        self.handler = handler

    async def __call__(self, envelope: Envelope, event: IntegrationEvent) -> None:
        await self.handler(envelope, event)


def records_itself(handler: Any) -> EventHandler:
    """Mark ``handler`` as recording each event it applies in the one document it changes, in the
    same write as the change (an aggregate saved with ``applied_event``, or a keyed read model's
    ``apply``), and changing nothing when the id is recorded already. Its events skip the
    consumer's inbox. Not for handlers that change several documents, create documents under new
    ids, or act outside the store: those keep the inbox.
    """
    return SelfRecordingHandler(handler)


PROCESSED = "processed_events"
DUPLICATE_KEY = 11000
INBOX_READS_IN_FLIGHT = 16
HANDLERS_IN_FLIGHT = 16
COMMIT_INTERVAL_S = 0.5


def dead_letter_reason(error: BaseException) -> str:
    """A short, stable reason for the dead-letter headers: ``untrusted-origin``, ``poison`` or ``handler-failed``."""
    return error.reason if isinstance(error, PoisonEvent) else "handler-failed"


async def ensure_inbox_indexes(db: AsyncDatabase[Document]) -> None:
    await db[PROCESSED].create_index([("consumer", ASCENDING), ("event_id", ASCENDING)], unique=True)


class EventConsumer:
    """Subscribes one consumer group to the topics of the event types it handles."""

    def __init__(
        self,
        settings: ServiceSettings,
        db: AsyncDatabase[Document],
        group_id: str,
        handlers: dict[type[IntegrationEvent], EventHandler],
        *,
        every_event: BatchHandler | None = None,
        topics: Sequence[str] = (),
    ) -> None:
        """``every_event``: also called with every event of ``topics`` (and of the handled types' topics),
        whatever its type, once per fetch (see the module's notes)."""
        self.settings = settings
        self.db = db
        self.group_id = group_id
        self.handlers = {model.event_type: handler for model, handler in handlers.items()}
        # Event types whose handler records them itself: no inbox lookup or record for them.
        self.self_recording = {
            model.event_type for model, handler in handlers.items() if isinstance(handler, SelfRecordingHandler)
        }
        self.every_event = every_event
        self.topics = sorted({model.topic for model in handlers} | set(topics))
        self.processed = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.connected = False
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            consumer = new_consumer(self.settings, self.topics, self.group_id)
            try:
                await consumer.start()
                self._consumer = consumer
                self.connected = True
                backoff = 0.5
                await self._consume(consumer, stop)
            except (TimeoutError, KafkaError, OSError, PyMongoError, BatchFailed) as exc:
                # Restart from the last committed offsets: nothing uncommitted is lost.
                log.warning("consumer %s: %s; restarting in %.1fs", self.group_id, exc, backoff)
            finally:
                self.connected = False
                self._consumer = None
                try:
                    await consumer.stop()
                except Exception:
                    log.debug("consumer stop failed", exc_info=True)
            if not stop.is_set():
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)
        if self._producer is not None:
            await self._producer.stop()

    async def lag(self) -> int | None:
        """Messages on the assigned partitions not yet consumed (None when not connected)."""
        consumer = self._consumer
        if consumer is None:
            return None
        total = 0
        for tp in consumer.assignment():
            end = consumer.highwater(tp)  # known after the first fetch from that partition
            if end is not None:
                total += max(0, end - await consumer.position(tp))
        return total

    async def partition_lags(self) -> dict[tuple[str, int], int]:
        """Per assigned partition (topic, partition): its end offset minus our position (for ``metrics``)."""
        consumer = self._consumer
        lags: dict[tuple[str, int], int] = {}
        if consumer is None:
            return lags
        assigned = consumer.assignment()
        ends = {tp: consumer.highwater(tp) for tp in assigned}  # known after the first fetch from each
        unknown = [tp for tp, end in ends.items() if end is None]
        if unknown:  # not fetched from yet: ask the brokers (one request each)
            ends.update(await consumer.end_offsets(unknown))
        for tp, end in ends.items():
            if end is not None:
                lags[(tp.topic, tp.partition)] = max(0, end - await consumer.position(tp))
        return lags

    async def _consume(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        # Offsets whose messages (and all before them) have their effects stored, not yet committed.
        pending: dict[TopicPartition, int] = {}
        last_commit = loop.time()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=500)
                if batches:
                    await self._process_batch([r for records in batches.values() for r in records])
                    failpoints.hit("consumer.after_effect")  # effects stored, offsets not yet committed
                    for tp, records in batches.items():
                        pending[tp] = records[-1].offset + 1
                if pending and (not batches or loop.time() - last_commit >= COMMIT_INTERVAL_S):
                    await self._commit(consumer, pending)
                    last_commit = loop.time()
        finally:
            if pending:
                try:  # what is stored is stored: commit it, so that a restart does not replay it
                    await self._commit(consumer, pending)
                except (KafkaError, OSError) as exc:
                    log.info("consumer %s: final commit failed (%s); those events will be replayed", self.group_id, exc)

    @staticmethod
    async def _commit(consumer: AIOKafkaConsumer, pending: dict[TopicPartition, int]) -> None:
        assigned = consumer.assignment()
        offsets = {tp: offset for tp, offset in pending.items() if tp in assigned}
        pending.clear()
        if offsets:  # a partition revoked meanwhile is its new owner's to commit (or to replay)
            await consumer.commit(offsets)

    async def _process_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """One fetch's records, of all its partitions (each partition's in offset order).

        Handled together rather than partition after partition: self-recording keys of different
        partitions then run side by side too (a fetch at a few events/s often holds one event per
        partition); the events of other handlers still run in one sequence, partition by partition.
        """
        parsed = [(record, self._read(record)) for record in records]
        wanted = [
            env.id
            for _, env in parsed
            if isinstance(env, Envelope) and env.type in self.handlers and env.type not in self.self_recording
        ]
        seen = await self._already_processed(wanted)
        done: list[Envelope] = []
        todo: list[tuple[ConsumerRecord[bytes, bytes], Envelope]] = []
        everything: list[tuple[ConsumerRecord[bytes, bytes], Envelope]] = []
        try:
            for record, envelope in parsed:
                if isinstance(envelope, PoisonEvent):
                    await self._dead_letter(record, envelope, "?")
                    continue
                if self.every_event is not None:
                    if (refused := self._refused(record, envelope)) is not None:
                        await self._dead_letter(record, refused, envelope.id)
                        continue
                    everything.append((record, envelope))
                if envelope.type not in self.handlers:
                    continue  # a fact this consumer does not act on
                if (untrusted := self._untrusted(record, envelope)) is not None:
                    await self._dead_letter(record, untrusted, envelope.id)
                    continue
                if envelope.id in seen:
                    self.duplicates += 1
                    continue
                seen.add(envelope.id)
                todo.append((record, envelope))
            if everything:
                await self._handle_every(everything)
            await self._handle_all(todo, done)
        finally:
            # Recorded once per batch, before the offsets are committed. Should this process die
            # before it, each aggregate's own applied-event ids still stop a second application.
            await self._mark_processed(done)

    @staticmethod
    def _read(record: ConsumerRecord[bytes, bytes]) -> Envelope | PoisonEvent:
        """The record's envelope (structured or binary mode), or why it cannot be read."""
        try:
            return envelope_from_record(record.value, record.headers, record.key)
        except PoisonEvent as exc:
            return exc

    @staticmethod
    def _untrusted(record: ConsumerRecord[bytes, bytes], envelope: Envelope) -> UntrustedEvent | None:
        """Why an event we handle is refused: it did not come on its owner's topic with its owner's source."""
        try:
            check_origin(envelope, record.topic)
        except UntrustedEvent as exc:
            return exc
        return None

    @staticmethod
    def _refused(record: ConsumerRecord[bytes, bytes], envelope: Envelope) -> PoisonEvent | None:
        """Why ``every_event`` must not take an event: a known type not from its owner or with a body
        its model refuses; a type no contract declares with another ``source`` than its topic's owner's."""
        try:
            if envelope.type in IntegrationEvent.registry:
                check_origin(envelope, record.topic)
                envelope.payload()
            else:
                owner = record.topic.removesuffix(".events")
                if envelope.source != source_for(owner):
                    raise UntrustedEvent(
                        f"{envelope.type} (a type no contract declares) came on {record.topic} "
                        f"with source {envelope.source!r}, not {source_for(owner)!r}"
                    )
        except PoisonEvent as exc:
            return exc
        return None

    async def _handle_every(self, items: list[tuple[ConsumerRecord[bytes, bytes], Envelope]]) -> None:
        """Hand a fetch's accepted events to ``every_event`` at once (with retries and backoff)."""
        assert self.every_event is not None
        envelopes = [envelope for _, envelope in items]
        attempts = self.settings.consumer_max_attempts
        with batch_process_span(
            self.group_id, [(record.topic, record.headers, envelope.id) for record, envelope in items]
        ) as span:
            for attempt in range(1, attempts + 1):
                try:
                    await self.every_event(envelopes)
                    break
                except Exception as exc:
                    span.record_exception(exc)
                    if attempt == attempts:
                        log.error("consumer %s: a batch of %d failed %d times", self.group_id, len(items), attempts)
                        raise BatchFailed(f"{type(exc).__name__}: {exc}") from exc
                    await asyncio.sleep(self.settings.consumer_retry_backoff_s * 2 ** (attempt - 1))
        self.processed += len(items)

    async def _handle_all(
        self, todo: list[tuple[ConsumerRecord[bytes, bytes], Envelope]], done: list[Envelope]
    ) -> None:
        """Apply a partition batch's events, each key's in offset order.

        Keys whose events all have self-recording handlers (each event changes the one document
        of its key) run side by side, up to ``HANDLERS_IN_FLIGHT`` keys at once: their store round
        trips overlap instead of queueing one after another. Every other event runs in one
        sequence in offset order (with any key it shares), exactly as before.
        """
        shared = {record.key for record, envelope in todo if envelope.type not in self.self_recording}
        sequence: list[tuple[ConsumerRecord[bytes, bytes], Envelope]] = []
        by_key: dict[bytes | None, list[tuple[ConsumerRecord[bytes, bytes], Envelope]]] = {}
        for record, envelope in todo:
            if record.key in shared or record.key is None:
                sequence.append((record, envelope))
            else:
                by_key.setdefault(record.key, []).append((record, envelope))
        gate = asyncio.Semaphore(HANDLERS_IN_FLIGHT)

        async def run(items: list[tuple[ConsumerRecord[bytes, bytes], Envelope]], gated: bool) -> None:
            async with gate if gated else contextlib.nullcontext():
                for record, envelope in items:
                    if await self._handle(record, envelope) and envelope.type not in self.self_recording:
                        done.append(envelope)

        if not by_key:
            await run(sequence, gated=False)
            return
        results = await asyncio.gather(
            run(sequence, gated=False), *(run(items, gated=True) for items in by_key.values()), return_exceptions=True
        )
        # Everything has finished (nothing left running behind the batch); the first failure restarts
        # the consumer from its committed offsets, and what did complete is recorded meanwhile.
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _already_processed(self, event_ids: list[str]) -> set[str]:
        """The ids among ``event_ids`` this consumer group has processed already.

        Primary-key reads, sent together: the inbox only grows, and the local store scans the
        whole collection for ``{_id: {$in: [...]}}`` or an ``$or`` of keys (its EXPLAIN shows a
        sequential scan), while it serves each ``{_id: value}`` from an index.
        """
        if not event_ids:
            return set()
        inbox = self.db[PROCESSED]
        seen: set[str] = set()
        for i in range(0, len(event_ids), INBOX_READS_IN_FLIGHT):
            chunk = event_ids[i : i + INBOX_READS_IN_FLIGHT]
            found = await asyncio.gather(
                *(inbox.find_one({"_id": self._inbox_id(event_id)}, {"_id": 1}) for event_id in chunk)
            )
            seen.update(event_id for event_id, doc in zip(chunk, found, strict=True) if doc is not None)
        return seen

    async def _handle(self, record: ConsumerRecord[bytes, bytes], envelope: Envelope) -> bool:
        """Apply one event (with retries); False when it went to the dead-letter topic instead."""
        with process_span(
            record.topic, record.headers, envelope.id, self.group_id, record.partition, record.offset
        ) as span:
            span.set_attribute("cloudevents.event_type", envelope.type)
            span.set_attribute("cloudevents.event_subject", envelope.subject)
            # The record's Kafka timestamp (ms; the broker's append time when the topic says
            # LogAppendTime): where the wait between the broker and the handler starts.
            span.set_attribute("messaging.kafka.message.timestamp", record.timestamp)
            span.set_attribute("messaging.kafka.message.timestamp_type", record.timestamp_type)
            attempts = self.settings.consumer_max_attempts
            for attempt in range(1, attempts + 1):
                try:
                    await self.handlers[envelope.type](envelope, envelope.payload())
                    break
                except PoisonEvent as exc:
                    span.record_exception(exc)
                    await self._dead_letter(record, exc, envelope.id)
                    return False
                except Exception as exc:
                    span.record_exception(exc)
                    if attempt == attempts:
                        log.error(
                            "consumer %s: %s failed %d times", self.group_id, envelope.id, attempts, exc_info=True
                        )
                        await self._dead_letter(record, exc, envelope.id)
                        return False
                    await asyncio.sleep(self.settings.consumer_retry_backoff_s * 2 ** (attempt - 1))
            self.processed += 1
            return True

    async def _mark_processed(self, envelopes: list[Envelope]) -> None:
        if not envelopes:
            return
        at = datetime.now(UTC)
        records = [
            {
                "_id": self._inbox_id(envelope.id),
                "consumer": self.group_id,
                "event_id": envelope.id,
                "type": envelope.type,
                "subject": envelope.subject,
                "processed_at": at,
            }
            for envelope in envelopes
        ]
        try:
            await self.db[PROCESSED].insert_many(records, ordered=False)
        except BulkWriteError as exc:
            # Another replica recorded some first (the effects themselves were guarded); any
            # other failure is real and restarts the consumer from its committed offsets.
            if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", ())):
                raise

    def _inbox_id(self, event_id: str) -> str:
        return f"{self.group_id}:{event_id}"

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], error: BaseException, event_id: str) -> None:
        if self._producer is None:
            producer = new_producer(self.settings)
            await producer.start()
            self._producer = producer
        headers = list(record.headers or ()) + [
            ("dlq.consumer", self.group_id.encode()),
            ("dlq.original.topic", record.topic.encode()),
            ("dlq.original.partition", str(record.partition).encode()),
            ("dlq.original.offset", str(record.offset).encode()),
            ("dlq.reason", dead_letter_reason(error).encode()),
            ("dlq.error", f"{type(error).__name__}: {error}"[:2000].encode()),
        ]
        await self._producer.send_and_wait(
            self.settings.dead_letter_topic, record.value, key=record.key, headers=headers
        )
        await self.db["dead_letters"].insert_one(
            {
                "consumer": self.group_id,
                "event_id": event_id,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": dead_letter_reason(error),
                "error": f"{type(error).__name__}: {error}"[:2000],
                "at": datetime.now(UTC),
            }
        )
        self.dead_lettered += 1
        log.error(
            "consumer %s: sent %s@%s/%d to %s: %s",
            self.group_id,
            event_id,
            record.topic,
            record.offset,
            self.settings.dead_letter_topic,
            error,
        )
