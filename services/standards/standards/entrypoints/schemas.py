"""HTTP request and response bodies of the standards service."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from alliance_common.pagination import decode_cursor, encode_cursor
from alliance_common.problems import RequestModel
from standards.domain import limits
from standards.domain.ballots import Ballot, Position, Vote
from standards.domain.filing import (
    CCS_PATTERN,
    ICS_PATTERN,
    DraftingPerson,
    ccs_problem,
    english_title_problem,
    ics_problem,
)
from standards.domain.ipr import CallAnswerKind, Commitment, Declaration, DeclarationStatus, IprCall
from standards.domain.lifecycle import TRANSITIONS, Action, Stage
from standards.domain.model import (
    Comment,
    Disposition,
    DraftVersion,
    GroupRole,
    Project,
)

T = TypeVar("T")


def examples(*values: dict[str, Any]) -> ConfigDict:
    return ConfigDict(**{**RequestModel.model_config, "json_schema_extra": {"examples": list(values)}})


def page_of(items: Sequence[T], key: Callable[[T], str], cursor: str | None, limit: int) -> tuple[list[T], str | None]:
    """Cursor pagination over a project's children (ordered as kept: oldest first)."""
    after = decode_cursor(cursor)
    start = 0
    if after is not None:
        keys = [key(i) for i in items]
        start = keys.index(after) + 1 if after in keys else len(items)
    chosen = list(items[start : start + limit])
    more = start + limit < len(items)
    return chosen, encode_cursor(key(chosen[-1])) if more and chosen else None


Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limits.REFERENCE_MAX)]
OrgId = Annotated[str, StringConstraints(min_length=1, max_length=limits.ORG_ID_MAX)]
Day = Annotated[date, Field(ge=limits.EARLIEST_DAY, le=limits.LATEST_DAY)]  # 1900-01-01 to 2199-12-31
Moment = Annotated[datetime, Field(ge=limits.EARLIEST_MOMENT, le=limits.LATEST_MOMENT)]


def _checked(problem: Callable[[str], str | None]) -> Callable[[str], str]:
    """A validator from one of ``domain.filing``'s checks: its own words in the 422."""

    def check(value: str) -> str:
        reason = problem(value)
        if reason:
            raise ValueError(reason)
        return value

    return check


IcsCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=limits.CLASSIFICATION_MAX),
    AfterValidator(_checked(ics_problem)),
    Field(json_schema_extra={"pattern": ICS_PATTERN}, examples=["31.260"]),
]
CcsCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=limits.CLASSIFICATION_MAX),
    AfterValidator(_checked(ccs_problem)),
    Field(json_schema_extra={"pattern": CCS_PATTERN}, examples=["L51"]),
]
EnglishTitle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=5, max_length=limits.TITLE_MAX),
    AfterValidator(_checked(english_title_problem)),
]
IcsCodes = Annotated[
    list[IcsCode],
    Field(max_length=limits.ICS_CODES_MAX, description="ICS codes (International Classification for Standards)."),
]


