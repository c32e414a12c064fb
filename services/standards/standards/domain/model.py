"""A standards project, one aggregate from proposal to withdrawal.

Everything that must hold atomically lives in the project's one document: its working
group, draft versions, public comments, IPR calls and declarations, and its ballots (so
"one vote per member organisation" is kept by the versioned write). Stage changes go
through ``lifecycle.TRANSITIONS`` only. Plain Python, no I/O; every state change appends
the domain events that record it; ``now`` is always a parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from alliance_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from standards.domain import limits
from standards.domain.ballots import Ballot, Position, Vote
from standards.domain.events import (
    BallotClosed,
    BallotOpened,
    BallotVoteVoided,
    DomainEvent,
    DraftedBy,
    IprCallAnswered,
    IprCallIssued,
    PatentDeclared,
    ProjectProposed,
    ProjectStageChanged,
    StandardPublished,
)
from standards.domain.filing import (
    DraftingPerson,
    check_ccs_code,
    check_drafters,
    check_english_title,
    check_ics_codes,
)
from standards.domain.ipr import CallAnswer, CallAnswerKind, Commitment, Declaration, DeclarationStatus, IprCall
from standards.domain.lifecycle import DUE_FOR_REVIEW_FROM, Action, Actor, Stage, Transition, transition_for

ProjectStatus = Stage  # the name the first version used


class GroupRole(StrEnum):
    CHAIR = "chair"
    EDITOR = "editor"
    PARTICIPANT = "participant"


class Disposition(StrEnum):
    ACCEPTED = "accepted"
    ACCEPTED_IN_PART = "accepted_in_part"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Policy:
    """Durations and defaults; settings provide them (short ones in the local stack)."""

    comment_period_min: timedelta = timedelta(days=30)
    ballot_period: timedelta = timedelta(days=30)
    ipr_call_period: timedelta = timedelta(days=30)
    review_interval_years: int = 5
    implementation_delay: timedelta = timedelta(days=90)
    approval_threshold: Decimal = Decimal("0.75")
    quorum_fraction: Decimal = Decimal("0.5")


@dataclass(frozen=True)
class TransitionOptions:
    """What some actions take: comment period end, ballot settings, registry reference."""

    comment_closes_at: datetime | None = None
    ballot_closes_at: datetime | None = None
    ballot_quorum: int | None = None
    ballot_threshold: Decimal | None = None
    registry_reference: str | None = None
    filed_on: date | None = None
    # publish, file: the filing particulars, given or corrected (None: keep what the project has)
    title_en: str | None = None
    ics_codes: tuple[str, ...] | None = None
    ccs_code: str | None = None
    drafters: tuple[DraftingPerson, ...] | None = None


@dataclass(frozen=True)
class Particulars:
    """The national platform's particulars a project holds (see ``domain.filing``)."""

    title_en: str | None
    ics_codes: tuple[str, ...]
    ccs_code: str | None
    drafters: tuple[DraftingPerson, ...]


@dataclass(frozen=True)
class TransitionContext:
    now: datetime
    by: str
    actors: frozenset[Actor]
    reason: str | None = None
    options: TransitionOptions = field(default_factory=TransitionOptions)
    policy: Policy = field(default_factory=Policy)
    eligible_voters: tuple[str, ...] = ()  # open_ballot: members in good standing now
    number: str | None = None  # publish: the allocated standard number
    organisation_names: tuple[tuple[str, str], ...] = ()  # publish: drafting organisations' names
    revision_id: str | None = None  # revise: the revision project's id


@dataclass
class HistoryEntry:
    at: datetime
    action: str
    by: str
    reason: str | None = None
    from_stage: str | None = None
    to_stage: str | None = None


@dataclass
class GroupMember:
    org_id: str
    role: GroupRole
    person: str | None = None


@dataclass
class DraftVersion:
    version: int
    uri: str
    notes: str
    stage: str  # the project's stage when the version was added
    added_by: str
    added_at: datetime


@dataclass
class CommentPeriod:
    number: int
    opens_at: datetime
    closes_at: datetime


