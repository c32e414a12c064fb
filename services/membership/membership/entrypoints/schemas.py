"""HTTP request and response bodies (``XCreate`` in, ``XPublic`` out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from alliance_common.problems import RequestModel
from membership.domain.model import (
    ApplicationStatus,
    CouncilDecision,
    Organisation,
    OrgType,
    ReviewDecision,
    Segment,
    Standing,
    Tier,
)

Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", max_length=254)]
Reason = Annotated[str, StringConstraints(min_length=3, max_length=2000)]


class ContactIn(RequestModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    email: Email
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None


class ApplicationCreate(RequestModel):
    name: Annotated[str, StringConstraints(min_length=2, max_length=200)]
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


class DecisionIn(RequestModel):
    decision: CouncilDecision
    reason: Reason | None = None


class SuspensionIn(RequestModel):
    reason: Reason


class ReinstatementIn(RequestModel):
    reason: Reason | None = None


class ContactPublic(BaseModel):
    name: str
    email: str
    phone: str | None


class HistoryPublic(BaseModel):
    at: datetime
    action: str
    by: str
    reason: str | None


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
    standing: Standing | None
    in_good_standing: bool
    membership_number: str | None
    submitted_at: datetime
    admitted_at: datetime | None
    history: list[HistoryPublic]

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
            membership_number=org.membership_number,
            submitted_at=org.submitted_at,
            admitted_at=org.admitted_at,
            history=[HistoryPublic(at=h.at, action=h.action, by=h.by, reason=h.reason) for h in org.history],
        )
