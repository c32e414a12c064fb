"""Events published by the training service on ``training.events`` (key: session id)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from alliance_common.events import IntegrationEvent, topic_for

# The one declaration of who publishes these types: topic and CloudEvents source follow from it.
OWNER = "training"
TOPIC = topic_for(OWNER)


class TrainingEvent(IntegrationEvent):
    owner: ClassVar[str | None] = OWNER
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
    # Optional since v1 grew them (readers of older events see None): the public calendar's fields.
    ends_at: datetime | None = None
    format: str | None = None  # salon | seminar | course
    venue: str | None = None
    online: bool | None = None


class RegistrationConfirmed(TrainingEvent):
    event_type: ClassVar[str] = "alliance.training.registration.confirmed.v1"
    summary: ClassVar[str] = "A person holds a confirmed place in a session at the price stated."
    registration_id: str
    organisation_id: str | None
    attendee_email: str
    price: Decimal
    currency: str
    member_price_applied: bool


class RegistrationStatusChanged(TrainingEvent):
    event_type: ClassVar[str] = "alliance.training.registration.status_changed.v1"
    summary: ClassVar[str] = (
        "A registration changed status (pending approval, wait-listed, offered a place, rejected, cancelled, "
        "offer expired); confirmations are `registration.confirmed.v1`."
    )
    registration_id: str
    organisation_id: str | None
    attendee_email: str
    status: str
    previous_status: str | None = None
    reason: str | None = None
    offer_expires_at: datetime | None = None
    cancellation_fee: Decimal | None = None
    currency: str | None = None
    # Optional since v1 grew it (readers of older events see None).
    session_title: str | None = None


class CertificateIssued(TrainingEvent):
    event_type: ClassVar[str] = "alliance.training.certificate.issued.v1"
    summary: ClassVar[str] = "An attendee who attended as the session requires received a certificate."
    registration_id: str
    organisation_id: str | None
    attendee_name: str
    attendee_email: str
    verification_code: str
    credit_hours: Decimal
    issued_on: date
    # Optional since v1 grew it (readers of older events see None).
    session_title: str | None = None


class CreditHoursEarned(TrainingEvent):
    event_type: ClassVar[str] = "alliance.training.credit_hours.earned.v1"
    summary: ClassVar[str] = (
        "A person earned credit hours by attending a session (hours = days attended x the session's hours per day); "
        "membership keeps each organisation's totals."
    )
    registration_id: str
    organisation_id: str | None
    attendee_name: str
    attendee_email: str
    hours: Decimal
    days: list[date]
    session_title: str
    earned_on: date


class SessionProposed(TrainingEvent):
    """``session_id`` is the proposal's id; scheduling it creates the session."""

    event_type: ClassVar[str] = "alliance.training.session.proposed.v1"
    summary: ClassVar[str] = (
        "A training session on a newly published standard was proposed for the secretariat to schedule."
    )
    title: str
    standard_number: str
    project_id: str
