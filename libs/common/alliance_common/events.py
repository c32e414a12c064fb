"""Integration events and their CloudEvents 1.0 envelope.

An integration event is a pydantic model with a stable ``event_type`` (which carries its
version, e.g. ``alliance.membership.member.admitted.v1``) and the ``topic`` of the
service that publishes it. Readers ignore fields they do not know, so schemas can grow
additively without breaking older consumers; a breaking change gets a new version.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"


class IntegrationEvent(BaseModel):
    """Base of every event payload (the envelope's ``data``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]
    summary: ClassVar[str] = ""

    registry: ClassVar[dict[str, type[IntegrationEvent]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
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


def envelope_for(event: IntegrationEvent, *, source: str, subject: str, correlation_id: str | None = None) -> Envelope:
    return Envelope(
        source=source,
        type=event.event_type,
        subject=subject,
        data=event.model_dump(mode="json"),
        partitionkey=subject,
        correlationid=correlation_id,
    )
