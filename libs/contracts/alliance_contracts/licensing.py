"""Events published by the licensing service on ``licensing.events`` (key: licence id)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from alliance_common.events import IntegrationEvent, topic_for

# The one declaration of who publishes these types: topic and CloudEvents source follow from it.
OWNER = "licensing"
TOPIC = topic_for(OWNER)


class LicensingEvent(IntegrationEvent):
    owner: ClassVar[str | None] = OWNER
    licence_id: str
    licensee_id: str


class LicenceGranted(LicensingEvent):
    event_type: ClassVar[str] = "alliance.licensing.licence.granted.v1"
    summary: ClassVar[str] = "A licence was granted (e.g. the internal cross-licence on admission)."
    kind: str
    programme: str
    granted_at: datetime


class LicenceSuspended(LicensingEvent):
    event_type: ClassVar[str] = "alliance.licensing.licence.suspended.v1"
    summary: ClassVar[str] = "A licence was suspended (e.g. its member lost good standing)."
    reason: str
    suspended_at: datetime


class LicenceRestored(LicensingEvent):
    event_type: ClassVar[str] = "alliance.licensing.licence.restored.v1"
    summary: ClassVar[str] = "A suspended licence is in force again."
    restored_at: datetime


class LicenceFilingRecorded(LicensingEvent):
    event_type: ClassVar[str] = "alliance.licensing.licence.filing_recorded.v1"
    summary: ClassVar[str] = (
        "A programme licence's contract was filed with the patent office (its filing number and date, "
        "recorded by the secretariat); filed_late says whether after the three-month deadline."
    )
    programme: str
    filing_number: str
    filed_on: date
    effective_on: date
    deadline: date
    filed_late: bool = False
    licensors: list[str] = []  # organisation ids of the patent holders
    patents: int = 0  # how many patents the filed contract lists


class LicenceFilingOverdue(LicensingEvent):
    event_type: ClassVar[str] = "alliance.licensing.licence.filing_overdue.v1"
    summary: ClassVar[str] = (
        "A programme licence's contract passed its filing deadline (three months from taking effect) and is "
        "not filed yet: published once per licence, when licensing's deadline check first finds it overdue."
    )
    programme: str
    licensee_name: str = ""
    effective_on: date
    deadline: date
    noticed_at: datetime


class PoolEvent(IntegrationEvent):
    """Facts about the patent pool (patents, programmes, evaluations), also on licensing.events."""

    owner: ClassVar[str | None] = OWNER


class ProgrammeCreated(PoolEvent):
    event_type: ClassVar[str] = "alliance.licensing.programme.created.v1"
    summary: ClassVar[str] = "A pool programme (a patent pool tied to a standard) was created."
    programme_id: str
    name: str
    standard_ref: str


class PatentContributed(PoolEvent):
    event_type: ClassVar[str] = "alliance.licensing.patent.contributed.v1"
    summary: ClassVar[str] = "A member contributed a patent to the alliance's register."
    patent_id: str
    owner_id: str
    office: str
    number: str
    family_id: str
    expiry_date: date
    # Optional since v1 grew them (readers of older events see None / []): what the register's
    # statistics and open data need (segment, in force where and from when).
    title: str | None = None
    segment: str | None = None
    status: str | None = None  # pending | granted | expired | invalidated | lapsed
    grant_date: date | None = None
    validated_in: list[str] = []  # EP only: the countries of validation


class PatentSubmitted(PoolEvent):
    event_type: ClassVar[str] = "alliance.licensing.patent.submitted.v1"
    summary: ClassVar[str] = "A patent was submitted to a programme for an essentiality evaluation."
    submission_id: str
    patent_id: str
    programme_id: str
    owner_id: str


class EvaluatorAssigned(PoolEvent):
    event_type: ClassVar[str] = "alliance.licensing.evaluation.assigned.v1"
    summary: ClassVar[str] = "An independent expert was assigned to evaluate a submitted patent."
    submission_id: str
    patent_id: str
    evaluator_id: str


class PatentEvaluated(PoolEvent):
    event_type: ClassVar[str] = "alliance.licensing.patent.evaluated.v1"
    summary: ClassVar[str] = "An expert found a submitted patent essential (it is listed in the programme) or not."
    submission_id: str
    patent_id: str
    programme_id: str
    owner_id: str
    essential: bool
    reason: str
    evaluated_on: date


class RoyaltyReported(PoolEvent):
    event_type: ClassVar[str] = "alliance.licensing.royalty.reported.v1"
    summary: ClassVar[str] = "A licensee filed a quarterly royalty report; the amount due is invoiced."
    report_id: str
    programme_id: str
    licensee_id: str
    period: str
    total: Decimal
    currency: str
    due_on: date
    lines: int


class RoyaltyPaid(PoolEvent):
    event_type: ClassVar[str] = "alliance.licensing.royalty.paid.v1"
    summary: ClassVar[str] = "A payment was received against a royalty invoice (with any late interest)."
    report_id: str
    programme_id: str
    licensee_id: str
    amount: Decimal
    late_interest: Decimal
    outstanding: Decimal
    received_on: date


class LicensorShare(BaseModel):
    """One licensor's line in a distribution (part of an event, not an event)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    licensor_id: str
    amount: Decimal


class RoyaltiesDistributed(PoolEvent):
    event_type: ClassVar[str] = "alliance.licensing.royalties.distributed.v1"
    summary: ClassVar[str] = "A period's collected royalties, less the administration fee, were shared among licensors."
    distribution_id: str
    programme_id: str
    period: str
    collected: Decimal
    admin_fee: Decimal
    distributed: Decimal
    shares: list[LicensorShare]


class PatentLegalStatusChanged(PoolEvent):
    event_type: ClassVar[str] = "alliance.licensing.patent.legal_status_changed.v1"
    summary: ClassVar[str] = "A patent expired, was invalidated or lapsed: out of force from ended_on."
    patent_id: str
    owner_id: str
    status: str
    ended_on: date | None
