"""Integration events and their CloudEvents 1.0 envelope."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from pydantic import ValidationError

from alliance_common.events import CONTENT_TYPE, SPEC_VERSION, Envelope, IntegrationEvent, PoisonEvent, envelope_for
from alliance_contracts.membership import MemberSuspended

SUSPENDED_AT = datetime(2025, 7, 1, 10, 0, tzinfo=UTC)
SAMPLE_TYPE = "test.unit.sample.v1"


def suspended() -> MemberSuspended:
    return MemberSuspended(member_id="org-1", reason="unpaid dues", suspended_at=SUSPENDED_AT)


def envelope(**overrides: object) -> Envelope:
    return envelope_for(suspended(), source="/membership", subject="org-1", correlation_id="req-1").model_copy(
        update=overrides
    )


@pytest.fixture
def forget_test_event_types() -> Iterator[None]:
    """Event classes a test declares are removed from the global registry afterwards."""
    before = set(IntegrationEvent.registry)
    yield
    for event_type in set(IntegrationEvent.registry) - before:
        del IntegrationEvent.registry[event_type]


def test_cloudevents_constants() -> None:
    assert SPEC_VERSION == "1.0"
    assert CONTENT_TYPE == "application/cloudevents+json"


def test_envelope_for_fills_the_cloudevents_attributes() -> None:
    env = envelope()
    assert env.specversion == "1.0"
    assert env.type == "alliance.membership.member.suspended.v1"
    assert env.source == "/membership"
    assert env.subject == "org-1"
    assert env.partitionkey == "org-1"
    assert env.correlationid == "req-1"
    assert env.datacontenttype == "application/json"
    assert env.time.tzinfo is not None
    assert env.data == {
        "member_id": "org-1",
        "reason": "unpaid dues",
        "in_good_standing": False,
        "suspended_at": "2025-07-01T10:00:00Z",
    }


def test_every_envelope_gets_its_own_id() -> None:
    first = envelope_for(suspended(), source="s", subject="x")
    second = envelope_for(suspended(), source="s", subject="x")
    assert first.id != second.id


def test_serialised_envelope_has_the_required_cloudevents_attributes() -> None:
    raw = json.loads(envelope().to_bytes())
    for attribute in ("id", "source", "specversion", "type"):
        assert isinstance(raw[attribute], str) and raw[attribute]
    assert raw["specversion"] == "1.0"


def test_attribute_names_are_lower_case_alphanumerics() -> None:
    raw = json.loads(envelope().to_bytes())
    assert all(re.fullmatch(r"[a-z0-9]+", name) for name in raw), sorted(raw)


def test_none_attributes_are_left_out_of_the_bytes() -> None:
    raw = json.loads(envelope_for(suspended(), source="s", subject="org-1").to_bytes())
    assert "correlationid" not in raw


def test_envelope_round_trips_through_bytes() -> None:
    env = envelope()
    back = Envelope.from_bytes(env.to_bytes())
    assert back == env
    assert back.time == env.time


def test_envelope_without_correlation_round_trips_through_bytes() -> None:
    env = envelope_for(suspended(), source="s", subject="org-1")
    assert Envelope.from_bytes(env.to_bytes()) == env


def test_unknown_envelope_extensions_are_kept() -> None:
    raw = json.loads(envelope().to_bytes())
    raw["tenant"] = "alliance"
    back = Envelope.from_bytes(json.dumps(raw).encode())
    assert back.model_extra == {"tenant": "alliance"}


def test_payload_of_a_known_type_is_the_typed_event() -> None:
    event = Envelope.from_bytes(envelope().to_bytes()).payload()
    assert isinstance(event, MemberSuspended)
    assert event == suspended()


def test_payload_of_an_unknown_type_is_poison() -> None:
    with pytest.raises(PoisonEvent, match="unknown event type"):
        envelope(type="alliance.nobody.thing.happened.v1").payload()


def test_payload_with_invalid_data_is_poison() -> None:
    with pytest.raises(PoisonEvent, match="invalid alliance.membership.member.suspended.v1 data"):
        envelope(data={"member_id": "org-1", "suspended_at": "not a time"}).payload()


def test_payload_with_missing_required_field_is_poison() -> None:
    data = {k: v for k, v in envelope().data.items() if k != "reason"}
    with pytest.raises(PoisonEvent):
        envelope(data=data).payload()


def test_consumers_tolerate_unknown_fields() -> None:
    """A producer that added a field does not break a consumer that does not know it yet."""
    data = {**envelope().data, "suspension_category": "dues", "notice": {"sent": True}}
    event = envelope(data=data).payload()
    assert isinstance(event, MemberSuspended)
    assert event.reason == "unpaid dues"
    assert not hasattr(event, "suspension_category")


def test_older_payload_without_a_new_optional_field_still_parses(forget_test_event_types: None) -> None:
    """Adding a field with a default is additive: events published before it still parse."""

    class SampleV1(IntegrationEvent):
        event_type: ClassVar[str] = SAMPLE_TYPE
        topic: ClassVar[str] = "test.unit"
        name: str
        nickname: str | None = None  # added after events without it were published

    old = Envelope(source="s", type=SAMPLE_TYPE, subject="x", data={"name": "Chen"}, partitionkey="x")
    event = Envelope.from_bytes(old.to_bytes()).payload()
    assert isinstance(event, SampleV1)
    assert (event.name, event.nickname) == ("Chen", None)


def test_subclasses_register_their_event_type(forget_test_event_types: None) -> None:
    class Registered(IntegrationEvent):
        event_type: ClassVar[str] = "test.unit.registered.v1"
        topic: ClassVar[str] = "test.unit"

    assert IntegrationEvent.registry["test.unit.registered.v1"] is Registered


def test_base_classes_without_event_type_are_not_registered(forget_test_event_types: None) -> None:
    before = dict(IntegrationEvent.registry)

    class Base(IntegrationEvent):
        topic: ClassVar[str] = "test.unit"

    assert IntegrationEvent.registry == before


def test_registry_refuses_a_duplicate_event_type(forget_test_event_types: None) -> None:
    class First(IntegrationEvent):
        event_type: ClassVar[str] = "test.unit.duplicate.v1"
        topic: ClassVar[str] = "test.unit"

    with pytest.raises(TypeError, match="declared twice"):

        class Second(IntegrationEvent):
            event_type: ClassVar[str] = "test.unit.duplicate.v1"
            topic: ClassVar[str] = "test.unit"

    assert IntegrationEvent.registry["test.unit.duplicate.v1"] is First


def test_registry_refuses_to_redeclare_a_contract_event_type() -> None:
    before = dict(IntegrationEvent.registry)
    with pytest.raises(TypeError):

        class Impostor(IntegrationEvent):
            event_type: ClassVar[str] = MemberSuspended.event_type
            topic: ClassVar[str] = "test.unit"

    assert IntegrationEvent.registry == before


def test_events_are_immutable() -> None:
    event = suspended()
    with pytest.raises(ValidationError, match="frozen"):
        event.reason = "changed"  # type: ignore[misc]
