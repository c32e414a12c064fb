"""Events published by the standards service on ``standards.events`` (key: project id)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from alliance_common.events import IntegrationEvent, topic_for

# The one declaration of who publishes these types: topic and CloudEvents source follow from it.
OWNER = "standards"
TOPIC = topic_for(OWNER)


class StandardsEvent(IntegrationEvent):
    owner: ClassVar[str | None] = OWNER
    project_id: str


class ProjectProposed(StandardsEvent):
    event_type: ClassVar[str] = "alliance.standards.project.proposed.v1"
    summary: ClassVar[str] = "A member in good standing proposed a standards project."
    title: str
    scope: str
    proposer_id: str
    proposed_at: datetime
    # Optional since v1 grew them (filing particulars given at proposal).
    title_en: str | None = None
    ics_codes: list[str] = []
    ccs_code: str | None = None
    # Optional since v1 grew it: the stage the project starts in ("proposed"; a revision of a
    # published standard starts at "working_group"). None on older events: "proposed".
    stage: str | None = None


class DeclaredPatent(BaseModel):
    """One IPR declaration attached to a published standard (part of an event)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    holder_id: str
    office: str
    number: str
    commitment: str  # royalty_free | frand | declaration_later | unwilling
    # Optional since v1 grew them (readers of older events see None).
    title: str | None = None
    family_id: str | None = None
    draft_version: int | None = None
    declaration_id: str | None = None


class DraftingPerson(BaseModel):
    """A drafting person (起草人) named in a published standard (part of an event)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    org_id: str  # names of organisations travel with membership's events, not here


class StandardPublished(StandardsEvent):
    event_type: ClassVar[str] = "alliance.standards.standard.published.v1"
    summary: ClassVar[str] = "A standard was published with its number and the IPR declarations made on it."
    number: str  # e.g. T/LEDA 001—2026
    title: str
    published_on: date
    declarations: list[DeclaredPatent] = []
    # Optional since v1 grew them.
    scope: str | None = None
    drafting_organisations: list[str] = []
    implementation_on: date | None = None
    revision_of: str | None = None
    # The national group-standard platform's particulars (optional: older events lack them).
    title_en: str | None = None
    ics_codes: list[str] = []  # e.g. 31.260
    ccs_code: str | None = None  # e.g. L51
    drafting_persons: list[DraftingPerson] = []


class ProjectStageChanged(StandardsEvent):
    event_type: ClassVar[str] = "alliance.standards.project.stage_changed.v1"
    summary: ClassVar[str] = (
        "A standards project moved through its life cycle (from one stage to another, or repeated a stage)."
    )
    from_stage: str
    to_stage: str
    action: str
    by: str
    reason: str | None = None
    at: datetime


class BallotVoteVoided(StandardsEvent):
    event_type: ClassVar[str] = "alliance.standards.ballot.vote_voided.v1"
    summary: ClassVar[str] = "A member organisation's ballot vote was voided (e.g. it lost good standing)."
    ballot: int
    organisation_id: str
    reason: str
    voided_at: datetime


class IprCallIssued(StandardsEvent):
    event_type: ClassVar[str] = "alliance.standards.ipr_call.issued.v1"
    summary: ClassVar[str] = (
        "A call for IPR declarations was issued on a project's draft; the participating organisations answer "
        "it by the deadline."
    )
    call_id: str
    title: str  # the project's
    reason: str  # committee_draft | pre_ballot
    issued_at: datetime
    deadline: datetime
    draft_version: int | None = None
    participants: list[str] = []  # organisation ids


class BallotOpened(StandardsEvent):
    event_type: ClassVar[str] = "alliance.standards.ballot.opened.v1"
    summary: ClassVar[str] = "A ballot on a project opened; the eligible member organisations may vote until it closes."
    ballot: int
    title: str
    opened_at: datetime
    closes_at: datetime
    eligible: list[str] = []  # organisation ids


class BallotClosed(StandardsEvent):
    event_type: ClassVar[str] = "alliance.standards.ballot.closed.v1"
    summary: ClassVar[str] = "A ballot closed with its result (approved, failed, or repeated by a new ballot)."
    ballot: int
    title: str
    result: str
    closed_at: datetime
    eligible: list[str] = []


class IprCallAnswered(StandardsEvent):
    event_type: ClassVar[str] = "alliance.standards.ipr_call.answered.v1"
    summary: ClassVar[str] = "An organisation answered an IPR call (declared its patents, or knows of none)."
    call_id: str
    organisation_id: str
    answer: str  # declared | no_patents_known
    answered_at: datetime
