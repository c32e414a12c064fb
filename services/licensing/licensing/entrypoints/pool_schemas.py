"""HTTP bodies of the patent pool."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from alliance_common.problems import RequestModel
from licensing.domain import limits
from licensing.domain.patent_rights import Claim, ClaimDecision, StatusReview
from licensing.domain.patents import ChainSegment, LegalStatus, Patent, PatentOffice
from licensing.domain.pool import Programme, Submission, SubmissionStatus

Text = Annotated[str, StringConstraints(min_length=1, max_length=limits.TEXT_MAX)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=limits.ID_MAX)]
Day = Annotated[date, Field(ge=limits.EARLIEST_DAY, le=limits.LATEST_DAY)]  # 1900-01-01 to 2199-12-31


class PatentCreate(RequestModel):
    office: PatentOffice
    number: Annotated[str, StringConstraints(min_length=3, max_length=limits.PATENT_NUMBER_MAX, to_upper=True)]
    family_id: Text
    title: Text
    filing_date: Day
    expiry_date: Day
    status: LegalStatus = LegalStatus.GRANTED
    segment: ChainSegment
    grant_date: Day | None = None
    validated_in: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]] = Field(
        default_factory=list,
        max_length=limits.COUNTRIES_MAX,
        description="EP patents only: the countries where it was validated.",
    )
    owner_id: Id | None = Field(None, description="Staff only: the owning member (members contribute their own).")

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "office": "CN",
                    "number": "CN102354789B",
                    "family_id": "FAM-2011-0042",
                    "title": "GaN-based LED epitaxial structure with a superlattice stress-relief layer",
                    "filing_date": "2011-08-05",
                    "grant_date": "2014-01-22",
                    "expiry_date": "2031-08-05",
                    "status": "granted",
                    "segment": "epitaxy",
                }
            ]
        },
    }


class StatusReviewPublic(BaseModel):
    status: LegalStatus
    ended_on: date | None
    evidence: str
    requested_by: str
    requested_on: date

    @classmethod
    def of(cls, r: StatusReview) -> StatusReviewPublic:
        return cls(
            status=LegalStatus(r.status),
            ended_on=r.ended_on,
            evidence=r.evidence,
            requested_by=r.requested_by,
            requested_on=r.requested_on,
        )


class PatentPublic(BaseModel):
    id: str
    owner_id: str
    office: PatentOffice
    number: str
    family_id: str
    title: str
    filing_date: date
    grant_date: date | None
    expiry_date: date
    ended_on: date | None
    status: LegalStatus
    segment: ChainSegment
    validated_in: list[str]
    claim: Claim = Field(
        description="undisputed, or disputed while the secretariat reviews another organisation's claim to the "
        "same number, then confirmed or rejected"
    )
    status_review: StatusReviewPublic | None = Field(
        None, description="The owner's pending request for a status only the secretariat sets."
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "02352dbc-70ef-48d4-b44f-56bbf4cab507",
                    "owner_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                    "office": "CN",
                    "number": "CN102354789B",
                    "family_id": "FAM-2011-0042",
                    "title": "GaN-based LED epitaxial structure with a superlattice stress-relief layer",
                    "filing_date": "2011-08-05",
                    "grant_date": "2014-01-22",
                    "expiry_date": "2031-08-05",
                    "ended_on": None,
                    "status": "granted",
                    "segment": "epitaxy",
                    "validated_in": [],
                    "claim": "undisputed",
                    "status_review": None,
                }
            ]
        }
    }

    @classmethod
    def of(cls, p: Patent) -> PatentPublic:
        return cls(
            id=p.id,
            owner_id=p.owner_id,
            office=p.office,
            number=p.number,
            family_id=p.family_id,
            title=p.title,
            filing_date=p.filing_date,
            grant_date=p.grant_date,
            expiry_date=p.expiry_date,
            ended_on=p.ended_on,
            status=p.status,
            segment=p.segment,
            validated_in=sorted(p.validated_in),
            claim=p.claim,
            status_review=StatusReviewPublic.of(p.review) if p.review else None,
        )


class LegalStatusIn(RequestModel):
    status: LegalStatus
    ended_on: Day | None = Field(None, description="For invalidated or lapsed patents: out of force from this day.")

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {"examples": [{"status": "lapsed", "ended_on": "2026-10-01"}]},
    }


class LegalStatusReviewIn(RequestModel):
    status: LegalStatus
    ended_on: Day | None = Field(None, description="For invalidated or lapsed patents: out of force from this day.")
    evidence: Annotated[str, StringConstraints(min_length=10, max_length=2000)] = Field(
        description="What shows the change (an office decision, its reference or link)."
    )

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "status": "granted",
                    "evidence": "CNIPA re-examination decision No. 56123 of 2026-09-14 upheld the patent in full.",
                }
            ]
        },
    }


class StatusReviewDecisionIn(RequestModel):
    approve: bool

    model_config = {**RequestModel.model_config, "json_schema_extra": {"examples": [{"approve": True}]}}


class ClaimDecisionIn(RequestModel):
    decision: ClaimDecision

    model_config = {**RequestModel.model_config, "json_schema_extra": {"examples": [{"decision": "confirm"}]}}


class ProgrammeCreate(RequestModel):
    name: Annotated[str, StringConstraints(min_length=3, max_length=limits.NAME_MAX)]
    standard_ref: Annotated[str, StringConstraints(min_length=3, max_length=100)] = Field(examples=["T/LEDA 001—2026"])
    description: Annotated[str, StringConstraints(max_length=limits.DESCRIPTION_MAX)] = ""

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "name": "LED packaging & phosphor pool",
                    "standard_ref": "T/LEDA 001—2026",
                    "description": "Essential patents of the LED packaging standard, licensed as one portfolio.",
                }
            ]
        },
    }


class TierPublic(BaseModel):
    up_to: int | None = Field(description="Cumulative units in the year this tier runs to; none: no upper bound.")
    standard_rate: Decimal
    compliant_rate: Decimal = Field(description="For licensees not late in filing or paying.")


class SchedulePublic(BaseModel):
    """The published rate schedule, as the secretariat set it (``PUT .../schedule``)."""

    currency: str
    categories: dict[str, list[TierPublic]] = Field(description="Each product category's tiers, ascending.")
    free_units_per_year: int
    annual_cap: Decimal | None
    regional_markets: list[str]
    regional_discount_percent: Decimal
    member_discount_percent: Decimal
    admin_fee_percent: Decimal
    late_interest_percent: Decimal

    @classmethod
    def of(cls, p: Programme) -> SchedulePublic | None:
        s = p.schedule
        if s is None:
            return None
        return cls(
            currency=s.currency,
            categories={
                category: [
                    TierPublic(up_to=t.up_to, standard_rate=t.standard_rate, compliant_rate=t.compliant_rate)
                    for t in tiers
                ]
                for category, tiers in s.categories.items()
            },
            free_units_per_year=s.free_units_per_year,
            annual_cap=s.annual_cap,
            regional_markets=sorted(s.regional_markets),
            regional_discount_percent=s.regional_discount_percent,
            member_discount_percent=s.member_discount_percent,
            admin_fee_percent=p.admin_fee_percent,
            late_interest_percent=p.late_interest_percent,
        )


class ProgrammePublic(BaseModel):
    id: str
    name: str
    standard_ref: str
    description: str
    created_on: date
    schedule: SchedulePublic | None = Field(
        None, description="The published rate schedule; none until the secretariat publishes one."
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "4c8e2a10-3b5d-4f7e-9a1c-6d2b8e0f3a57",
                    "name": "LED lumen maintenance pool",
                    "standard_ref": "T/LEDA 001—2026",
                    "description": "Patents essential to T/LEDA 001—2026, licensed together on one royalty schedule.",
                    "created_on": "2026-06-01",
                    "schedule": {
                        "currency": "USD",
                        "categories": {
                            "led_package": [
                                {"up_to": 1000000, "standard_rate": "0.0100", "compliant_rate": "0.0080"},
                                {"up_to": None, "standard_rate": "0.0060", "compliant_rate": "0.0050"},
                            ]
                        },
                        "free_units_per_year": 10000,
                        "annual_cap": "2000000.00",
                        "regional_markets": ["ID", "VN"],
                        "regional_discount_percent": "30",
                        "member_discount_percent": "20",
                        "admin_fee_percent": "10",
                        "late_interest_percent": "6",
                    },
                }
            ]
        }
    }

    @classmethod
    def of(cls, p: Programme) -> ProgrammePublic:
        return cls(
            id=p.id,
            name=p.name,
            standard_ref=p.standard_ref,
            description=p.description,
            created_on=p.created_on,
            schedule=SchedulePublic.of(p),
        )


class SubmissionCreate(RequestModel):
    patent_id: Id

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {"examples": [{"patent_id": "02352dbc-70ef-48d4-b44f-56bbf4cab507"}]},
    }


class AssignmentIn(RequestModel):
    evaluator_id: Text = Field(description="The expert's user id (the subject of their token).")
    evaluator_org_id: Id | None = Field(None, description="The expert's organisation, if any.")

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {"examples": [{"evaluator_id": "expert.zhao@alliance.example", "evaluator_org_id": None}]},
    }


class EvaluationIn(RequestModel):
    result: Annotated[str, StringConstraints(pattern=r"^(essential|not_essential)$")]
    reason: Annotated[str, StringConstraints(min_length=10, max_length=limits.EVALUATION_REASON_MAX)]

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {"result": "essential", "reason": "claim 1 reads on clause 5.2 of the standard (chip binning)"}
            ]
        },
    }


class SubmissionPublic(BaseModel):
    id: str
    patent_id: str
    programme_id: str
    owner_id: str
    status: SubmissionStatus
    submitted_on: date
    evaluator_id: str | None
    assigned_on: date | None
    result: str | None
    reason: str | None
    evaluated_on: date | None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                    "patent_id": "02352dbc-70ef-48d4-b44f-56bbf4cab507",
                    "programme_id": "4c8e2a10-3b5d-4f7e-9a1c-6d2b8e0f3a57",
                    "owner_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                    "status": "essential",
                    "submitted_on": "2026-06-20",
                    "evaluator_id": "expert.zhao@alliance.example",
                    "assigned_on": "2026-06-25",
                    "result": "essential",
                    "reason": "claim 1 reads on clause 5.2 of the standard (chip binning)",
                    "evaluated_on": "2026-07-30",
                }
            ]
        }
    }

    @classmethod
    def of(cls, s: Submission) -> SubmissionPublic:
        a, e = s.assignment, s.evaluation
        return cls(
            id=s.id,
            patent_id=s.patent_id,
            programme_id=s.programme_id,
            owner_id=s.owner_id,
            status=s.status,
            submitted_on=s.submitted_on,
            evaluator_id=a.evaluator_id if a else None,
            assigned_on=a.assigned_on if a else None,
            result=e.result if e else None,
            reason=e.reason if e else None,
            evaluated_on=e.evaluated_on if e else None,
        )
