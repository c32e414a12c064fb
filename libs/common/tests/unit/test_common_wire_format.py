"""The Kafka wire format, read by the CNCF CloudEvents SDK, and the origin check of consumers.

The platform writes structured mode (the record's value is the envelope, content type
``application/cloudevents+json``, no ``ce_`` header); it reads both modes, so records written
by the SDK (binary or structured) and the platform's own older records (structured, with a
stray ``ce_type`` header) are consumed alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.exceptions import CloudEventValidationError
from cloudevents.core.v1.event import CloudEvent

from alliance_common.events import (
    Envelope,
    IntegrationEvent,
    PoisonEvent,
    UntrustedEvent,
    check_origin,
    envelope_for,
    envelope_from_record,
    source_for,
    topic_for,
)
from alliance_common.outbox import STRUCTURED_MODE
from alliance_contracts.membership import MemberAdmitted, MemberSuspended
from alliance_contracts.standards import StandardPublished

SUSPENDED_AT = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def suspended() -> MemberSuspended:
    return MemberSuspended(member_id="org-1", reason="unpaid dues", suspended_at=SUSPENDED_AT)


def platform_record(envelope: Envelope) -> tuple[bytes, list[tuple[str, bytes]], bytes]:
    """Value, headers and key as the outbox relay writes them (besides the trace headers)."""
    return (
        envelope.to_bytes(),
        [("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01"), STRUCTURED_MODE],
        (envelope.subject.encode()),
    )


def sdk_message(value: bytes, headers: list[tuple[str, bytes]], key: bytes) -> ce_kafka.KafkaMessage:
    return ce_kafka.KafkaMessage(headers=dict(headers), key=key, value=value)


def test_the_platform_writes_structured_mode_without_ce_headers() -> None:
    _, headers, _ = platform_record(envelope_for(suspended(), source=source_for("membership"), subject="org-1"))
    assert ("content-type", b"application/cloudevents+json") in headers
    assert not [name for name, _ in headers if name.lower().startswith("ce_")]


def test_the_cncf_sdk_reads_a_platform_record() -> None:
    envelope = envelope_for(suspended(), source=source_for("membership"), subject="org-1", correlation_id="req-9")
    event = ce_kafka.from_kafka_event(sdk_message(*platform_record(envelope)))
    assert event.get_id() == envelope.id
    assert event.get_type() == "alliance.membership.member.suspended.v1"
    assert event.get_source() == "/alliance/membership"
    assert event.get_subject() == "org-1"
    assert event.get_specversion() == "1.0"
    assert event.get_time() == envelope.time
    assert event.get_extension("correlationid") == "req-9"
    assert event.get_extension("partitionkey") == "org-1"
    assert event.get_data() == envelope.data


def test_the_sdk_rejected_what_the_platform_wrote_before() -> None:
    """The old records: structured value plus a ``ce_type`` header, which the SDK reads as binary mode."""
    envelope = envelope_for(suspended(), source=source_for("membership"), subject="org-1")
    value, headers, key = platform_record(envelope)
    legacy = [*headers, ("ce_type", envelope.type.encode())]
    with pytest.raises(CloudEventValidationError, match="Missing required attribute: 'source'"):
        ce_kafka.from_kafka_event(sdk_message(value, legacy, key))
    # ... and the platform keeps reading them during the change.
    assert envelope_from_record(value, legacy, key) == envelope


def sdk_event(**overrides: Any) -> CloudEvent:
    attributes: dict[str, Any] = {
        "id": "sdk-1",
        "source": "/alliance/membership",
        "type": MemberSuspended.event_type,
        "subject": "org-1",
        "time": SUSPENDED_AT,
        "datacontenttype": "application/json",
        "partitionkey": "org-1",
        **overrides,
    }
    return CloudEvent(attributes=attributes, data=suspended().model_dump(mode="json"))


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_events_made_by_the_sdk_are_read_in_either_mode(mode: str) -> None:
    event = sdk_event()
    message = ce_kafka.to_binary_event(event) if mode == "binary" else ce_kafka.to_structured_event(event)
    key = message.key.encode() if isinstance(message.key, str) else message.key
    envelope = envelope_from_record(message.value, list(message.headers.items()), key)
    assert (envelope.id, envelope.type, envelope.source, envelope.subject) == (
        "sdk-1",
        MemberSuspended.event_type,
        "/alliance/membership",
        "org-1",
    )
    assert envelope.time == SUSPENDED_AT
    assert envelope.partitionkey == "org-1"
    assert envelope.payload() == suspended()


def test_a_binary_record_without_partitionkey_takes_the_kafka_key() -> None:
    message = ce_kafka.to_binary_event(sdk_event(partitionkey=None))
    envelope = envelope_from_record(message.value, list(message.headers.items()), b"org-1")
    assert envelope.partitionkey == "org-1"


@pytest.mark.parametrize(
    ("value", "headers"),
    [
        (b"not json", [STRUCTURED_MODE]),
        (b"[1, 2]", [STRUCTURED_MODE]),
        (b'{"type": "x"}', [STRUCTURED_MODE]),  # required attributes missing
        (b"\xff\xfe", [("ce_specversion", b"1.0"), ("ce_type", b"x"), ("content-type", b"application/json")]),
    ],
)
def test_what_is_not_an_envelope_is_poison(value: bytes, headers: list[tuple[str, bytes]]) -> None:
    with pytest.raises(PoisonEvent, match="not a CloudEvents envelope"):
        envelope_from_record(value, headers, b"k")


def test_each_contract_type_names_its_owner_topic_and_source() -> None:
    assert (MemberAdmitted.owner, MemberAdmitted.topic, MemberAdmitted.source) == (
        "membership",
        "membership.events",
        "/alliance/membership",
    )
    assert (StandardPublished.topic, StandardPublished.source) == (topic_for("standards"), source_for("standards"))
    for event_type, model in IntegrationEvent.registry.items():
        if event_type.startswith("alliance."):
            assert model.owner and model.topic == topic_for(model.owner), event_type
            assert model.source == source_for(model.owner) and event_type.startswith(f"alliance.{model.owner}.")


def test_an_event_from_its_owners_topic_and_source_is_trusted() -> None:
    check_origin(envelope_for(suspended(), source="/alliance/membership", subject="org-1"), "membership.events")


@pytest.mark.parametrize(
    ("source", "topic"),
    [
        ("/evil", "membership.events"),
        ("/evil", "standards.events"),
        ("/alliance/membership", "standards.events"),  # the right source written to a foreign topic
        ("/alliance/standards", "membership.events"),
        ("/alliance/membership/", "membership.events"),
    ],
)
def test_an_event_from_anywhere_else_is_untrusted(source: str, topic: str) -> None:
    envelope = envelope_for(suspended(), source=source, subject="org-1")
    with pytest.raises(UntrustedEvent, match="is published by membership on membership.events") as refused:
        check_origin(envelope, topic)
    assert refused.value.reason == "untrusted-origin"


def test_a_type_without_owner_is_trusted_from_nowhere() -> None:
    class Orphan(IntegrationEvent):
        event_type: ClassVar[str] = "test.unit.orphan.v1"
        topic: ClassVar[str] = "test.events"

    try:
        envelope = Envelope(source="/x", type=Orphan.event_type, subject="s", data={}, partitionkey="s")
        with pytest.raises(UntrustedEvent, match="declares no owner"):
            check_origin(envelope, "test.events")
    finally:
        IntegrationEvent.registry.pop(Orphan.event_type)