@dataclass
class Comment:
    id: str
    period: int
    draft_version: int
    organisation_id: str | None
    author: str
    clause: str
    text: str
    proposed_change: str | None
    submitted_at: datetime
    disposition: Disposition | None = None
    disposition_reason: str | None = None
    disposed_by: str | None = None
    disposed_at: datetime | None = None


@dataclass
class DraftingOrganisation:
    org_id: str
    name: str | None
    role: GroupRole


# Ending a project never needs room: these are allowed past ``limits.STAGE_CHANGES_MAX``.
_ALWAYS_ALLOWED = frozenset({Action.ABANDON, Action.WITHDRAW, Action.REJECT_PROPOSAL})


def _room(count: int, most: int, what: str, field: str) -> None:
    """Raise 409 naming ``field`` when a project's list already holds ``most`` entries."""
    if count >= most:
        raise Conflict(f"this project holds {count} {what}, the most one project may ({most})", field=field)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass
class Project:
    id: str
    title: str
    scope: str
    proposer_id: str
    proposed_by: str
    status: Stage
    proposed_at: datetime
    history: list[HistoryEntry] = field(default_factory=list)
    working_group: list[GroupMember] = field(default_factory=list)
    drafts: list[DraftVersion] = field(default_factory=list)
    comment_periods: list[CommentPeriod] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    calls: list[IprCall] = field(default_factory=list)
    declarations: list[Declaration] = field(default_factory=list)
    ballots: list[Ballot] = field(default_factory=list)
    standard_number: str | None = None
    is_published: bool = False
    approved_on: date | None = None
    published_on: date | None = None
    implementation_on: date | None = None
    drafting_organisations: list[DraftingOrganisation] = field(default_factory=list)
    registry_reference: str | None = None
    filed_on: date | None = None
    review_due: date | None = None
    withdrawn_on: date | None = None
    revision_of: str | None = None
    revised_by: str | None = None
    title_en: str | None = None
    ics_codes: list[str] = field(default_factory=list)
    ccs_code: str | None = None
    drafters: list[DraftingPerson] = field(default_factory=list)
    version: int = 0
    events: list[DomainEvent] = field(default_factory=list, repr=False)

    # --- creation -----------------------------------------------------------------------------

    @classmethod
    def propose(
        cls,
        *,
        id: str,
        title: str,
        scope: str,
        proposer_id: str,
        proposer_in_good_standing: bool,
        by: str,
        now: datetime,
        title_en: str | None = None,
        ics_codes: tuple[str, ...] = (),
        ccs_code: str | None = None,
    ) -> Project:
        if not proposer_in_good_standing:
            raise Forbidden(f"organisation {proposer_id} is not a member in good standing and may not propose projects")
        project = cls(
            id=id,
            title=title,
            scope=scope,
            proposer_id=proposer_id,
            proposed_by=by,
            status=Stage.PROPOSED,
            proposed_at=now,
            title_en=check_english_title(title_en) if title_en is not None else None,
            ics_codes=list(check_ics_codes(ics_codes)),
            ccs_code=check_ccs_code(ccs_code) if ccs_code is not None else None,
        )
        project.history.append(HistoryEntry(now, "proposed", by, to_stage=Stage.PROPOSED.value))
        project.events.append(
            ProjectProposed(
                project_id=id,
                title=title,
                scope=scope,
                proposer_id=proposer_id,
                proposed_at=now,
                title_en=project.title_en,
                ics_codes=tuple(project.ics_codes),
                ccs_code=project.ccs_code,
                stage=Stage.PROPOSED.value,
            )
        )
        return project

    @classmethod
    def revision(cls, original: Project, *, id: str, by: str, now: datetime, reason: str | None) -> Project:
        """A revision project: same working group, new drafts, old declarations flagged for re-declaration."""
        project = cls(
            id=id,
            title=original.title,
            scope=original.scope,
            proposer_id=original.proposer_id,
            proposed_by=by,
            status=Stage.WORKING_GROUP,
            proposed_at=now,
            working_group=[GroupMember(m.org_id, m.role, m.person) for m in original.working_group],
            declarations=[
                Declaration(
                    id=f"{d.id}-r",
                    holder_id=d.holder_id,
                    draft_version=d.draft_version,
                    office=d.office,
                    number=d.number,
                    title=d.title,
                    family_id=d.family_id,
                    commitment=d.commitment,
                    declared_by=d.declared_by,
                    declared_at=d.declared_at,
                    status=DeclarationStatus.NEEDS_REDECLARATION,
                    edition_of=original.id,
                )
                for d in original.current_declarations
            ],
            revision_of=original.id,
            title_en=original.title_en,
            ics_codes=list(original.ics_codes),
            ccs_code=original.ccs_code,
        )
        project.history.append(
            HistoryEntry(
                now,
                "revision_opened",
                by,
                reason or f"revision of {original.standard_number}",
                to_stage=Stage.WORKING_GROUP.value,
            )
        )
        project.events.append(
            ProjectProposed(
                project_id=id,
                title=project.title,
                scope=project.scope,
                proposer_id=project.proposer_id,
                proposed_at=now,
                title_en=project.title_en,
                ics_codes=tuple(project.ics_codes),
                ccs_code=project.ccs_code,
                stage=project.status.value,
            )
        )
        return project

    # --- derived --------------------------------------------------------------------------------

    @property
    def chair_org(self) -> str | None:
        return next((m.org_id for m in self.working_group if m.role is GroupRole.CHAIR), None)

    @property
    def editor_orgs(self) -> list[str]:
        return [m.org_id for m in self.working_group if m.role is GroupRole.EDITOR]

    @property
    def drafter_orgs(self) -> list[str]:
        """The drafting organisations: the chair's and the editors'."""
        return list(dict.fromkeys([*(o for o in [self.chair_org] if o), *self.editor_orgs]))

    @property
    def participant_orgs(self) -> list[str]:
        """Every organisation in the working group (chair, editors, participants)."""
        return list(dict.fromkeys(m.org_id for m in self.working_group))

    @property
    def latest_draft(self) -> DraftVersion | None:
        return self.drafts[-1] if self.drafts else None

    @property
    def current_comment_period(self) -> CommentPeriod | None:
        return self.comment_periods[-1] if self.comment_periods else None

    @property
    def current_ballot(self) -> Ballot | None:
        return self.ballots[-1] if self.ballots else None

    @property
    def current_declarations(self) -> list[Declaration]:
        return [d for d in self.declarations if d.status is DeclarationStatus.CURRENT]

    def actors_for(self, org_id: str | None, staff_roles: frozenset[Actor], member: bool) -> frozenset[Actor]:
        actors = set(staff_roles)
        if member and org_id:
            if org_id == self.chair_org:
                actors.add(Actor.CHAIR)
            if org_id in self.editor_orgs:
                actors.add(Actor.EDITOR)
        return frozenset(actors)

    def due_for_review(self, now: datetime) -> bool:
        return self.status in DUE_FOR_REVIEW_FROM and self.review_due is not None and self.review_due <= now.date()

    # --- the life cycle -------------------------------------------------------------------------

    def check(self, action: Action, ctx: TransitionContext) -> Transition:
        """Would ``action`` be allowed now? Raises 409 (stage, guard), 403 (actor), 422 (reason)."""
        transition = transition_for(self.status, action, ctx.actors)
        self._check_room(action)
        if transition.reason_required and not (ctx.reason and ctx.reason.strip()):
            raise InvalidInput(f"action '{action.value}' needs a reason", field="reason")
        if transition.guard is not None:
            transition.guard(self, ctx)
        if action in (Action.PUBLISH, Action.FILE):
            self.particulars(ctx.options)  # refuse bad particulars before anything (a number) is taken
        return transition

    def particulars(self, options: TransitionOptions) -> Particulars:
        """The particulars after ``options`` (validated; a field not given keeps the project's).

        Drafting persons default, at publication, to the persons the working group names for the
        chair's and editors' organisations (the drafting organisations).
        """
        drafters = (
            check_drafters(options.drafters, self.participant_orgs)
            if options.drafters is not None
            else tuple(self.drafters)
            or tuple(
                DraftingPerson(m.person.strip(), m.org_id)
                for m in self.working_group
                if m.org_id in self.drafter_orgs and m.person and 0 < len(m.person.strip()) <= limits.DRAFTER_NAME_MAX
            )[: limits.DRAFTERS_MAX]
        )
        return Particulars(
            title_en=check_english_title(options.title_en) if options.title_en is not None else self.title_en,
            ics_codes=check_ics_codes(options.ics_codes) if options.ics_codes is not None else tuple(self.ics_codes),
            ccs_code=check_ccs_code(options.ccs_code) if options.ccs_code is not None else self.ccs_code,
            drafters=drafters,
        )

    @property
    def missing_particulars(self) -> list[str]:
        """What the national platform asks that this project does not hold yet."""
        held = {
            "title_en": self.title_en,
            "ics_codes": self.ics_codes,
            "ccs_code": self.ccs_code,
            "drafters": self.drafters,
        }
        return [name for name, value in held.items() if not value]

    def _check_room(self, action: Action) -> None:
        """Refuse (409) an action that would grow a bounded list past its limit (see ``limits``)."""
        if action in _ALWAYS_ALLOWED:
            return
        changes = sum(1 for h in self.history if h.from_stage is not None)
        if changes >= limits.STAGE_CHANGES_MAX:
            raise Conflict(
                f"this project has gone through {changes} stage changes, the most one project records "
                f"({limits.STAGE_CHANGES_MAX}); abandon it and propose a new one",
                field="action",
            )
        if action in (Action.OPEN_PUBLIC_COMMENT, Action.REPEAT_PUBLIC_COMMENT):
            _room(len(self.comment_periods), limits.COMMENT_PERIODS_MAX, "public comment periods", "comment_periods")
        if action in (Action.OPEN_BALLOT, Action.REPEAT_BALLOT):
            _room(len(self.ballots), limits.BALLOTS_MAX, "ballots", "ballots")
        if action in (Action.SUBMIT_COMMITTEE_DRAFT, Action.OPEN_BALLOT):
            _room(len(self.calls), limits.IPR_CALLS_MAX, "IPR calls", "ipr_calls")

    def transition(self, action: Action, ctx: TransitionContext) -> Transition:
        transition = self.check(action, ctx)
        before = self.status
        self._effects(action, ctx)
        self.status = transition.target
        self.history.append(HistoryEntry(ctx.now, action.value, ctx.by, ctx.reason, before.value, self.status.value))
        self.events.append(
            ProjectStageChanged(
                project_id=self.id,
                from_stage=before.value,
                to_stage=self.status.value,
                action=action.value,
                by=ctx.by,
                reason=ctx.reason,
                at=ctx.now,
            )
        )
        if action is Action.PUBLISH:
            self.events.append(self.published_event())
        return transition

    def _effects(self, action: Action, ctx: TransitionContext) -> None:
        now, policy, options = ctx.now, ctx.policy, ctx.options
        if action is Action.SUBMIT_COMMITTEE_DRAFT:
            self._issue_call("committee_draft", now, policy)
        elif action in (Action.OPEN_PUBLIC_COMMENT, Action.REPEAT_PUBLIC_COMMENT):
            closes = options.comment_closes_at or now + policy.comment_period_min
            if closes < now + policy.comment_period_min:
                raise InvalidInput(
                    f"the public comment period lasts at least {policy.comment_period_min}", field="comment_closes_at"
                )
            self.comment_periods.append(CommentPeriod(len(self.comment_periods) + 1, now, closes))
        elif action in (Action.OPEN_BALLOT, Action.REPEAT_BALLOT):
            previous = self.current_ballot
            ballot = self._new_ballot(ctx)
            if previous is not None and previous.result is None:
                previous.result, previous.closed_at = "repeated", now
                self._ballot_closed(previous)
            self.ballots.append(ballot)
            self.events.append(
                BallotOpened(
                    project_id=self.id,
                    ballot=ballot.number,
                    title=self.title,
                    opened_at=ballot.opened_at,
                    closes_at=ballot.closes_at,
                    eligible=tuple(ballot.eligible),
                )
            )
            if action is Action.OPEN_BALLOT:
                self._issue_call("pre_ballot", now, policy)
        elif action is Action.CLOSE_BALLOT_APPROVED:
            ballot = self._ballot()
            ballot.result, ballot.closed_at = "approved", now
            self.approved_on = now.date()
            self._ballot_closed(ballot)
        elif action is Action.CLOSE_BALLOT_FAILED:
            ballot = self._ballot()
            ballot.result, ballot.closed_at = "failed", now
            self._ballot_closed(ballot)
        elif action is Action.PUBLISH:
            if not ctx.number:
                raise Conflict("publication needs an allocated number", field="number")
            names = dict(ctx.organisation_names)
            roles = {m.org_id: m.role for m in self.working_group}
            self.standard_number = ctx.number
            self.is_published = True
            self.published_on = now.date()
            self.implementation_on = self.published_on + policy.implementation_delay
            self.review_due = add_years(self.published_on, policy.review_interval_years)
            self.drafting_organisations = [
                DraftingOrganisation(o, names.get(o), roles.get(o, GroupRole.EDITOR)) for o in self.drafter_orgs
            ]
            self._take_particulars(options)
        elif action is Action.FILE:
            self.registry_reference = options.registry_reference
            self.filed_on = options.filed_on or now.date()
            self._take_particulars(options)
        elif action is Action.CONFIRM:
            self.review_due = add_years(now.date(), policy.review_interval_years)
        elif action is Action.REVISE:
            self.revised_by = ctx.revision_id
        elif action is Action.WITHDRAW:
            self.withdrawn_on = now.date()

    def _take_particulars(self, options: TransitionOptions) -> None:
        taken = self.particulars(options)
        self.title_en, self.ccs_code = taken.title_en, taken.ccs_code
        self.ics_codes, self.drafters = list(taken.ics_codes), list(taken.drafters)

    def _ballot_closed(self, ballot: Ballot) -> None:
        assert ballot.result is not None and ballot.closed_at is not None
        self.events.append(
            BallotClosed(
                project_id=self.id,
                ballot=ballot.number,
                title=self.title,
                result=ballot.result,
                closed_at=ballot.closed_at,
                eligible=tuple(ballot.eligible),
            )
        )

    def _ballot(self) -> Ballot:
        ballot = self.current_ballot
        if ballot is None:
            raise Conflict("there is no ballot", field="ballot")
        return ballot

    def _new_ballot(self, ctx: TransitionContext) -> Ballot:
        now, options, policy = ctx.now, ctx.options, ctx.policy
        drafters = self.drafter_orgs
        eligible = [o for o in dict.fromkeys(ctx.eligible_voters) if o not in drafters]
        if not eligible:
            raise Conflict("no member organisation in good standing is eligible to vote", field="ballot")
        threshold = options.ballot_threshold if options.ballot_threshold is not None else policy.approval_threshold
        if not Decimal("0.5") < threshold <= 1:
            raise InvalidInput("the approval threshold is a fraction above 0.5 and at most 1", field="ballot_threshold")
        quorum = options.ballot_quorum
        if quorum is None:
            quorum = max(1, math.ceil(policy.quorum_fraction * len(eligible)))
        if not 1 <= quorum <= len(eligible):
            raise InvalidInput(
                f"the quorum is between 1 and the {len(eligible)} eligible voters", field="ballot_quorum"
            )
        closes = options.ballot_closes_at or now + policy.ballot_period
        if closes <= now:
            raise InvalidInput("the ballot must close in the future", field="ballot_closes_at")
        return Ballot(len(self.ballots) + 1, now, closes, quorum, threshold, eligible, drafters)

    def _issue_call(self, reason: str, now: datetime, policy: Policy) -> None:
        latest = self.latest_draft
        call = IprCall(
            id=f"call-{len(self.calls) + 1}",
            reason=reason,
            issued_at=now,
            deadline=now + policy.ipr_call_period,
            draft_version=latest.version if latest else None,
            participants=self.participant_orgs,
        )
        self.calls.append(call)
        self.events.append(
            IprCallIssued(
                project_id=self.id,
                call_id=call.id,
                title=self.title,
                reason=call.reason,
                issued_at=call.issued_at,
                deadline=call.deadline,
                draft_version=call.draft_version,
                participants=tuple(call.participants),
            )
        )

    def published_event(self) -> StandardPublished:
        assert self.standard_number is not None and self.published_on is not None
        return StandardPublished(
            project_id=self.id,
            number=self.standard_number,
            title=self.title,
            published_on=self.published_on,
            declarations=tuple(
                PatentDeclared(
                    holder_id=d.holder_id,
                    office=d.office,
                    number=d.number,
                    commitment=d.commitment.value,
                    title=d.title,
                    family_id=d.family_id,
                    draft_version=d.draft_version,
                    declaration_id=d.id,
                )
                for d in self.current_declarations
            ),
            scope=self.scope,
            drafting_organisations=tuple(d.org_id for d in self.drafting_organisations),
            implementation_on=self.implementation_on,
            revision_of=self.revision_of,
            title_en=self.title_en,
            ics_codes=tuple(self.ics_codes),
            ccs_code=self.ccs_code,
            drafting_persons=tuple(DraftedBy(p.name, p.org_id) for p in self.drafters),
        )

    # --- working group, drafts ------------------------------------------------------------------

    def set_working_group(self, members: list[GroupMember], standing: dict[str, bool], by: str, now: datetime) -> None:
        if self.status not in (Stage.ACCEPTED, Stage.WORKING_GROUP, Stage.WORKING_DRAFT, Stage.COMMITTEE_DRAFT):
            raise Conflict(f"the working group cannot change in stage '{self.status.value}'", field="members")
        if len(members) > limits.WORKING_GROUP_MAX:
            raise InvalidInput(
                f"a working group has at most {limits.WORKING_GROUP_MAX} organisations, not {len(members)}",
                field="members",
            )
        changes = sum(1 for h in self.history if h.action == "working_group_set")
        _room(changes, limits.WORKING_GROUP_CHANGES_MAX, "working group changes", "members")
        seen: set[str] = set()
        for i, member in enumerate(members):
            if member.org_id in seen:
                raise InvalidInput(f"organisation {member.org_id} is listed twice", field=f"members.{i}.org_id")
            seen.add(member.org_id)
            if not standing.get(member.org_id, False):
                raise InvalidInput(
                    f"organisation {member.org_id} is not a member in good standing", field=f"members.{i}.org_id"
                )
        chairs = [m for m in members if m.role is GroupRole.CHAIR]
        if len(chairs) != 1:
            raise InvalidInput("a working group has exactly one chair", field="members")
        self.working_group = list(members)
        self.history.append(
            HistoryEntry(now, "working_group_set", by, ", ".join(f"{m.org_id}:{m.role.value}" for m in members))
        )

    def add_draft(self, uri: str, notes: str, by: str, now: datetime) -> DraftVersion:
        if self.status not in (Stage.WORKING_GROUP, Stage.WORKING_DRAFT):
            raise Conflict(
                f"draft versions are added in working draft, not in stage '{self.status.value}'", field="stage"
            )
        _room(len(self.drafts), limits.DRAFT_VERSIONS_MAX, "draft versions", "drafts")
        draft = DraftVersion(len(self.drafts) + 1, uri, notes, self.status.value, by, now)
        self.drafts.append(draft)
        self.history.append(HistoryEntry(now, "draft_added", by, f"version {draft.version}"))
        return draft

    # --- public comment -------------------------------------------------------------------------

    def comment(
        self,
        *,
        id: str,
        organisation_id: str | None,
        author: str,
        clause: str,
        text: str,
        proposed_change: str | None,
        now: datetime,
    ) -> Comment:
        period = self.current_comment_period
        if self.status is not Stage.PUBLIC_COMMENT or period is None or not period.opens_at <= now < period.closes_at:
            when = f" (it closed {period.closes_at.isoformat()})" if period and now >= period.closes_at else ""
            raise Conflict(
                f"the public comment period is closed{when}; stage '{self.status.value}'", field="comment_period"
            )
        _room(len(self.comments), limits.COMMENTS_MAX, "public comments", "comments")
        commenter = organisation_id or author
        mine = sum(
            1 for c in self.comments if c.period == period.number and (c.organisation_id or c.author) == commenter
        )
        if mine >= limits.COMMENTS_PER_COMMENTER_PER_PERIOD:
            raise Conflict(
                f"{'your organisation' if organisation_id else 'you'} made {mine} comments in this period, "
                f"the most one commenter may ({limits.COMMENTS_PER_COMMENTER_PER_PERIOD})",
                field="comments",
            )
        latest = self.latest_draft
        comment = Comment(
            id=id,
            period=period.number,
            draft_version=latest.version if latest else 0,
            organisation_id=organisation_id,
            author=author,
            clause=clause,
            text=text,
            proposed_change=proposed_change,
            submitted_at=now,
        )
        self.comments.append(comment)
        return comment

    def dispose(self, comment_id: str, disposition: Disposition, reason: str | None, by: str, now: datetime) -> Comment:
        if self.status is not Stage.PUBLIC_COMMENT:
            raise Conflict(
                f"comments are disposed of during public comment, not in stage '{self.status.value}'",
                field="disposition",
            )
        comment = next((c for c in self.comments if c.id == comment_id), None)
        if comment is None:
            raise NotFound(f"comment {comment_id} not found", field="comment_id")
        if comment.disposition is not None:
            raise Conflict(f"comment {comment_id} already has a disposition", field="disposition")
        if disposition is not Disposition.ACCEPTED and not (reason and reason.strip()):
            raise InvalidInput(f"a disposition '{disposition.value}' needs a reason", field="reason")
        comment.disposition, comment.disposition_reason = disposition, reason
        comment.disposed_by, comment.disposed_at = by, now
        return comment

    # --- IPR ------------------------------------------------------------------------------------

    def declare(
        self,
        *,
        id: str,
        holder_id: str,
        draft_version: int,
        office: str,
        number: str,
        title: str,
        family_id: str | None,
        commitment: Commitment,
        by: str,
        now: datetime,
    ) -> Declaration:
        if self.status not in (
            Stage.WORKING_GROUP,
            Stage.WORKING_DRAFT,
            Stage.COMMITTEE_DRAFT,
            Stage.PUBLIC_COMMENT,
            Stage.BALLOT,
            Stage.APPROVED,
        ):
            raise Conflict(f"declarations are not taken in stage '{self.status.value}'", field="stage")
        if holder_id not in self.participant_orgs:
            raise Forbidden(f"organisation {holder_id} does not participate in this working group", field="holder_id")
        if not any(d.version == draft_version for d in self.drafts):
            known = ", ".join(str(d.version) for d in self.drafts) or "none"
            raise InvalidInput(
                f"draft version {draft_version} does not exist (versions: {known})", field="draft_version"
            )
        _room(len(self.declarations), limits.DECLARATIONS_MAX, "IPR declarations", "declarations")
        held = sum(1 for d in self.declarations if d.holder_id == holder_id)
        if held >= limits.DECLARATIONS_PER_HOLDER:
            raise Conflict(
                f"organisation {holder_id} has made {held} declarations on this project, the most one holder may "
                f"({limits.DECLARATIONS_PER_HOLDER})",
                field="declarations",
            )
        for existing in self.declarations:
            same = existing.holder_id == holder_id and (existing.office, existing.number) == (office, number)
            if same and existing.status is DeclarationStatus.CURRENT:
                raise Conflict(f"{office} {number} is already declared by {holder_id}", field="number")
            if same and existing.status is DeclarationStatus.NEEDS_REDECLARATION:
                existing.status = DeclarationStatus.REDECLARED
        declaration = Declaration(
            id=id,
            holder_id=holder_id,
            draft_version=draft_version,
            office=office,
            number=number,
            title=title,
            family_id=family_id,
            commitment=commitment,
            declared_by=by,
            declared_at=now,
        )
        self.declarations.append(declaration)
        for call in self.calls:
            if holder_id in call.participants and not call.answered_by(holder_id):
                call.answers.append(CallAnswer(holder_id, CallAnswerKind.DECLARED, by, now))
                self._call_answered(call, holder_id, CallAnswerKind.DECLARED, now)
        return declaration

    def answer_call(self, call_id: str, org_id: str, no_patents_known: bool, by: str, now: datetime) -> IprCall:
        call = next((c for c in self.calls if c.id == call_id), None)
        if call is None:
            raise NotFound(f"IPR call {call_id} not found", field="call_id")
        if org_id not in call.participants:
            raise Forbidden(f"organisation {org_id} was not called in {call_id}", field="org_id")
        if call.answered_by(org_id):
            raise Conflict(f"organisation {org_id} has already answered {call_id}", field="call_id")
        if not no_patents_known and not any(d.holder_id == org_id for d in self.current_declarations):
            raise InvalidInput(
                "declare your patents first, or answer that no patents are known", field="no_patents_known"
            )
        kind = CallAnswerKind.NO_PATENTS_KNOWN if no_patents_known else CallAnswerKind.DECLARED
        call.answers.append(CallAnswer(org_id, kind, by, now))
        self._call_answered(call, org_id, kind, now)
        return call

    def _call_answered(self, call: IprCall, org_id: str, kind: CallAnswerKind, now: datetime) -> None:
        self.events.append(IprCallAnswered(self.id, call.id, org_id, kind.value, now))

    # --- ballot ---------------------------------------------------------------------------------

    def vote(
        self,
        *,
        organisation_id: str,
        position: Position,
        reason: str | None,
        in_good_standing: bool,
        by: str,
        now: datetime,
    ) -> Vote:
        ballot = self.current_ballot
        if self.status is not Stage.BALLOT or ballot is None or ballot.result is not None:
            raise Conflict(f"no ballot is open; stage '{self.status.value}'", field="ballot")
        if not ballot.is_open(now):
            raise Conflict(
                f"voting is outside the ballot window ({ballot.opened_at.isoformat()} to "
                f"{ballot.closes_at.isoformat()})",
                field="ballot",
            )
        if organisation_id in ballot.drafters:
            raise Forbidden("drafting organisations (chair, editors) do not vote", field="organisation_id")
        if organisation_id not in ballot.eligible or not in_good_standing:
            raise Forbidden(
                f"organisation {organisation_id} is not an eligible voter (member in good standing)",
                field="organisation_id",
            )
        if ballot.vote_of(organisation_id) is not None:
            raise Conflict(
                f"organisation {organisation_id} has already voted in ballot {ballot.number}", field="organisation_id"
            )
        if position is Position.DISAPPROVE and not (reason and reason.strip()):
            raise InvalidInput("a disapproval needs a reason", field="reason")
        vote = Vote(organisation_id, position, reason, by, now)
        ballot.votes.append(vote)
        return vote

    def void_votes_of(self, organisation_id: str, reason: str, now: datetime) -> bool:
        """Void the organisation's counted vote in the open ballot; False if there is none (idempotent)."""
        ballot = self.current_ballot
        if self.status is not Stage.BALLOT or ballot is None or ballot.result is not None:
            return False
        vote = ballot.vote_of(organisation_id)
        if vote is None:
            return False
        if len(reason) > limits.VOID_REASON_MAX:  # the event's reason, kept in the vote and the history
            reason = reason[: limits.VOID_REASON_MAX - 1] + "…"
        vote.voided_at, vote.void_reason = now, reason
        self.history.append(HistoryEntry(now, "vote_voided", "system", f"{organisation_id}: {reason}"))
        self.events.append(
            BallotVoteVoided(
                project_id=self.id, ballot=ballot.number, organisation_id=organisation_id, reason=reason, voided_at=now
            )
        )
        return True
