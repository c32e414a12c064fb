"""HTTP request and response bodies of the training service."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field, JsonValue, StringConstraints

from alliance_common.problems import RequestModel
from training.domain import limits
from training.domain.model import (
    Audience,
    Registration,
    RegistrationStatus,
    Session,
    SessionFormat,
)
from training.domain.proposal import Proposal, ProposalStatus

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Hours = Annotated[Decimal, Field(ge=0, le=24, max_digits=4, decimal_places=1)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", max_length=limits.EMAIL_MAX)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=limits.PERSON_NAME_MAX)]
Title = Annotated[str, StringConstraints(min_length=3, max_length=limits.TITLE_MAX)]
Moment = Annotated[AwareDatetime, Field(ge=limits.EARLIEST_MOMENT, le=limits.LATEST_MOMENT)]  # 1900 to 2199
Day = Annotated[date, Field(ge=limits.EARLIEST_DAY, le=limits.LATEST_DAY)]

SESSION_EXAMPLE: dict[str, JsonValue] = {
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
    "registration_opens_at": "2027-01-10T00:00:00Z",
    "registration_closes_at": "2027-03-08T00:00:00Z",
    "early_bird_price": "600.00",
    "early_bird_until": "2027-02-10T00:00:00Z",
    "cancellation_deadline": "2027-03-01T00:00:00Z",
    "cancellation_fee": "200.00",
    "credit_hours_per_day": "6.0",
    "requires_approval": False,
}


class SessionCreate(RequestModel):
    title: Title
    audience: Audience
    format: SessionFormat
    starts_at: Moment
    ends_at: Moment
    venue: Annotated[str, StringConstraints(max_length=limits.VENUE_MAX)] | None = None
    online: bool = False
    capacity: int = Field(ge=1, le=limits.CAPACITY_MAX)
    member_price: Money
    non_member_price: Money
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "CNY"
    registration_opens_at: Moment | None = Field(None, description="Default: now.")
    registration_closes_at: Moment | None = Field(None, description="Default: the start.")
    requires_approval: bool = Field(False, description="Registrations wait (holding their place) for staff approval.")
    early_bird_price: Money | None = Field(None, description="Paid instead when lower, until `early_bird_until`.")
    early_bird_until: Moment | None = None
    cancellation_deadline: Moment | None = Field(
        None, description="Free cancellation until then (default: the registration close); the fee after it."
    )
    cancellation_fee: Money = Decimal("0.00")
    credit_hours_per_day: Hours | None = Field(
        None, description="Credit hours per day attended (default: a one-day session's length, else 6)."
    )
    min_days_for_certificate: int | None = Field(
        None,
        ge=1,
        le=limits.MIN_DAYS_FOR_CERTIFICATE_MAX,
        description="Days an attendee must attend for a certificate (default: every day).",
    )

    model_config = {**RequestModel.model_config, "json_schema_extra": {"examples": [SESSION_EXAMPLE]}}


class ProposalSchedule(SessionCreate):
    """Schedule a proposed session: title, audience and format default to the proposal's."""

    title: Title | None = None  # type: ignore[assignment]
    audience: Audience | None = None  # type: ignore[assignment]
    format: SessionFormat | None = None  # type: ignore[assignment]

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [{k: v for k, v in SESSION_EXAMPLE.items() if k not in ("title", "audience", "format")}]
        },
    }


class RegistrationCreate(RequestModel):
    attendee_name: Name
    attendee_email: Email
    waitlist: bool = Field(False, description="If the session is full, join its waiting list instead of a 409.")

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [{"attendee_name": "Lin Wei", "attendee_email": "lin.wei@huaxing.example", "waitlist": True}]
        },
    }


class AttendeeIn(RequestModel):
    attendee_name: Name
    attendee_email: Email


class GroupRegistrationCreate(RequestModel):
    attendees: list[AttendeeIn] = Field(min_length=1, max_length=limits.GROUP_ATTENDEES_MAX)
    waitlist: bool = Field(
        False,
        description="Without it a group gets places for all or none (409); with it the rest join the waiting list.",
    )

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "attendees": [
                        {"attendee_name": "Lin Wei", "attendee_email": "lin.wei@huaxing.example"},
                        {"attendee_name": "Chen Jing", "attendee_email": "chen.jing@huaxing.example"},
                    ],
                    "waitlist": False,
                }
            ]
        },
    }


class CancelIn(RequestModel):
    reason: Annotated[str, StringConstraints(max_length=limits.REASON_MAX)] | None = None

    model_config = {**RequestModel.model_config, "json_schema_extra": {"examples": [{"reason": "travel cancelled"}]}}


class RejectIn(RequestModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=limits.REASON_MAX)]

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {"examples": [{"reason": "this course is for IP managers; please join the seminar"}]},
    }


