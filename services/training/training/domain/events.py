"""What happened to a training session or proposal, in the domain's own words.

Plain frozen dataclasses, past tense, no wire format: ``adapters/integration_events.py``
maps each to its versioned ``alliance_contracts.training`` event when the aggregate is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class SessionScheduled:
    session_id: str
    title: str
    audience: str
    starts_at: datetime
    capacity: int
    member_price: Decimal
    non_member_price: Decimal
    currency: str
    ends_at: datetime | None = None
    format: str | None = None
    venue: str | None = None
    online: bool | None = None


@dataclass(frozen=True)
class RegistrationConfirmed:
    session_id: str
    registration_id: str
    organisation_id: str | None
    attendee_email: str
    price: Decimal
    currency: str
    member_price_applied: bool


@dataclass(frozen=True)
class RegistrationStatusChanged:
    """Any status but confirmed (pending, wait-listed, offered, rejected, cancelled, offer expired)."""

    session_id: str
    registration_id: str
    organisation_id: str | None
    attendee_email: str
    status: str
    previous_status: str | None
    reason: str | None
    offer_expires_at: datetime | None
    cancellation_fee: Decimal | None
    currency: str | None
    session_title: str


@dataclass(frozen=True)
class CreditHoursEarned:
    session_id: str
    registration_id: str
    organisation_id: str | None
    attendee_name: str
    attendee_email: str
    hours: Decimal
    days: tuple[date, ...]
    session_title: str
    earned_on: date


@dataclass(frozen=True)
class CertificateIssued:
    session_id: str
    registration_id: str
    organisation_id: str | None
    attendee_name: str
    attendee_email: str
    verification_code: str
    credit_hours: Decimal
    issued_on: date
    session_title: str


@dataclass(frozen=True)
class SessionProposed:
    """``session_id`` is the proposal's id; scheduling the proposal creates the session."""

    session_id: str
    title: str
    standard_number: str
    project_id: str


SessionEvent = (
    SessionScheduled | RegistrationConfirmed | RegistrationStatusChanged | CreditHoursEarned | CertificateIssued
)
DomainEvent = SessionEvent | SessionProposed
