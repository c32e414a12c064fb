"""What happened in licensing, in the domain's own words (past tense, plain data).

Aggregates append these to ``events``; the adapters map each to its versioned integration
event of ``alliance_contracts`` when the aggregate is saved (``adapters/integration_events.py``),
so the domain knows nothing of the wire format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class LicenceGranted:
    licence_id: str
    licensee_id: str
    kind: str
    programme: str
    granted_at: datetime


@dataclass(frozen=True)
class LicenceSuspended:
    licence_id: str
    licensee_id: str
    reason: str
    suspended_at: datetime


@dataclass(frozen=True)
class LicenceRestored:
    licence_id: str
    licensee_id: str
    restored_at: datetime


@dataclass(frozen=True)
class LicenceFilingRecorded:
    licence_id: str
    licensee_id: str
    programme: str
    filing_number: str
    filed_on: date
    effective_on: date
    deadline: date
    filed_late: bool
    licensors: tuple[str, ...]
    patents: int


@dataclass(frozen=True)
class LicenceFilingOverdue:
    licence_id: str
    licensee_id: str
    licensee_name: str
    programme: str
    effective_on: date
    deadline: date
    noticed_at: datetime


@dataclass(frozen=True)
class ProgrammeCreated:
    programme_id: str
    name: str
    standard_ref: str


@dataclass(frozen=True)
class PatentContributed:
    patent_id: str
    owner_id: str
    office: str
    number: str
    family_id: str
    expiry_date: date
    title: str | None = None
    segment: str | None = None
    status: str | None = None
    grant_date: date | None = None
    validated_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatentLegalStatusChanged:
    patent_id: str
    owner_id: str
    status: str
    ended_on: date | None


@dataclass(frozen=True)
class PatentSubmitted:
    submission_id: str
    patent_id: str
    programme_id: str
    owner_id: str


@dataclass(frozen=True)
class EvaluatorAssigned:
    submission_id: str
    patent_id: str
    evaluator_id: str


@dataclass(frozen=True)
class PatentEvaluated:
    submission_id: str
    patent_id: str
    programme_id: str
    owner_id: str
    essential: bool
    reason: str
    evaluated_on: date


@dataclass(frozen=True)
class RoyaltyReported:
    report_id: str
    programme_id: str
    licensee_id: str
    period: str
    total: Decimal
    currency: str
    due_on: date
    lines: int


@dataclass(frozen=True)
class RoyaltyPaid:
    report_id: str
    programme_id: str
    licensee_id: str
    amount: Decimal
    late_interest: Decimal
    outstanding: Decimal
    received_on: date


@dataclass(frozen=True)
class LicensorShare:
    licensor_id: str
    amount: Decimal


@dataclass(frozen=True)
class RoyaltiesDistributed:
    distribution_id: str
    programme_id: str
    period: str
    collected: Decimal
    admin_fee: Decimal
    distributed: Decimal
    shares: tuple[LicensorShare, ...]


LicensingEvent = (
    LicenceGranted
    | LicenceSuspended
    | LicenceRestored
    | LicenceFilingRecorded
    | LicenceFilingOverdue
    | ProgrammeCreated
    | PatentContributed
    | PatentLegalStatusChanged
    | PatentSubmitted
    | EvaluatorAssigned
    | PatentEvaluated
    | RoyaltyReported
    | RoyaltyPaid
    | RoyaltiesDistributed
)
