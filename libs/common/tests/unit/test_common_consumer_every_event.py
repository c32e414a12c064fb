"""A consumer that takes every event of its topics (``every_event``, the archive's): what it is given,
what it refuses, and what a failing batch does (pure logic: no Kafka, no store)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord

from alliance_common.consumer import BatchFailed, EventConsumer
from alliance_common.events import Envelope, PoisonEvent, envelope_for
from alliance_common.settings import ServiceSettings
from alliance_contracts.membership import MemberSuspended


class Settings(ServiceSettings):
    service_name: str = "everytest"
    consumer_retry_backoff_s: float = 0.001


def record(topic: str, offset: int, value: bytes, partition: int = 0) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, partition, offset, 0, 0, b"k", value, None, 1, len(value), ())


def suspended(member: str, source: str = "/alliance/membership") -> Envelope:
    event = MemberSuspended(member_id=member, reason="dues", suspended_at=datetime.now(UTC))
    return envelope_for(event, source=source, subject=member)


def other(type_: str, source: str) -> Envelope:
    return Envelope(source=source, type=type_, subject="s", data={"x": 1}, partitionkey="s")


class Archive:
    def __init__(self, fail: int = 0) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    async def __call__(self, envelopes: list[Envelope]) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("store away")
        self.batches.append([e.id for e in envelopes])


def consumer(archive: Archive) -> tuple[EventConsumer, list[tuple[str, str]]]:
    topics = ["membership.events", "licensing.events"]
    c = EventConsumer(Settings(), None, "test.archive", {}, every_event=archive, topics=topics)  # type: ignore[arg-type]
    letters: list[tuple[str, str]] = []

    async def dead_letter(rec: ConsumerRecord[bytes, bytes], error: BaseException, event_id: str) -> None:
        assert isinstance(error, PoisonEvent)
        letters.append((event_id, error.reason))

    c._dead_letter = dead_letter  # type: ignore[method-assign]
    return c, letters


async def test_every_type_from_its_topics_owner_is_given_at_once_and_the_rest_dead_lettered() -> None:
    archive = Archive()
    c, letters = consumer(archive)
    known = suspended("a")
    future = other("alliance.licensing.something.new.v1", "/alliance/licensing")  # no model for it yet
    forged = suspended("b")  # a membership type on licensing's topic
    stray = other("alliance.licensing.something.new.v1", "/alliance/membership")  # another topic's source
    invalid = Envelope(
        source="/alliance/membership", type=MemberSuspended.event_type, subject="c", data={}, partitionkey="c"
    )
    await c._process_batch(
        [
            record("membership.events", 0, known.to_bytes()),
            record("licensing.events", 0, future.to_bytes()),
            record("licensing.events", 1, forged.to_bytes()),
            record("licensing.events", 2, stray.to_bytes()),
            record("membership.events", 1, invalid.to_bytes()),
            record("membership.events", 2, b"{not json"),
        ]
    )
    assert archive.batches == [[known.id, future.id]]  # one call for the whole fetch
    assert sorted(letters) == sorted(
        [(forged.id, "untrusted-origin"), (stray.id, "untrusted-origin"), (invalid.id, "poison"), ("?", "poison")]
    )
    assert c.processed == 2 and c.topics == ["licensing.events", "membership.events"]


async def test_a_failing_batch_is_retried_then_restarts_the_consumer_and_is_never_dead_lettered() -> None:
    archive = Archive(fail=2)
    c, letters = consumer(archive)
    batch = [record("membership.events", i, suspended(f"m{i}").to_bytes()) for i in range(3)]
    await c._process_batch(batch)  # two failures, the third attempt stores it
    assert len(archive.batches) == 1 and len(archive.batches[0]) == 3

    archive = Archive(fail=10)
    c, letters = consumer(archive)
    with pytest.raises(BatchFailed):
        await c._process_batch(batch)
    assert letters == [] and c.processed == 0


def test_topics_come_from_the_handlers_and_the_ones_named() -> None:
    async def handler(*_: Any) -> None:
        return None

    c = EventConsumer(Settings(), None, "g", {MemberSuspended: handler}, topics=["training.events"])  # type: ignore[arg-type]
    assert c.topics == ["membership.events", "training.events"] and c.every_event is None
