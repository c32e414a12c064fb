"""Integration events and their CloudEvents 1.0 envelope.

An integration event is a pydantic model with a stable ``event_type`` (which carries its
version, e.g. ``alliance.membership.member.admitted.v1``) and the ``owner``: the one service
that publishes it. The owner is the single declaration both ends derive from: the event's
``topic`` (``<owner>.events``) and its CloudEvents ``source`` (``/alliance/<owner>``). Consumers
accept a type only from that topic and that source (``check_origin``). Readers ignore fields
they do not know, so schemas can grow additively; a breaking change gets a new version.

On Kafka an event travels in structured mode: the record's value is the whole envelope as
JSON, with ``content-type: application/cloudevents+json`` and no ``ce_`` headers
(``envelope_from_record`` also reads binary mode, for records other producers write).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
BINARY_HEADER_PREFIX = "ce_"


def topic_for(owner: str) -> str:
    """The topic a service publishes its events on."""
    return f"{owner}.events"


def source_for(owner: str) -> str:
    """The CloudEvents ``source`` of every event a service publishes."""
    return f"/alliance/{owner}"


class IntegrationEvent(BaseModel):
    """Base of every event payload (the envelope's ``data``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    # The service that publishes this type; ``topic`` and ``source`` follow from it.
    owner: ClassVar[str | None] = None
    topic: ClassVar[str]
    source: ClassVar[str | None] = None
    summary: ClassVar[str] = ""

    registry: ClassVar[dict[str, type[IntegrationEvent]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        owner = cls.__dict__.get("owner")
        if owner:
            cls.topic = topic_for(owner)
            cls.source = source_for(owner)
        event_type = cls.__dict__.get("event_type")
        if event_type:
            if event_type in IntegrationEvent.registry:
                raise TypeError(f"event type {event_type} declared twice")
            IntegrationEvent.registry[event_type] = cls


class Envelope(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode, plus our extension attributes."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: str = SPEC_VERSION
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    data: dict[str, Any]
    # Extensions (lower-case alphanumerics only, per the spec):
    partitionkey: str
    correlationid: str | None = None

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate(json.loads(raw))

    def payload(self) -> IntegrationEvent:
        """The typed event; raises PoisonEvent for an unknown type or an invalid body."""
        model = IntegrationEvent.registry.get(self.type)
        if model is None:
            raise PoisonEvent(f"unknown event type {self.type!r}")
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise PoisonEvent(f"invalid {self.type} data: {exc.errors(include_url=False)}") from exc


class PoisonEvent(Exception):
    """A message that can never be processed: it goes to the dead-letter topic at once."""

    reason = "poison"


class UntrustedEvent(PoisonEvent):
    """An event of a known type that did not come from the topic and source of its owner."""

    reason = "untrusted-origin"


def check_origin(envelope: Envelope, topic: str) -> None:
    """Raise ``UntrustedEvent`` unless ``envelope`` came on its owner's topic with its owner's source.

    A handler picks an event by its type; the type alone proves nothing (anyone who can write a
    topic can write any type on it), so the type's declared owner must match where it came from.
    """
    model = IntegrationEvent.registry.get(envelope.type)
    if model is None:
        return  # payload() refuses unknown types
    if model.owner is None or model.source is None:
        raise UntrustedEvent(f"{envelope.type} declares no owner: accepted from nobody")
    if topic != model.topic or envelope.source != model.source:
        raise UntrustedEvent(
            f"{envelope.type} is published by {model.owner} on {model.topic} with source {model.source}; "
            f"this one came on {topic} with source {envelope.source!r}"
        )


def envelope_from_record(
    value: bytes | None, headers: Sequence[tuple[str, bytes]] | None, key: bytes | None
) -> Envelope:
    """The envelope of a Kafka record in either CloudEvents mode.

    Binary mode (``ce_specversion`` header, the value is the data) unless the content type says
    structured mode; structured mode otherwise, also for records that carry a stray ``ce_type``
    beside a structured value (what the platform wrote before it dropped that header).
    A missing ``partitionkey`` is the record's key (the Kafka binding maps it there).
    Raises ``PoisonEvent`` for anything that is not an envelope.
    """
    names = {name.lower(): raw for name, raw in headers or ()}
    content_type = names.get("content-type", b"").decode(errors="replace").split(";")[0].strip().lower()
    try:
        if "ce_specversion" in names and not content_type.startswith("application/cloudevents"):
            attributes: dict[str, Any] = {
                name[len(BINARY_HEADER_PREFIX) :]: raw.decode()
                for name, raw in names.items()
                if name.startswith(BINARY_HEADER_PREFIX)
            }
            if content_type:
                attributes["datacontenttype"] = content_type
            attributes["data"] = json.loads(value or b"null")
        else:
            attributes = json.loads(value or b"")
            if not isinstance(attributes, dict):
                raise ValueError("a structured CloudEvent is a JSON object")
        if "partitionkey" not in attributes and key is not None:
            attributes["partitionkey"] = key.decode()
        return Envelope.model_validate(attributes)
    except (ValueError, UnicodeDecodeError, ValidationError) as exc:
        raise PoisonEvent(f"not a CloudEvents envelope: {exc}") from exc


def envelope_for(event: IntegrationEvent, *, source: str, subject: str, correlation_id: str | None = None) -> Envelope:
    return Envelope(
        source=source,
        type=event.event_type,
        subject=subject,
        data=event.model_dump(mode="json"),
        partitionkey=subject,
        correlationid=correlation_id,
    )
