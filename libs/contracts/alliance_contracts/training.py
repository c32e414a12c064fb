"""Events published by the training service on ``training.events`` (key: session id)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from alliance_common.events import IntegrationEvent

TOPIC = "training.events"


class TrainingEvent(IntegrationEvent):
    topic: ClassVar[str] = TOPIC
    session_id: str


class SessionScheduled(TrainingEvent):
    event_type: ClassVar[str] = "alliance.training.session.scheduled.v1"
    summary: ClassVar[str] = "A training session was scheduled and opened for registration."
    title: str
    audience: str
    starts_at: datetime
    capacity: int
    member_price: Decimal
    non_member_price: Decimal
    currency: str


class RegistrationConfirmed(TrainingEvent):
    event_type: ClassVar[str] = "alliance.training.registration.confirmed.v1"
    summary: ClassVar[str] = "A person holds a confirmed place in a session at the price stated."
    registration_id: str
    organisation_id: str | None
    attendee_email: str
    price: Decimal
    currency: str
    member_price_applied: bool
