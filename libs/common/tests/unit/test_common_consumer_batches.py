"""How the consumer runs a partition batch's events (pure logic: handlers replaced, no Kafka, no store)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord

from alliance_common.consumer import EventConsumer, records_itself
from alliance_common.events import Envelope, IntegrationEvent, envelope_for
from alliance_common.settings import ServiceSettings
from alliance_contracts.membership import MemberReinstated, MemberSuspended


class Settings(ServiceSettings):
    service_name: str = "consumertest"


def record(offset: int, envelope: Envelope, partition: int = 0) -> ConsumerRecord[bytes, bytes]:
    value = envelope.to_bytes()
    return ConsumerRecord(
        "membership.events", partition, offset, 0, 0, envelope.subject.encode(), value, None, 1, len(value), ()
    )


def suspended(member: str) -> Envelope:
    event = MemberSuspended(member_id=member, reason="dues", suspended_at=datetime.now(UTC))
    return envelope_for(event, source="/alliance/membership", subject=member)


def reinstated(member: str) -> Envelope:
    event = MemberReinstated(member_id=member, reinstated_at=datetime.now(UTC))
    return envelope_for(event, source="/alliance/membership", subject=member)


class Recorder:
    """Handlers that log (member, type) when they start and end, and count how many overlap."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, str]] = []
        self.running = 0
        self.most = 0

    async def handle(self, envelope: Envelope, event: IntegrationEvent) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        self.log.append(("start", envelope.subject, envelope.type))
        await asyncio.sleep(0.01)
        self.log.append(("end", envelope.subject, envelope.type))
        self.running -= 1


def consumer(recorder: Recorder, self_recording: bool) -> EventConsumer:
    suspend = records_itself(recorder.handle) if self_recording else recorder.handle
    handlers = {MemberSuspended: suspend, MemberReinstated: recorder.handle}
    return EventConsumer(Settings(), None, "test.main", handlers)  # type: ignore[arg-type]  # no store needed


def ends(recorder: Recorder, member: str) -> list[str]:
    return [kind for what, subject, kind in recorder.log if what == "end" and subject == member]


async def test_self_recording_keys_run_side_by_side_each_in_order() -> None:
    recorder = Recorder()
    c = consumer(recorder, self_recording=True)
    envelopes = [suspended(m) for m in ("a", "b", "c")] + [suspended("a")]
    done: list[Envelope] = []
    await c._handle_all([(record(i, e), e) for i, e in enumerate(envelopes)], done)
    assert recorder.most == 3  # three keys at once
    assert ends(recorder, "a") == [MemberSuspended.event_type] * 2
    assert done == []  # self-recording: nothing for the inbox
    assert c.processed == 4


async def test_a_key_with_an_inbox_event_keeps_offset_order_with_every_inbox_event() -> None:
    recorder = Recorder()
    c = consumer(recorder, self_recording=True)
    # a: self-recording then inbox-kept (reinstated) -> a's events go to the one sequence, in order.
    envelopes = [suspended("a"), reinstated("b"), reinstated("a"), suspended("c")]
    done: list[Envelope] = []
    await c._handle_all([(record(i, e), e) for i, e in enumerate(envelopes)], done)
    sequence = [(subject, kind) for what, subject, kind in recorder.log if what == "start" and subject in ("a", "b")]
    assert sequence == [
        ("a", MemberSuspended.event_type),
        ("b", MemberReinstated.event_type),
        ("a", MemberReinstated.event_type),
    ]
    assert recorder.most == 2  # c ran beside the sequence
    assert [e.subject for e in done] == ["b", "a"]  # the inbox events, recorded


async def test_without_self_recording_handlers_everything_runs_in_offset_order() -> None:
    recorder = Recorder()
    c = consumer(recorder, self_recording=False)
    envelopes = [suspended("a"), suspended("b"), reinstated("a")]
    done: list[Envelope] = []
    await c._handle_all([(record(i, e), e) for i, e in enumerate(envelopes)], done)
    assert recorder.most == 1
    assert [(s, k) for w, s, k in recorder.log if w == "start"] == [
        ("a", MemberSuspended.event_type),
        ("b", MemberSuspended.event_type),
        ("a", MemberReinstated.event_type),
    ]
    assert len(done) == 3


async def test_a_fetch_runs_self_recording_keys_of_different_partitions_side_by_side() -> None:
    # A fetch at a low rate often holds one event per partition: they must not queue partition
    # after partition. Self-recording events need no inbox, so no store is touched here.
    recorder = Recorder()
    c = consumer(recorder, self_recording=True)
    fetched = [record(7, suspended(m), partition=p) for p, m in enumerate(("a", "b", "c"))]
    fetched.append(record(8, suspended("a"), partition=0))
    await c._process_batch(fetched)
    assert recorder.most == 3
    assert ends(recorder, "a") == [MemberSuspended.event_type] * 2
    assert c.processed == 4
