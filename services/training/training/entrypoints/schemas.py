"""HTTP request and response bodies of the training service."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from alliance_common.problems import RequestModel
from training.domain.model import Audience, Registration, RegistrationStatus, Session, SessionFormat

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class SessionCreate(RequestModel):
    title: Annotated[str, StringConstraints(min_length=3, max_length=300)]
    audience: Audience
    format: SessionFormat
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    venue: Annotated[str, StringConstraints(max_length=300)] | None = None
    online: bool = False
    capacity: int = Field(ge=1, le=10000)
    member_price: Money
    non_member_price: Money
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "CNY"
    registration_closes_at: AwareDatetime | None = None

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "title": "Patent pools for LED engineers",
                    "audience": "engineers",
                    "format": "seminar",
                    "starts_at": "2027-03-10T01:00:00Z",
                    "ends_at": "2027-03-10T09:00:00Z",
                    "venue": "Shenzhen",
                    "capacity": 40,
                    "member_price": "800.00",
                    "non_member_price": "1500.00",
                    "currency": "CNY",
                }
            ]
        },
    }


class RegistrationCreate(RequestModel):
    attendee_name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    attendee_email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", max_length=254)]


class SessionPublic(BaseModel):
    id: str
    title: str
    audience: Audience
    format: SessionFormat
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    online: bool
    capacity: int
    seats_left: int
    member_price: Decimal
    non_member_price: Decimal
    currency: str
    registration_closes_at: datetime

    @classmethod
    def of(cls, s: Session) -> SessionPublic:
        return cls(
            id=s.id,
            title=s.title,
            audience=s.audience,
            format=s.format,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            venue=s.venue,
            online=s.online,
            capacity=s.capacity,
            seats_left=s.seats_left,
            member_price=s.member_price,
            non_member_price=s.non_member_price,
            currency=s.currency,
            registration_closes_at=s.registration_closes_at,
        )


class QuotePublic(BaseModel):
    session_id: str
    price: Decimal
    currency: str
    member_price_applied: bool


class RegistrationPublic(BaseModel):
    id: str
    session_id: str
    attendee_name: str
    attendee_email: str
    organisation_id: str | None
    price: Decimal
    currency: str
    member_price_applied: bool
    status: RegistrationStatus
    registered_at: datetime

    @classmethod
    def of(cls, s: Session, r: Registration) -> RegistrationPublic:
        return cls(
            id=r.id,
            session_id=s.id,
            attendee_name=r.attendee_name,
            attendee_email=r.attendee_email,
            organisation_id=r.organisation_id,
            price=r.price,
            currency=s.currency,
            member_price_applied=r.member_price_applied,
            status=r.status,
            registered_at=r.registered_at,
        )