class DrafterBody(RequestModel):
    """A drafting person (起草人), of an organisation of the working group."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limits.DRAFTER_NAME_MAX)]
    org_id: OrgId


class DrafterPublic(BaseModel):
    name: str
    org_id: str
    organisation: str | None = Field(None, description="The organisation's name, as its admission stated it.")

    @classmethod
    def of(cls, person: DraftingPerson, names: Mapping[str, str] | None = None) -> DrafterPublic:
        return cls(name=person.name, org_id=person.org_id, organisation=(names or {}).get(person.org_id))


class ProjectCreate(RequestModel):
    title: Annotated[str, StringConstraints(min_length=5, max_length=limits.TITLE_MAX)]
    scope: Annotated[str, StringConstraints(min_length=10, max_length=limits.SCOPE_MAX)]
    title_en: EnglishTitle | None = Field(None, description="The English title (the filing record asks for it).")
    ics_codes: IcsCodes = []
    ccs_code: CcsCode | None = Field(None, description="The CCS code (Chinese Standard Classification), e.g. L51.")

    model_config = examples(
        {
            "title": "LED 封装光通量维持率测试方法",
            "scope": "Specifies the test conditions and method for lumen maintenance of LED packages.",
            "title_en": "Test method for luminous flux maintenance of LED packages",
            "ics_codes": ["31.260"],
            "ccs_code": "L51",
        }
    )


class HistoryPublic(BaseModel):
    at: datetime
    action: str
    by: str
    reason: str | None
    from_stage: str | None = None
    to_stage: str | None = None


class GroupMemberBody(RequestModel):
    org_id: OrgId
    role: GroupRole
    person: Annotated[str, StringConstraints(max_length=limits.PERSON_MAX)] | None = None


class WorkingGroupBody(RequestModel):
    members: list[GroupMemberBody] = Field(min_length=1, max_length=limits.WORKING_GROUP_MAX)

    model_config = examples(
        {
            "members": [
                {"org_id": "5b0c...-chair-org", "role": "chair", "person": "Dr. Chen Li"},
                {"org_id": "9a1d...-editor-org", "role": "editor", "person": "Wang Fang"},
                {"org_id": "77e2...-participant-org", "role": "participant"},
            ]
        }
    )


class CommentPeriodPublic(BaseModel):
    number: int
    opens_at: datetime
    closes_at: datetime


class ProjectPublic(BaseModel):
    id: str
    title: str
    scope: str
    proposer_id: str
    status: Stage
    proposed_at: datetime
    history: list[HistoryPublic]
    working_group: list[GroupMemberBody] = []
    draft_versions: int = 0
    comment_period: CommentPeriodPublic | None = None
    ballots: int = 0
    standard_number: str | None = None
    approved_on: date | None = None
    published_on: date | None = None
    implementation_on: date | None = None
    registry_reference: str | None = None
    filed_on: date | None = None
    review_due: date | None = None
    withdrawn_on: date | None = None
    revision_of: str | None = None
    revised_by: str | None = None
    title_en: str | None = None
    ics_codes: list[str] = []
    ccs_code: str | None = None
    drafters: list[DrafterPublic] = Field([], description="Drafting persons (given at publication or filing).")
    next_actions: list[Action] = Field(description="Actions the transition table allows in the current stage.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "8f14e45f-ceea-467f-a0e6-3c1d2b5a9e70",
                    "title": "Maintenance of LED luminous flux in street lighting",
                    "scope": "Test methods and limits for lumen maintenance of LED street-lighting modules.",
                    "proposer_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                    "status": "public_comment",
                    "proposed_at": "2026-03-02T01:20:00Z",
                    "history": [
                        {
                            "at": "2026-03-02T01:20:00Z",
                            "action": "proposed",
                            "by": "chen.li@huaxing.example",
                            "reason": None,
                            "from_stage": None,
                            "to_stage": "proposed",
                        },
                        {
                            "at": "2026-04-15T07:00:00Z",
                            "action": "approve_proposal",
                            "by": "council.wang@alliance.example",
                            "reason": "In scope of the 2026 work programme.",
                            "from_stage": "proposed",
                            "to_stage": "accepted",
                        },
                    ],
                    "working_group": [
                        {"org_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10", "role": "chair", "person": "Dr. Chen Li"},
                        {"org_id": "09a5c2b5-b9b1-491d-964a-a8e6cf562ca7", "role": "editor", "person": "Wang Fang"},
                    ],
                    "draft_versions": 2,
                    "comment_period": {
                        "number": 1,
                        "opens_at": "2026-10-01T00:00:00Z",
                        "closes_at": "2026-11-30T00:00:00Z",
                    },
                    "ballots": 0,
                    "standard_number": None,
                    "approved_on": None,
                    "published_on": None,
                    "implementation_on": None,
                    "registry_reference": None,
                    "filed_on": None,
                    "review_due": None,
                    "withdrawn_on": None,
                    "revision_of": None,
                    "revised_by": None,
                    "next_actions": ["repeat_public_comment", "open_ballot", "back", "abandon"],
                }
            ]
        }
    }

    @classmethod
    def of(cls, project: Project) -> ProjectPublic:
        period = project.current_comment_period
        return cls(
            id=project.id,
            title=project.title,
            scope=project.scope,
            proposer_id=project.proposer_id,
            status=project.status,
            proposed_at=project.proposed_at,
            history=[HistoryPublic(**h.__dict__) for h in project.history],
            working_group=[
                GroupMemberBody(org_id=m.org_id, role=m.role, person=m.person) for m in project.working_group
            ],
            draft_versions=len(project.drafts),
            comment_period=CommentPeriodPublic(**period.__dict__) if period else None,
            ballots=len(project.ballots),
            standard_number=project.standard_number,
            approved_on=project.approved_on,
            published_on=project.published_on,
            implementation_on=project.implementation_on,
            registry_reference=project.registry_reference,
            filed_on=project.filed_on,
            review_due=project.review_due,
            withdrawn_on=project.withdrawn_on,
            revision_of=project.revision_of,
            revised_by=project.revised_by,
            title_en=project.title_en,
            ics_codes=project.ics_codes,
            ccs_code=project.ccs_code,
            drafters=[DrafterPublic.of(p) for p in project.drafters],
            next_actions=[a for (s, a) in TRANSITIONS if s is project.status],
        )


class TransitionBody(RequestModel):
    action: Action
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=limits.REASON_MAX)] | None = None
    comment_closes_at: Moment | None = Field(
        None, description="open/repeat_public_comment: when the period closes (at least the minimum period)."
    )
    ballot_closes_at: Moment | None = Field(None, description="open/repeat_ballot: when voting ends.")
    ballot_quorum: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="open/repeat_ballot: votes (abstentions included) needed; default half the eligible.",
    )
    ballot_threshold: Decimal | None = Field(
        None, gt=Decimal("0.5"), le=1, description="open/repeat_ballot: share of votes cast that must approve (0.75)."
    )
    registry_reference: Reference | None = Field(None, description="file: the government registry's reference.")
    filed_on: Day | None = Field(None, description="file: the filing date (default today).")
    title_en: EnglishTitle | None = Field(None, description="publish/file: the English title (replaces the one given).")
    ics_codes: IcsCodes | None = Field(None, description="publish/file: the ICS codes (replace the ones given).")
    ccs_code: CcsCode | None = Field(None, description="publish/file: the CCS code, e.g. L51 (replaces it).")
    drafters: list[DrafterBody] | None = Field(
        None,
        max_length=limits.DRAFTERS_MAX,
        description="publish/file: the drafting persons, each of a working-group organisation (default at "
        "publication: the persons the working group names for the chair's and editors' organisations).",
    )

    model_config = examples(
        {"action": "approve_proposal", "reason": "In scope of the 2026 work programme."},
        {"action": "open_ballot", "ballot_quorum": 5, "ballot_threshold": "0.75"},
        {
            "action": "publish",
            "title_en": "Test method for luminous flux maintenance of LED packages",
            "ics_codes": ["31.260"],
            "ccs_code": "L51",
            "drafters": [{"name": "陈立", "org_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10"}],
        },
        {"action": "file", "registry_reference": "T/LEDA 001-2026 (filing no. 440300-2026-0017)"},
    )


class TransitionRule(BaseModel):
    from_stage: Stage
    action: Action
    to_stage: Stage
    actors: list[str]
    reason_required: bool
    guard: str | None
    description: str

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "from_stage": "public_comment",
                    "action": "open_ballot",
                    "to_stage": "ballot",
                    "actors": ["secretariat"],
                    "reason_required": False,
                    "guard": "comments_disposed",
                    "description": "also issues the pre-ballot call for IPR declarations",
                }
            ]
        }
    }


class DraftCreate(RequestModel):
    uri: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=limits.DRAFT_URI_MAX)]
    notes: Annotated[str, StringConstraints(max_length=limits.DRAFT_NOTES_MAX)] = ""

    model_config = examples(
        {"uri": "https://docs.alliance.example/wd/lumen-maintenance-v2.pdf", "notes": "Clause 6 reworked after WG 3."}
    )


class DraftPublic(BaseModel):
    version: int
    uri: str
    notes: str
    stage: str
    added_by: str
    added_at: datetime

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "version": 2,
                    "uri": "https://docs.alliance.example/wd/lumen-maintenance-v2.pdf",
                    "notes": "Clause 6 reworked after WG 3.",
                    "stage": "committee_draft",
                    "added_by": "wang.fang@weiguang.example",
                    "added_at": "2026-09-12T03:45:00Z",
                }
            ]
        }
    }

    @classmethod
    def of(cls, draft: DraftVersion) -> DraftPublic:
        return cls(**draft.__dict__)


class CommentCreate(RequestModel):
    clause: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limits.CLAUSE_MAX)]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limits.COMMENT_TEXT_MAX)]
    proposed_change: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limits.PROPOSED_CHANGE_MAX)]
        | None
    ) = None

    model_config = examples(
        {
            "clause": "6.2",
            "text": "The 6,000 h test duration is too short to extrapolate L70.",
            "proposed_change": "Require 10,000 h as in IES TM-21.",
        }
    )


class CommentPublic(BaseModel):
    id: str
    period: int
    draft_version: int
    organisation_id: str | None
    author: str | None = Field(
        description="Shown only to staff, the chair and editors, and the commenter's organisation."
    )
    clause: str
    text: str
    proposed_change: str | None
    submitted_at: datetime
    disposition: Disposition | None
    disposition_reason: str | None
    disposed_at: datetime | None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "3a7c9e1b-5d2f-4a8c-b6e0-7f1d3c5a9b2e",
                    "period": 1,
                    "draft_version": 2,
                    "organisation_id": "c3e1f0a4-6b2d-4f8e-a1c7-9d5b2e8f4a61",
                    "author": "zhou.min@guangyuan.example",
                    "clause": "6.2",
                    "text": "The 6000-hour test duration is too short to extrapolate L70 for street-lighting modules.",
                    "proposed_change": "Require 10000 hours, as in IES TM-21.",
                    "submitted_at": "2026-10-20T08:10:00Z",
                    "disposition": "accepted_in_part",
                    "disposition_reason": "10000 hours for modules above 100 W; 6000 hours kept below.",
                    "disposed_at": "2026-12-03T02:00:00Z",
                }
            ]
        }
    }

    @classmethod
    def of(cls, comment: Comment, show_author: bool) -> CommentPublic:
        return cls(
            id=comment.id,
            period=comment.period,
            draft_version=comment.draft_version,
            organisation_id=comment.organisation_id,
            author=comment.author if show_author else None,
            clause=comment.clause,
            text=comment.text,
            proposed_change=comment.proposed_change,
            submitted_at=comment.submitted_at,
            disposition=comment.disposition,
            disposition_reason=comment.disposition_reason,
            disposed_at=comment.disposed_at,
        )


class DispositionBody(RequestModel):
    disposition: Disposition
    reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=limits.DISPOSITION_REASON_MAX)] | None
    ) = None

    model_config = examples(
        {"disposition": "rejected", "reason": "TM-21 extrapolation is out of this standard's scope."},
        {"disposition": "accepted"},
    )


class DeclarationCreate(RequestModel):
    draft_version: int = Field(
        ge=1, le=limits.DRAFT_VERSIONS_MAX, description="The draft version the declaration is made on (must exist)."
    )
    office: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=limits.PATENT_OFFICE_MAX)]
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=limits.PATENT_NUMBER_MAX)]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=limits.PATENT_TITLE_MAX)]
    family_id: Annotated[str, StringConstraints(max_length=limits.PATENT_FAMILY_MAX)] | None = None
    commitment: Commitment
    holder_id: OrgId | None = Field(None, description="Staff only: declare for this participant organisation.")

    model_config = examples(
        {
            "draft_version": 2,
            "office": "CN",
            "number": "CN112345678B",
            "title": "LED package lumen maintenance measurement fixture",
            "family_id": "F-2019-0042",
            "commitment": "frand",
        }
    )


class DeclarationPublic(BaseModel):
    id: str
    holder_id: str
    draft_version: int
    office: str
    number: str
    title: str
    family_id: str | None
    commitment: Commitment
    declared_by: str
    declared_at: datetime
    status: DeclarationStatus
    edition_of: str | None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "6e2d4f8a-1c3b-4d5e-9f7a-0b8c2d4e6f13",
                    "holder_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                    "draft_version": 2,
                    "office": "CN",
                    "number": "CN102354789B",
                    "title": "GaN-based LED epitaxial structure with a superlattice stress-relief layer",
                    "family_id": "F-2019-0042",
                    "commitment": "frand",
                    "declared_by": "chen.li@huaxing.example",
                    "declared_at": "2026-10-08T05:30:00Z",
                    "status": "current",
                    "edition_of": None,
                }
            ]
        }
    }

    @classmethod
    def of(cls, d: Declaration) -> DeclarationPublic:
        return cls(**d.__dict__)


class CallAnswerBody(RequestModel):
    no_patents_known: bool = Field(
        description="true: the organisation knows of no patents it holds that may be essential; "
        "false: it has made its declarations (at least one must exist)."
    )
    org_id: OrgId | None = Field(None, description="Staff only: answer for this organisation.")

    model_config = examples({"no_patents_known": True})


class CallAnswerPublic(BaseModel):
    org_id: str
    answer: CallAnswerKind
    at: datetime


class IprCallPublic(BaseModel):
    id: str
    reason: str
    issued_at: datetime
    deadline: datetime
    draft_version: int | None
    participants: list[str]
    answers: list[CallAnswerPublic]
    unanswered: list[str]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "a9b8c7d6-e5f4-4a3b-8c2d-1e0f9a8b7c6d",
                    "reason": "Committee draft 2 circulated",
                    "issued_at": "2026-09-15T01:00:00Z",
                    "deadline": "2026-10-15T01:00:00Z",
                    "draft_version": 2,
                    "participants": ["5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10", "09a5c2b5-b9b1-491d-964a-a8e6cf562ca7"],
                    "answers": [
                        {
                            "org_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                            "answer": "declared",
                            "at": "2026-10-08T05:30:00Z",
                        }
                    ],
                    "unanswered": ["09a5c2b5-b9b1-491d-964a-a8e6cf562ca7"],
                }
            ]
        }
    }

    @classmethod
    def of(cls, call: IprCall) -> IprCallPublic:
        return cls(
            id=call.id,
            reason=call.reason,
            issued_at=call.issued_at,
            deadline=call.deadline,
            draft_version=call.draft_version,
            participants=call.participants,
            answers=[CallAnswerPublic(org_id=a.org_id, answer=a.answer, at=a.at) for a in call.answers],
            unanswered=call.unanswered(),
        )


class VoteCreate(RequestModel):
    position: Position
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=limits.VOTE_REASON_MAX)] | None = Field(
        None, description="Required when disapproving."
    )

    model_config = examples(
        {"position": "approve"},
        {"position": "disapprove", "reason": "Clause 6.2 conflicts with GB/T 24824."},
    )


class VotePublic(BaseModel):
    organisation_id: str
    position: Position
    reason: str | None
    at: datetime
    voided_at: datetime | None
    void_reason: str | None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "organisation_id": "c3e1f0a4-6b2d-4f8e-a1c7-9d5b2e8f4a61",
                    "position": "approve",
                    "reason": None,
                    "at": "2027-01-12T06:40:00Z",
                    "voided_at": None,
                    "void_reason": None,
                }
            ]
        }
    }

    @classmethod
    def of(cls, vote: Vote) -> VotePublic:
        return cls(
            organisation_id=vote.organisation_id,
            position=vote.position,
            reason=vote.reason,
            at=vote.at,
            voided_at=vote.voided_at,
            void_reason=vote.void_reason,
        )


class TallyPublic(BaseModel):
    approve: int
    disapprove: int
    abstain: int
    cast: int = Field(description="Approvals and disapprovals (abstentions are not cast).")
    returned: int = Field(description="Counted votes, abstentions included: what the quorum counts.")
    voided: int
    quorum_met: bool
    threshold_met: bool
    can_pass: bool = Field(description="Whether the votes so far are enough for the ballot to close as approved.")
    votes_needed_for_quorum: int
    approvals_needed: int | None = Field(description="More approvals needed if nobody else disapproves (null: never).")


class BallotPublic(BaseModel):
    project_id: str
    number: int
    opened_at: datetime
    closes_at: datetime
    quorum: int
    threshold: Decimal
    eligible_voters: int
    drafting_organisations: list[str]
    result: str | None
    closed_at: datetime | None
    tally: TallyPublic
    own_vote: VotePublic | None = Field(description="Your organisation's vote, if any.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "project_id": "8f14e45f-ceea-467f-a0e6-3c1d2b5a9e70",
                    "number": 1,
                    "opened_at": "2027-01-05T01:00:00Z",
                    "closes_at": "2027-02-04T01:00:00Z",
                    "quorum": 5,
                    "threshold": "0.75",
                    "eligible_voters": 9,
                    "drafting_organisations": [
                        "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                        "09a5c2b5-b9b1-491d-964a-a8e6cf562ca7",
                    ],
                    "result": None,
                    "closed_at": None,
                    "tally": {
                        "approve": 4,
                        "disapprove": 1,
                        "abstain": 1,
                        "cast": 5,
                        "returned": 6,
                        "voided": 0,
                        "quorum_met": True,
                        "threshold_met": True,
                        "can_pass": True,
                        "votes_needed_for_quorum": 0,
                        "approvals_needed": 0,
                    },
                    "own_vote": {
                        "organisation_id": "c3e1f0a4-6b2d-4f8e-a1c7-9d5b2e8f4a61",
                        "position": "approve",
                        "reason": None,
                        "at": "2027-01-12T06:40:00Z",
                        "voided_at": None,
                        "void_reason": None,
                    },
                }
            ]
        }
    }

    @classmethod
    def of(cls, project_id: str, ballot: Ballot, own: Vote | None) -> BallotPublic:
        t = ballot.tally()
        return cls(
            project_id=project_id,
            number=ballot.number,
            opened_at=ballot.opened_at,
            closes_at=ballot.closes_at,
            quorum=ballot.quorum,
            threshold=ballot.threshold,
            eligible_voters=len(ballot.eligible),
            drafting_organisations=ballot.drafters,
            result=ballot.result,
            closed_at=ballot.closed_at,
            tally=TallyPublic(
                approve=t.approve,
                disapprove=t.disapprove,
                abstain=t.abstain,
                cast=t.cast,
                returned=t.returned,
                voided=t.voided,
                quorum_met=t.quorum_met,
                threshold_met=t.threshold_met,
                can_pass=t.can_pass,
                votes_needed_for_quorum=t.votes_needed_for_quorum,
                approvals_needed=t.approvals_needed,
            ),
            own_vote=VotePublic.of(own) if own else None,
        )


class DraftingOrganisationPublic(BaseModel):
    org_id: str
    name: str | None
    role: GroupRole


class PatentInformation(BaseModel):
    holder_id: str
    holder_name: str | None = Field(description="As the holder's admission named it (null: not known).")
    office: str
    number: str
    title: str
    commitment: Commitment


class FilingPublic(BaseModel):
    """What a government group-standards registry asks for when a standard is filed."""

    project_id: str
    number: str
    title: str
    title_en: str | None
    ics_codes: list[str] = Field(description="ICS codes, e.g. 31.260.")
    ccs_code: str | None = Field(description="CCS code, e.g. L51.")
    scope: str
    status: Stage
    drafting_organisations: list[DraftingOrganisationPublic]
    drafting_persons: list[DrafterPublic]
    patents_declared: int
    patent_information: list[PatentInformation]
    approved_on: date | None
    published_on: date | None
    implementation_on: date | None
    registry_reference: str | None = Field(description="Set once filed.")
    filed_on: date | None
    withdrawn_on: date | None
    missing: list[str] = Field(
        description="What the national group-standard platform asks that this record lacks "
        "(title_en, ics_codes, ccs_code, drafters); empty when complete."
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "project_id": "8f14e45f-ceea-467f-a0e6-3c1d2b5a9e70",
                    "number": "T/LEDA 001—2026",
                    "title": "道路照明用 LED 模块光通维持率",
                    "title_en": "Maintenance of LED luminous flux in street lighting",
                    "ics_codes": ["29.140.99"],
                    "ccs_code": "K74",
                    "scope": "Test methods and limits for lumen maintenance of LED street-lighting modules.",
                    "status": "filed",
                    "drafting_organisations": [
                        {
                            "org_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                            "name": "深圳华星光电有限公司",
                            "role": "chair",
                        },
                        {
                            "org_id": "09a5c2b5-b9b1-491d-964a-a8e6cf562ca7",
                            "name": "上海微光精密设备有限公司",
                            "role": "editor",
                        },
                    ],
                    "drafting_persons": [
                        {
                            "name": "陈立",
                            "org_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                            "organisation": "深圳华星光电有限公司",
                        }
                    ],
                    "patents_declared": 1,
                    "patent_information": [
                        {
                            "holder_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                            "holder_name": "深圳华星光电有限公司",
                            "office": "CN",
                            "number": "CN102354789B",
                            "title": "GaN-based LED epitaxial structure with a superlattice stress-relief layer",
                            "commitment": "frand",
                        }
                    ],
                    "approved_on": "2026-12-18",
                    "published_on": "2026-12-28",
                    "implementation_on": "2027-03-01",
                    "registry_reference": "T/LEDA 001-2026 (filing no. 440300-2026-0017)",
                    "filed_on": "2027-01-06",
                    "withdrawn_on": None,
                    "missing": [],
                }
            ]
        }
    }

    @classmethod
    def of(cls, p: Project, names: Mapping[str, str] | None = None) -> FilingPublic:
        """The record; ``names`` fills an organisation's name a record kept none of (older records)."""
        known = names or {}
        declared = p.current_declarations
        return cls(
            project_id=p.id,
            number=p.standard_number or "",
            title=p.title,
            title_en=p.title_en,
            ics_codes=p.ics_codes,
            ccs_code=p.ccs_code,
            scope=p.scope,
            status=p.status,
            drafting_organisations=[
                DraftingOrganisationPublic(org_id=d.org_id, name=d.name or known.get(d.org_id), role=d.role)
                for d in p.drafting_organisations
            ],
            drafting_persons=[DrafterPublic.of(x, known) for x in p.drafters],
            patents_declared=len(declared),
            patent_information=[
                PatentInformation(
                    holder_id=d.holder_id,
                    holder_name=known.get(d.holder_id),
                    office=d.office,
                    number=d.number,
                    title=d.title,
                    commitment=d.commitment,
                )
                for d in declared
            ],
            approved_on=p.approved_on,
            published_on=p.published_on,
            implementation_on=p.implementation_on,
            registry_reference=p.registry_reference,
            filed_on=p.filed_on,
            withdrawn_on=p.withdrawn_on,
            missing=p.missing_particulars,
        )