class CheckInIn(RequestModel):
    day: Day | None = Field(None, description="The day attended (default: the first day).")

    model_config = {**RequestModel.model_config, "json_schema_extra": {"examples": [{"day": "2027-03-10"}]}}


class SessionPublic(BaseModel):
    id: str
    title: str
    audience: Audience
    format: SessionFormat
    starts_at: datetime
    ends_at: datetime
    days: list[date]
    venue: str | None
    online: bool
    capacity: int
    seats_left: int
    waiting: int
    member_price: Decimal
    non_member_price: Decimal
    early_bird_price: Decimal | None
    early_bird_until: datetime | None
    currency: str
    registration_opens_at: datetime | None
    registration_closes_at: datetime
    requires_approval: bool
    cancellation_deadline: datetime | None
    cancellation_fee: Decimal
    credit_hours_per_day: Decimal
    days_required_for_certificate: int
    attendance_closed_at: datetime | None
    proposal_id: str | None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "d2c4e6f8-0a1b-4c3d-9e5f-7a8b9c0d1e2f",
                    "title": "Patent pools for LED engineers",
                    "audience": "engineers",
                    "format": "seminar",
                    "starts_at": "2027-03-10T01:00:00Z",
                    "ends_at": "2027-03-10T09:00:00Z",
                    "days": ["2027-03-10"],
                    "venue": "Shenzhen",
                    "online": False,
                    "capacity": 40,
                    "seats_left": 12,
                    "waiting": 0,
                    "member_price": "800.00",
                    "non_member_price": "1500.00",
                    "early_bird_price": "600.00",
                    "early_bird_until": "2027-02-10T00:00:00Z",
                    "currency": "CNY",
                    "registration_opens_at": "2027-01-10T00:00:00Z",
                    "registration_closes_at": "2027-03-08T00:00:00Z",
                    "requires_approval": False,
                    "cancellation_deadline": "2027-03-01T00:00:00Z",
                    "cancellation_fee": "200.00",
                    "credit_hours_per_day": "6.0",
                    "days_required_for_certificate": 1,
                    "attendance_closed_at": None,
                    "proposal_id": None,
                }
            ]
        }
    }

    @classmethod
    def of(cls, s: Session) -> SessionPublic:
        return cls(
            id=s.id,
            title=s.title,
            audience=s.audience,
            format=s.format,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            days=s.days,
            venue=s.venue,
            online=s.online,
            capacity=s.capacity,
            seats_left=s.seats_left,
            waiting=s.waiting_count,
            member_price=s.member_price,
            non_member_price=s.non_member_price,
            early_bird_price=s.early_bird_price,
            early_bird_until=s.early_bird_until,
            currency=s.currency,
            registration_opens_at=s.registration_opens_at,
            registration_closes_at=s.registration_closes_at,
            requires_approval=s.requires_approval,
            cancellation_deadline=s.cancellation_deadline,
            cancellation_fee=s.cancellation_fee,
            credit_hours_per_day=s.credit_hours_per_day,
            days_required_for_certificate=s.days_required,
            attendance_closed_at=s.attendance_closed_at,
            proposal_id=s.proposal_id,
        )


class QuotePublic(BaseModel):
    session_id: str
    price: Decimal
    currency: str
    member_price_applied: bool
    early_bird_applied: bool = False

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "session_id": "d2c4e6f8-0a1b-4c3d-9e5f-7a8b9c0d1e2f",
                    "price": "600.00",
                    "currency": "CNY",
                    "member_price_applied": True,
                    "early_bird_applied": True,
                }
            ]
        }
    }


class StatusChangePublic(BaseModel):
    status: RegistrationStatus
    at: datetime
    by: str
    reason: str | None


# One registration as the API shows it: RegistrationPublic's example, and the first of a group's.
REGISTRATION_EXAMPLE: dict[str, Any] = {
    "id": "f1e2d3c4-b5a6-4978-8f6e-5d4c3b2a1908",
    "session_id": "d2c4e6f8-0a1b-4c3d-9e5f-7a8b9c0d1e2f",
    "attendee_name": "林伟",
    "attendee_email": "lin.wei@huaxing.example",
    "organisation_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
    "price": "600.00",
    "currency": "CNY",
    "member_price_applied": True,
    "early_bird_applied": True,
    "status": "confirmed",
    "registered_at": "2027-01-20T02:05:00Z",
    "waitlist_position": None,
    "offer_expires_at": None,
    "cancellation_fee": None,
    "days_attended": [],
    "credit_hours": None,
    "certificate_code": None,
    "history": [{"status": "confirmed", "at": "2027-01-20T02:05:00Z", "by": "lin.wei@huaxing.example", "reason": None}],
}


