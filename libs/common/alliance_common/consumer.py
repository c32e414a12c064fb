"""Idempotent Kafka consumer: at-least-once delivery, effects applied exactly once.

- Batches come from ``getmany``; offsets are committed per partition only after every
  message of the batch has had its effect stored (or gone to the dead-letter topic).
- Each processed event id is recorded per consumer group in the service's own database
  under a unique index, and handlers also record the event id in the aggregate they
  change (``AggregateStore.save(applied_event=...)``), so a crash between the effect and
  the record can never apply an event twice.
- A failing handler is retried with backoff; after the last attempt, or at once for a
  message that can never be read (``PoisonEvent``), it goes to ``<service>.dlq`` with the
  error and its origin in the headers, and the consumer goes on.
- Everything awaits; nothing blocks the event loop, so heartbeats keep flowing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from alliance_common.events import Envelope, IntegrationEvent, PoisonEvent
from alliance_common.kafka import new_consumer, new_producer, sleep_or_stop
from alliance_common.mongo import Document
from alliance_common.settings import ServiceSettings
from alliance_common.telemetry import process_span

log = logging.getLogger(__name__)

EventHandler = Callable[[Envelope, IntegrationEvent], Awaitable[None]]

PROCESSED = "processed_events"


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
    ) -> None:
        self.settings = settings
        self.db = db
        self.group_id = group_id
        self.handlers = {model.event_type: handler for model, handler in handlers.items()}
        self.topics = sorted({model.topic for model in handlers})
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
            except (TimeoutError, KafkaError, OSError, PyMongoError) as exc:
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

    async def _consume(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            for tp, records in batches.items():
                await self._process_batch(tp, records)
                await consumer.commit({tp: records[-1].offset + 1})

    async def _process_batch(self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        parsed: list[tuple[ConsumerRecord[bytes, bytes], Envelope | PoisonEvent]] = []
        for record in records:
            try:
                parsed.append((record, Envelope.from_bytes(record.value or b"")))
            except (ValueError, ValidationError) as exc:
                parsed.append((record, PoisonEvent(f"not a CloudEvents envelope: {exc}")))
        # Primary-key reads: the inbox only grows, and a store may scan it for anything else.
        seen = set()
        for _, env in parsed:
            if isinstance(env, Envelope) and env.type in self.handlers:
                if await self.db[PROCESSED].find_one({"_id": self._inbox_id(env.id)}, {"_id": 1}) is not None:
                    seen.add(env.id)
        for record, envelope in parsed:
            if isinstance(envelope, PoisonEvent):
                await self._dead_letter(record, envelope, "?")
                continue
            if envelope.type not in self.handlers:
                continue  # a fact this consumer does not act on
            if envelope.id in seen:
                self.duplicates += 1
                continue
            await self._handle(record, envelope)
            seen.add(envelope.id)

    async def _handle(self, record: ConsumerRecord[bytes, bytes], envelope: Envelope) -> None:
        with process_span(
            record.topic, record.headers, envelope.id, self.group_id, record.partition, record.offset
        ) as span:
            span.set_attribute("cloudevents.event_type", envelope.type)
            span.set_attribute("cloudevents.event_subject", envelope.subject)
            attempts = self.settings.consumer_max_attempts
            for attempt in range(1, attempts + 1):
                try:
                    await self.handlers[envelope.type](envelope, envelope.payload())
                    break
                except PoisonEvent as exc:
                    span.record_exception(exc)
                    await self._dead_letter(record, exc, envelope.id)
                    return
                except Exception as exc:
                    span.record_exception(exc)
                    if attempt == attempts:
                        log.error(
                            "consumer %s: %s failed %d times", self.group_id, envelope.id, attempts, exc_info=True
                        )
                        await self._dead_letter(record, exc, envelope.id)
                        return
                    await asyncio.sleep(self.settings.consumer_retry_backoff_s * 2 ** (attempt - 1))
            await self._mark_processed(envelope)
            self.processed += 1

    async def _mark_processed(self, envelope: Envelope) -> None:
        try:
            await self.db[PROCESSED].insert_one(
                {
                    "_id": self._inbox_id(envelope.id),
                    "consumer": self.group_id,
                    "event_id": envelope.id,
                    "type": envelope.type,
                    "subject": envelope.subject,
                    "processed_at": datetime.now(UTC),
                }
            )
        except DuplicateKeyError:
            pass  # another replica recorded it first: the effect itself was guarded

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
