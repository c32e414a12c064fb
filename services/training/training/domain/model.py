"""Training sessions and their registrations (one aggregate, so capacity holds atomically).

Plain Python, no I/O. Money is Decimal, never float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from alliance_common.errors import Conflict, InvalidInput
from alliance_common.events import IntegrationEvent
from alliance_contracts.training import RegistrationConfirmed, SessionScheduled

CENT = Decimal("0.01")


class Audience(StrEnum):
    EXECUTIVES = "executives"
    IP_MANAGERS = "ip_managers"
    ENGINEERS = "engineers"


class SessionFormat(StrEnum):
    SALON = "salon"
    SEMINAR = "seminar"
    COURSE = "course"


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"


@dataclass
class Registration:
    id: str
    attendee_name: str
    attendee_email: str
    organisation_id: str | None
    registered_by: str
    price: Decimal
    member_price_applied: bool
    status: RegistrationStatus
    registered_at: datetime


@dataclass
class Session:
    id: str
    title: str
    audience: Audience
    format: SessionFormat
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    online: bool
    capacity: int
    member_price: Decimal
    non_member_price: Decimal
    currency: str
    registration_closes_at: datetime
    scheduled_by: str
    registrations: list[Registration] = field(default_factory=list)
    version: int = 0
    events: list[IntegrationEvent] = field(default_factory=list, repr=False)

    @classmethod
    def schedule(
        cls,
        *,
        id: str,
        title: str,
        audience: Audience,
        format: SessionFormat,
        starts_at: datetime,
        ends_at: datetime,
        venue: str | None,
        online: bool,
        capacity: int,
        member_price: Decimal,
        non_member_price: Decimal,
        currency: str,
        registration_closes_at: datetime | None,
        by: str,
        now: datetime,
    ) -> Session:
        if starts_at <= now:
            raise InvalidInput("a session must start in the future", field="starts_at")
        if ends_at <= starts_at:
            raise InvalidInput("must be after starts_at", field="ends_at")
        if not online and not venue:
            raise InvalidInput("an in-person session needs a venue", field="venue")
        if member_price > non_member_price:
            raise InvalidInput("the member price may not exceed the non-member price", field="member_price")
        closes = registration_closes_at or starts_at
        if closes > starts_at:
            raise InvalidInput("registration must close no later than the start", field="registration_closes_at")
        session = cls(
            id=id,
            title=title,
            audience=audience,
            format=format,
            starts_at=starts_at,
            ends_at=ends_at,
            venue=venue,
            online=online,
            capacity=capacity,
            member_price=member_price.quantize(CENT),
            non_member_price=non_member_price.quantize(CENT),
            currency=currency,
            registration_closes_at=closes,
            scheduled_by=by,
        )
        session.events.append(
            SessionScheduled(
                session_id=id,
                title=title,
                audience=audience,
                starts_at=starts_at,
                capacity=capacity,
                member_price=session.member_price,
                non_member_price=session.non_member_price,
                currency=currency,
            )
        )
        return session

    @property
    def confirmed(self) -> int:
        return sum(1 for r in self.registrations if r.status is RegistrationStatus.CONFIRMED)

    @property
    def seats_left(self) -> int:
        return self.capacity - self.confirmed

    def price_for(self, member_in_good_standing: bool) -> Decimal:
        return self.member_price if member_in_good_standing else self.non_member_price

    def register(
        self,
        *,
        registration_id: str,
        attendee_name: str,
        attendee_email: str,
        organisation_id: str | None,
        member_in_good_standing: bool,
        by: str,
        now: datetime,
    ) -> Registration:
        if now >= self.registration_closes_at:
            raise Conflict("registration for this session has closed")
        email = attendee_email.lower()
        if any(r.attendee_email == email and r.status is RegistrationStatus.CONFIRMED for r in self.registrations):
            raise Conflict(f"{email} is registered for this session already", field="attendee_email")
        if self.seats_left <= 0:
            raise Conflict("the session is full")
        registration = Registration(
            id=registration_id,
            attendee_name=attendee_name,
            attendee_email=email,
            organisation_id=organisation_id,
            registered_by=by,
            price=self.price_for(member_in_good_standing),
            member_price_applied=member_in_good_standing,
            status=RegistrationStatus.CONFIRMED,
            registered_at=now,
        )
        self.registrations.append(registration)
        self.events.append(
            RegistrationConfirmed(
                session_id=self.id,
                registration_id=registration_id,
                organisation_id=organisation_id,
                attendee_email=email,
                price=registration.price,
                currency=self.currency,
                member_price_applied=member_in_good_standing,
            )
        )
        return registration