class RegistrationPublic(BaseModel):
    id: str
    session_id: str
    attendee_name: str
    attendee_email: str
    organisation_id: str | None
    price: Decimal
    currency: str
    member_price_applied: bool
    early_bird_applied: bool
    status: RegistrationStatus
    registered_at: datetime
    waitlist_position: int | None = Field(None, description="Place on the waiting list (1 = next), while waiting.")
    offer_expires_at: datetime | None
    cancellation_fee: Decimal | None
    days_attended: list[date]
    credit_hours: Decimal | None
    certificate_code: str | None
    history: list[StatusChangePublic]

    model_config = {"json_schema_extra": {"examples": [REGISTRATION_EXAMPLE]}}

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
            early_bird_applied=r.early_bird_applied,
            status=r.status,
            registered_at=r.registered_at,
            waitlist_position=s.place_in_line(r),
            offer_expires_at=r.offer_expires_at,
            cancellation_fee=r.cancellation_fee,
            days_attended=r.days_attended,
            credit_hours=r.credit_hours,
            certificate_code=r.certificate.code if r.certificate else None,
            history=[StatusChangePublic(status=h.status, at=h.at, by=h.by, reason=h.reason) for h in r.history],
        )


class GroupRegistrationPublic(BaseModel):
    session_id: str
    registrations: list[RegistrationPublic]
    placed: int = Field(description="Registrations holding a place (confirmed or pending approval).")
    waitlisted: int

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "session_id": REGISTRATION_EXAMPLE["session_id"],
                    "registrations": [
                        REGISTRATION_EXAMPLE,
                        {
                            **REGISTRATION_EXAMPLE,
                            "id": "0a9b8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d",
                            "attendee_name": "陈静",
                            "attendee_email": "chen.jing@huaxing.example",
                            "history": [{**REGISTRATION_EXAMPLE["history"][0], "by": "chen.li@huaxing.example"}],
                        },
                    ],
                    "placed": 2,
                    "waitlisted": 0,
                }
            ]
        }
    }


class CertificateIssuedPublic(BaseModel):
    registration_id: str
    attendee_name: str
    verification_code: str
    credit_hours: Decimal


class AttendanceClosedPublic(BaseModel):
    session_id: str
    certificates: list[CertificateIssuedPublic]
    credited: int = Field(description="Attendees whose credit hours were sent to membership.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "session_id": "d2c4e6f8-0a1b-4c3d-9e5f-7a8b9c0d1e2f",
                    "certificates": [
                        {
                            "registration_id": "f1e2d3c4-b5a6-4978-8f6e-5d4c3b2a1908",
                            "attendee_name": "林伟",
                            "verification_code": "7KQ4M9XR2HTA",
                            "credit_hours": "6.0",
                        },
                        {
                            "registration_id": "0a9b8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d",
                            "attendee_name": "陈静",
                            "verification_code": "P3WZ8N5CJ6EV",
                            "credit_hours": "6.0",
                        },
                    ],
                    "credited": 2,
                }
            ]
        }
    }


class CertificateVerification(BaseModel):
    """What anyone may learn from a verification code, and nothing else."""

    attendee_name: str
    course: str
    dates: list[date]
    credit_hours: Decimal
    issued_on: date

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "attendee_name": "Lin Wei",
                    "course": "LED patent landscape course for engineers",
                    "dates": ["2027-03-10", "2027-03-11", "2027-03-12"],
                    "credit_hours": "18.0",
                    "issued_on": "2027-03-12",
                }
            ]
        }
    }


class ProposalPublic(BaseModel):
    id: str
    project_id: str
    standard_number: str
    standard_title: str
    published_on: date
    title: str
    audience: Audience
    format: SessionFormat
    status: ProposalStatus
    proposed_at: datetime
    session_id: str | None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "c7d8e9f0-a1b2-4c3d-8e4f-5a6b7c8d9e0f",
                    "project_id": "8f14e45f-ceea-467f-a0e6-3c1d2b5a9e70",
                    "standard_number": "T/LEDA 001—2026",
                    "standard_title": "Maintenance of LED luminous flux in street lighting",
                    "published_on": "2026-12-28",
                    "title": "Introducing T/LEDA 001—2026 to LED engineers",
                    "audience": "engineers",
                    "format": "seminar",
                    "status": "proposed",
                    "proposed_at": "2026-12-28T01:00:00Z",
                    "session_id": None,
                }
            ]
        }
    }

    @classmethod
    def of(cls, p: Proposal) -> ProposalPublic:
        return cls(
            id=p.id,
            project_id=p.project_id,
            standard_number=p.standard_number,
            standard_title=p.standard_title,
            published_on=p.published_on,
            title=p.title,
            audience=p.audience,
            format=p.format,
            status=p.status,
            proposed_at=p.proposed_at,
            session_id=p.session_id,
        )
