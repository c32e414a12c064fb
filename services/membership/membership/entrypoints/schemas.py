"""HTTP request and response bodies (``XCreate`` in, ``XPublic`` out)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from alliance_common.problems import RequestModel
from membership.domain import limits
from membership.domain.dues import Invoice, InvoicePeriod, InvoiceStatus, outstanding
from membership.domain.model import (
    ApplicationStatus,
    CouncilDecision,
    Organisation,
    OrgType,
    ReviewDecision,
    Segment,
    Tier,
    UserRole,
)
from membership.domain.standing import MembershipStatus, is_good_standing

Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", max_length=limits.EMAIL_MAX)]
Reason = Annotated[str, StringConstraints(min_length=3, max_length=limits.REASON_MAX)]
PersonName = Annotated[str, StringConstraints(min_length=1, max_length=limits.PERSON_NAME_MAX)]
Day = Annotated[date, Field(ge=limits.EARLIEST_DAY, le=limits.LATEST_DAY)]  # 1900-01-01 to 2199-12-31


class ContactIn(RequestModel):
    name: PersonName
    email: Email
    phone: Annotated[str, StringConstraints(max_length=limits.PHONE_MAX, pattern=r"^[0-9+() .\-]*$")] | None = None


class ApplicationCreate(RequestModel):
    name: Annotated[str, StringConstraints(min_length=2, max_length=limits.NAME_MAX)]
    credit_code: Annotated[str, StringConstraints(to_upper=True, min_length=1, max_length=40)] = Field(
        description="Unified social credit code (18 characters, check characters verified).",
        examples=["91350100M000100Y43"],
    )
    org_type: OrgType
    segments: list[Segment] = Field(min_length=1, max_length=7)
    region: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")] = Field(
        description="ISO 3166 country or subdivision code.", examples=["CN-GD"]
    )
    tier: Tier = Tier.ORDINARY_MEMBER
    contact: ContactIn

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "name": "Xiamen Bright Epitaxy Co., Ltd.",
                    "credit_code": "91350100M000100Y43",
                    "org_type": "enterprise",
                    "segments": ["epitaxy", "chip"],
                    "region": "CN-FJ",
                    "tier": "ordinary_member",
                    "contact": {"name": "Chen Li", "email": "chen.li@example.com"},
                }
            ]
        },
    }


class ReviewIn(RequestModel):
    decision: ReviewDecision
    reason: Reason | None = None

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [{"decision": "accept", "reason": "documents complete; credit code verified"}]
        },
    }


class DecisionIn(RequestModel):
    decision: CouncilDecision
    reason: Reason | None = None
    start_date: Day | None = Field(
        None, description="First day of membership (default today; a past date brings in an existing member)."
    )

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [{"decision": "admit", "reason": "approved at the council meeting of 2026-11-20"}]
        },
    }


class WithdrawalIn(RequestModel):
    reason: Reason | None = None

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {"examples": [{"reason": "the company leaves the LED packaging business"}]},
    }


class ExpulsionIn(RequestModel):
    reason: Reason

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {"examples": [{"reason": "breach of the IPR policy, decided by the council"}]},
    }


class RenewalIn(RequestModel):
    model_config = {**RequestModel.model_config, "json_schema_extra": {"examples": [{}]}}


class StatusOverrideIn(RequestModel):
    status: MembershipStatus
    reason: Reason
    until: Day | None = Field(None, description="Last day the override applies; open-ended if absent.")

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {"status": "current", "reason": "payment confirmed by the bank, not yet booked", "until": "2026-12-31"}
            ]
        },
    }


class RecalculationIn(RequestModel):
    on: Day | None = Field(None, description="Apply the rules as of this day (default today; never the future).")

    model_config = {**RequestModel.model_config, "json_schema_extra": {"examples": [{"on": "2026-11-27"}]}}


class UserCreate(RequestModel):
    subject: Annotated[str, StringConstraints(min_length=1, max_length=limits.SUBJECT_MAX)] = Field(
        description="The person's login (the subject of their token)."
    )
    name: PersonName
    email: Email
    role: UserRole

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "subject": "wang.fang@weiguang.example",
                    "name": "Wang Fang",
                    "email": "wang.fang@weiguang.example",
                    "role": "member_staff",
                }
            ]
        },
    }


class UserPublic(BaseModel):
    subject: str
    name: str
    email: str
    role: UserRole

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "subject": "wang.fang@weiguang.example",
                    "name": "王芳",
                    "email": "wang.fang@weiguang.example",
                    "role": "member_staff",
                }
            ]
        }
    }


class InvoiceCreate(RequestModel):
    period: InvoicePeriod = Field(InvoicePeriod.NEXT, description="next: the renewal period; current: this one.")

    model_config = {**RequestModel.model_config, "json_schema_extra": {"examples": [{"period": "next"}]}}


class PaymentIn(RequestModel):
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
    received_on: Day
    method: Annotated[str, StringConstraints(min_length=2, max_length=limits.PAYMENT_METHOD_MAX)] = "bank_transfer"
    reference: Annotated[str, StringConstraints(max_length=limits.PAYMENT_REFERENCE_MAX)] | None = None

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "amount": "20000.00",
                    "received_on": "2026-11-20",
                    "method": "bank_transfer",
                    "reference": "ICBC-20261120-0042",
                }
            ]
        },
    }


class PaymentPublic(BaseModel):
    id: str
    amount: Decimal
    received_on: date
    method: str
    reference: str | None


# One invoice as the API shows it: InvoicePublic's example, and the one in DuesPublic's.
INVOICE_EXAMPLE: dict[str, Any] = {
    "id": "7d3b9c1e-2a4f-4b6d-8e0f-1a2b3c4d5e6f",
    "period_start": "2027-01-01",
    "period_end": "2027-12-31",
    "fee": "20000.00",
    "credit_applied": "0.00",
    "amount": "20000.00",
    "outstanding": "5000.00",
    "issued_on": "2026-11-01",
    "due_on": "2026-12-31",
    "status": "partially_paid",
    "payments": [
        {
            "id": "e4a1c2d3-5b6f-4789-9abc-def012345678",
            "amount": "15000.00",
            "received_on": "2026-11-20",
            "method": "bank_transfer",
            "reference": "ICBC-20261120-0042",
        }
    ],
}


class InvoicePublic(BaseModel):
    id: str
    period_start: date
    period_end: date
    fee: Decimal
    credit_applied: Decimal
    amount: Decimal
    outstanding: Decimal
    issued_on: date
    due_on: date
    status: InvoiceStatus
    payments: list[PaymentPublic]

    model_config = {"json_schema_extra": {"examples": [INVOICE_EXAMPLE]}}

    @classmethod
    def of(cls, i: Invoice) -> InvoicePublic:
        return cls(
            id=i.id,
            period_start=i.period_start,
            period_end=i.period_end,
            fee=i.fee,
            credit_applied=i.credit_applied,
            amount=i.amount,
            outstanding=outstanding(i),
            issued_on=i.issued_on,
            due_on=i.due_on,
            status=i.status,
            payments=[
                PaymentPublic(
                    id=p.id, amount=p.amount, received_on=p.received_on, method=p.method, reference=p.reference
                )
                for p in i.payments
            ],
        )


class DuesPublic(BaseModel):
    credit: Decimal
    invoices: list[InvoicePublic]

    model_config = {"json_schema_extra": {"examples": [{"credit": "0.00", "invoices": [INVOICE_EXAMPLE]}]}}


class RecalculationPublic(BaseModel):
    checked: int
    changed: int

    model_config = {"json_schema_extra": {"examples": [{"checked": 148, "changed": 3}]}}


class SuspensionIn(RequestModel):
    reason: Reason

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {"examples": [{"reason": "dues unpaid past the grace period"}]},
    }


class ReinstatementIn(RequestModel):
    reason: Reason | None = None

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {"examples": [{"reason": "arrears settled on 2026-11-25"}]},
    }


class ContactPublic(BaseModel):
    name: str
    email: str
    phone: str | None


class HistoryPublic(BaseModel):
    at: datetime
    action: str
    by: str
    reason: str | None


class MembershipPublic(BaseModel):
    status: MembershipStatus
    in_good_standing: bool
    tier: Tier
    annual_fee: Decimal
    join_date: date
    start_date: date
    end_date: date
    override_status: MembershipStatus | None
    override_reason: str | None
    override_until: date | None

    @classmethod
    def of(cls, org: Organisation) -> MembershipPublic | None:
        m = org.membership
        if m is None:
            return None
        return cls(
            status=m.status,
            in_good_standing=is_good_standing(m.status),
            tier=m.membership_type.tier,
            annual_fee=m.membership_type.annual_fee,
            join_date=m.join_date,
            start_date=m.start_date,
            end_date=m.end_date,
            override_status=m.override.status if m.override else None,
            override_reason=m.override.reason if m.override else None,
            override_until=m.override.until if m.override else None,
        )


class OrganisationPublic(BaseModel):
    id: str
    name: str
    credit_code: str
    org_type: OrgType
    segments: list[Segment]
    region: str
    tier: Tier
    contact: ContactPublic
    status: ApplicationStatus
    standing: MembershipStatus | None
    in_good_standing: bool
    membership: MembershipPublic | None
    membership_number: str | None
    submitted_at: datetime
    admitted_at: datetime | None
    history: list[HistoryPublic]
    credit_code_conflict: bool = Field(
        description="Another organisation claims the same credit code: the secretariat checks before accepting."
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                    "name": "Xiamen Bright Epitaxy Co., Ltd.",
                    "credit_code": "91350100M000100Y43",
                    "org_type": "enterprise",
                    "segments": ["epitaxy", "chip"],
                    "region": "CN-FJ",
                    "tier": "ordinary_member",
                    "contact": {"name": "陈丽", "email": "chen.li@bright-epi.example", "phone": "+86 592 5551 2030"},
                    "status": "admitted",
                    "standing": "current",
                    "in_good_standing": True,
                    "membership": {
                        "status": "current",
                        "in_good_standing": True,
                        "tier": "ordinary_member",
                        "annual_fee": "20000.00",
                        "join_date": "2026-05-12",
                        "start_date": "2026-05-12",
                        "end_date": "2027-05-11",
                        "override_status": None,
                        "override_reason": None,
                        "override_until": None,
                    },
                    "membership_number": "M2026-00042",
                    "submitted_at": "2026-04-02T03:15:00Z",
                    "admitted_at": "2026-05-12T07:30:00Z",
                    "history": [
                        {
                            "at": "2026-04-02T03:15:00Z",
                            "action": "applied",
                            "by": "chen.li@bright-epi.example",
                            "reason": None,
                        },
                        {
                            "at": "2026-05-12T07:30:00Z",
                            "action": "council:admit",
                            "by": "council.wang@alliance.example",
                            "reason": "Approved at the council's May meeting.",
                        },
                    ],
                    "credit_code_conflict": False,
                }
            ]
        }
    }

    @classmethod
    def of(cls, org: Organisation) -> OrganisationPublic:
        return cls(
            id=org.id,
            name=org.name,
            credit_code=org.credit_code,
            org_type=org.org_type,
            segments=org.segments,
            region=org.region,
            tier=org.tier,
            contact=ContactPublic(name=org.contact.name, email=org.contact.email, phone=org.contact.phone),
            status=org.status,
            standing=org.standing,
            in_good_standing=org.in_good_standing,
            membership=MembershipPublic.of(org),
            membership_number=org.membership_number,
            submitted_at=org.submitted_at,
            admitted_at=org.admitted_at,
            history=[HistoryPublic(at=h.at, action=h.action, by=h.by, reason=h.reason) for h in org.history],
            credit_code_conflict=org.credit_code_conflict,
        )


class PersonHoursPublic(BaseModel):
    attendee_email: str
    attendee_name: str
    hours: Decimal
    sessions: int


class CreditHoursPublic(BaseModel):
    """Training credit hours an organisation's people earned (from training's events)."""

    organisation_id: str
    total_hours: Decimal
    sessions: int
    people: list[PersonHoursPublic]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "organisation_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                    "total_hours": "24.0",
                    "sessions": 2,
                    "people": [
                        {
                            "attendee_email": "lin.wei@huaxing.example",
                            "attendee_name": "Lin Wei",
                            "hours": "18.0",
                            "sessions": 1,
                        },
                        {
                            "attendee_email": "chen.jing@huaxing.example",
                            "attendee_name": "Chen Jing",
                            "hours": "6.0",
                            "sessions": 1,
                        },
                    ],
                }
            ]
        }
    }
