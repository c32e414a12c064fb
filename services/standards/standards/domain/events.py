"""What happened to a standards project, in the domain's own words.

Plain frozen dataclasses, past tense, no wire format: ``adapters/integration_events.py``
maps each to its versioned ``alliance_contracts.standards`` event when the project is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class ProjectProposed:
    project_id: str
    title: str
    scope: str
    proposer_id: str
    proposed_at: datetime
    title_en: str | None = None
    ics_codes: tuple[str, ...] = ()
    ccs_code: str | None = None
    stage: str | None = None


@dataclass(frozen=True)
class ProjectStageChanged:
    project_id: str
    from_stage: str
    to_stage: str
    action: str
    by: str
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class PatentDeclared:
    """One current IPR declaration on a published standard."""

    holder_id: str
    office: str
    number: str
    commitment: str
    title: str | None
    family_id: str | None
    draft_version: int | None
    declaration_id: str | None


@dataclass(frozen=True)
class DraftedBy:
    """A drafting person named in a published standard (起草人)."""

    name: str
    org_id: str


@dataclass(frozen=True)
class StandardPublished:
    project_id: str
    number: str
    title: str
    published_on: date
    declarations: tuple[PatentDeclared, ...]
    scope: str | None
    drafting_organisations: tuple[str, ...]
    implementation_on: date | None
    revision_of: str | None
    title_en: str | None = None
    ics_codes: tuple[str, ...] = ()
    ccs_code: str | None = None
    drafting_persons: tuple[DraftedBy, ...] = ()


@dataclass(frozen=True)
class BallotVoteVoided:
    project_id: str
    ballot: int
    organisation_id: str
    reason: str
    voided_at: datetime


@dataclass(frozen=True)
class IprCallIssued:
    project_id: str
    call_id: str
    title: str
    reason: str
    issued_at: datetime
    deadline: datetime
    draft_version: int | None
    participants: tuple[str, ...]


@dataclass(frozen=True)
class IprCallAnswered:
    project_id: str
    call_id: str
    organisation_id: str
    answer: str
    answered_at: datetime


@dataclass(frozen=True)
class BallotOpened:
    project_id: str
    ballot: int
    title: str
    opened_at: datetime
    closes_at: datetime
    eligible: tuple[str, ...]


@dataclass(frozen=True)
class BallotClosed:
    project_id: str
    ballot: int
    title: str
    result: str
    closed_at: datetime
    eligible: tuple[str, ...]


DomainEvent = (
    ProjectProposed
    | ProjectStageChanged
    | StandardPublished
    | BallotVoteVoided
    | IprCallIssued
    | IprCallAnswered
    | BallotOpened
    | BallotClosed
)
