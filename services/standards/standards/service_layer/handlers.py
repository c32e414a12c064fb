"""Use cases of the standards service, with who may do what.

Visibility rules (also stated in the OpenAPI descriptions):
- projects, their history and working group, and filings: every signed-in user, and agency
  machine clients with the ``standards:read`` scope (the routes state it; see alliance_common.auth).
- everything else (drafts, comments, IPR calls, declarations, ballots) is for signed-in people,
  never for machine clients.
- declarations: a member sees its own organisation's; staff see all.
- comments: text and disposition visible to every signed-in user, with the commenting
  organisation; the author's name only to staff, the chair's and editors' organisations and
  the commenter's own organisation.
- ballots: each member sees its own vote; the tally (and whether it can pass) is visible to
  every signed-in user; others' individual votes are visible only to staff while the ballot is
  open, and to every signed-in user once it is closed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from alliance_common.auth import Principal, Role, Scope, require_roles
from alliance_common.errors import Forbidden, InvalidInput, NotFound
from alliance_common.outbox import AlreadyExists, ConcurrencyConflict
from standards.adapters.repository import CounterRepository, ProjectRepository
from standards.adapters.standing import MemberStanding
from standards.domain.ballots import Ballot, Position, Vote
from standards.domain.ipr import Commitment, Declaration, IprCall
from standards.domain.lifecycle import DUE_FOR_REVIEW_FROM, NUMBERED, Action, Actor, Stage
from standards.domain.model import (
    Comment,
    Disposition,
    DraftVersion,
    GroupMember,
    Policy,
    Project,
    TransitionContext,
    TransitionOptions,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MEMBER_ROLES = (Role.MEMBER_ADMIN, Role.MEMBER_STAFF)
# Namespace of the project ids derived from a proposer and its request's Idempotency-Key.
PROPOSAL_KEYS = uuid.UUID("5b0f7c52-3a53-4d0e-9a0e-2f6f1d7f4c11")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Declare:
    draft_version: int
    office: str
    number: str
    title: str
    family_id: str | None
    commitment: Commitment
    holder_id: str | None = None  # staff may declare on a participant's behalf


@dataclass(frozen=True)
class Proposal:
    """Filing particulars known when a project is proposed (each optional; see ``domain.filing``)."""

    title_en: str | None = None
    ics_codes: tuple[str, ...] = ()
    ccs_code: str | None = None


@dataclass(frozen=True)
class NewComment:
    clause: str
    text: str
    proposed_change: str | None


@dataclass(frozen=True)
class BallotView:
    project: Project
    ballot: Ballot
    own_vote: Vote | None
    votes_visible: bool


def require_person(principal: Principal) -> None:
    if principal.kind == "machine":
        raise Forbidden("machine clients may read only projects and filings")


class StandardsService:
    # Racing writes on one project (votes, comments): each retry re-reads the latest version.
    MAX_ATTEMPTS = 20

    def __init__(
        self,
        repo: ProjectRepository,
        standing: MemberStanding,
        counter: CounterRepository | None = None,
        policy: Policy | None = None,
        alliance_code: str = "LEDA",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repo = repo
        self.standing = standing
        self.counter = counter
        self.policy = policy or Policy()
        self.alliance_code = alliance_code
        self.clock = clock

    # --- helpers ----------------------------------------------------------------------------------

    async def _change(
        self,
        project_id: str,
        change: Callable[[Project], T],
        correlation_id: str | None = None,
        applied_event: str | None = None,
    ) -> tuple[Project, T]:
        """Load, change, versioned write; a lost race re-reads and re-decides (never double-applies)."""
        for attempt in range(self.MAX_ATTEMPTS):
            project = await self.get(project_id)
            result = change(project)
            try:
                await self.repo.save(project, correlation_id, applied_event=applied_event)
                return project, result
            except ConcurrencyConflict:
                if attempt == self.MAX_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _staff_actors(principal: Principal) -> frozenset[Actor]:
        actors = set()
        if Role.COUNCIL in principal.roles:
            actors.add(Actor.COUNCIL)
        if Role.SECRETARIAT in principal.roles:
            actors.add(Actor.SECRETARIAT)
        return frozenset(actors)

    def actors(self, principal: Principal, project: Project) -> frozenset[Actor]:
        if principal.kind == "machine":
            return frozenset()
        return project.actors_for(principal.org_id, self._staff_actors(principal), principal.has_any(*MEMBER_ROLES))

    def _require_actor(self, principal: Principal, project: Project, *allowed: Actor, what: str) -> None:
        if not self.actors(principal, project) & set(allowed):
            raise Forbidden(f"{what} is for: {', '.join(a.value for a in allowed)}")

    def _member_org(self, principal: Principal, on_behalf: str | None, field: str) -> str:
        """The organisation a member acts for; the secretariat may name one (the council acts for none)."""
        require_person(principal)
        if principal.is_secretariat and on_behalf:
            return on_behalf
        require_roles(principal, *MEMBER_ROLES)
        if principal.org_id is None:
            raise Forbidden("your account is not linked to a member organisation")
        if on_behalf not in (None, principal.org_id):
            raise Forbidden("you may act only for your own organisation", field=field)
        return principal.org_id

    async def members_in_good_standing(self) -> list[str]:
        return sorted(await self.standing.members_in_good_standing())

    # --- projects ---------------------------------------------------------------------------------

    async def propose(
        self,
        title: str,
        scope: str,
        principal: Principal,
        correlation_id: str | None = None,
        particulars: Proposal | None = None,
        request_key: str | None = None,
    ) -> Project:
        """``particulars``: the filing particulars known at proposal (English title, ICS and CCS codes).

        ``request_key`` (the caller's ``Idempotency-Key``): the project's id is derived from it and the
        proposer, so a retry of a proposal that was stored (its answer lost, the gateway that carried it
        gone) finds that project instead of proposing a second one."""
        require_roles(principal, Role.MEMBER_ADMIN, Role.MEMBER_STAFF)
        given = particulars or Proposal()
        if principal.org_id is None:
            raise Forbidden("your account is not linked to a member organisation")
        if request_key is not None:
            project_id = str(uuid.uuid5(PROPOSAL_KEYS, f"{principal.org_id}\n{request_key}"))
            stored = await self.repo.get(project_id)
            if stored is not None:
                return self._retried(stored, title, scope, request_key)
        else:
            project_id = str(uuid.uuid4())
        project = Project.propose(
            id=project_id,
            title=title,
            scope=scope,
            proposer_id=principal.org_id,
            proposer_in_good_standing=await self.standing.in_good_standing(principal.org_id),
            by=principal.subject,
            now=self.clock(),
            title_en=given.title_en,
            ics_codes=given.ics_codes,
            ccs_code=given.ccs_code,
        )
        try:
            await self.repo.add(project, correlation_id)
        except AlreadyExists:
            stored = await self.repo.get(project_id) if request_key is not None else None
            if stored is None:
                raise
            return self._retried(stored, title, scope, request_key)  # the same retry, served twice at once
        return project

    @staticmethod
    def _retried(stored: Project, title: str, scope: str, request_key: str | None) -> Project:
        if (stored.title, stored.scope) != (title, scope):
            raise InvalidInput(
                f"Idempotency-Key {request_key!r} was used for another proposal by your organisation",
                field="Idempotency-Key",
            )
        return stored

    async def get(self, project_id: str) -> Project:
        project = await self.repo.get(project_id)
        if project is None:
            raise NotFound(f"project {project_id} not found")
        return project

    async def list_projects(
        self, cursor: str | None, limit: int, proposer_id: str | None, status: Stage | None = None
    ) -> list[Project]:
        return await self.repo.browse(cursor, limit, proposer_id, status)

    async def transition(
        self,
        project_id: str,
        action: Action,
        reason: str | None,
        options: TransitionOptions,
        principal: Principal,
        correlation_id: str | None = None,
        *,
        system: bool = False,
    ) -> Project:
        require_person(principal)
        project = await self.get(project_id)
        actors = frozenset({Actor.SYSTEM}) if system else self.actors(principal, project)
        base = TransitionContext(
            now=self.clock(), by=principal.subject, actors=actors, reason=reason, options=options, policy=self.policy
        )
        eligible: tuple[str, ...] = ()
        number: str | None = None
        names: tuple[tuple[str, str], ...] = ()
        if action in (Action.OPEN_BALLOT, Action.REPEAT_BALLOT):
            eligible = tuple(await self.members_in_good_standing())
        if action is Action.PUBLISH:
            project.check(action, base)  # refuse before a number is taken
            number = await self.allocate_number(project.id)
            names = await self.standing.names(project.drafter_orgs)
        revision_id = str(uuid.uuid4()) if action is Action.REVISE else None

        def change(p: Project) -> None:
            ctx = replace(
                base,
                now=self.clock(),
                eligible_voters=eligible,
                number=number,
                organisation_names=names,
                revision_id=revision_id,
            )
            p.transition(action, ctx)

        project, _ = await self._change(project_id, change, correlation_id)
        if revision_id:
            revision = Project.revision(project, id=revision_id, by=principal.subject, now=self.clock(), reason=reason)
            await self.repo.add(revision, correlation_id)
        return project

    @staticmethod
    def _named_orgs(project: Project) -> list[str]:
        """The organisations a filing record names: the working group's and every current holder's."""
        holders = [d.holder_id for d in project.current_declarations]
        drafters = [p.org_id for p in project.drafters]
        return list(dict.fromkeys([*project.participant_orgs, *holders, *drafters]))

    async def organisation_names(self, projects: list[Project]) -> dict[str, str]:
        """Names (from membership's admission events) of the organisations these records name."""
        ids = list(dict.fromkeys(o for p in projects for o in self._named_orgs(p)))
        return dict(await self.standing.names(ids))

    async def allocate_number(self, project_id: str) -> str:
        if self.counter is None:
            raise RuntimeError("no number counter configured")
        year = self.clock().year
        for attempt in range(self.MAX_ATTEMPTS):
            counter = await self.counter.current()
            number = counter.allocate(project_id, self.alliance_code, year)
            try:
                await self.counter.save(counter)
                return number
            except (ConcurrencyConflict, AlreadyExists):
                if attempt == self.MAX_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    # --- working group and drafts -----------------------------------------------------------------

    async def set_working_group(
        self, project_id: str, members: list[GroupMember], principal: Principal, correlation_id: str | None = None
    ) -> Project:
        require_person(principal)
        require_roles(principal, Role.SECRETARIAT, Role.COUNCIL)
        standing = {m.org_id: await self.standing.in_good_standing(m.org_id) for m in members}
        project, _ = await self._change(
            project_id,
            lambda p: p.set_working_group(members, standing, principal.subject, self.clock()),
            correlation_id,
        )
        return project

    async def add_draft(
        self, project_id: str, uri: str, notes: str, principal: Principal, correlation_id: str | None = None
    ) -> DraftVersion:
        require_person(principal)
        self._require_actor(
            principal,
            await self.get(project_id),
            Actor.CHAIR,
            Actor.EDITOR,
            Actor.SECRETARIAT,
            what="adding a draft version",
        )
        _, draft = await self._change(
            project_id, lambda p: p.add_draft(uri, notes, principal.subject, self.clock()), correlation_id
        )
        return draft

    async def drafts(self, project_id: str, principal: Principal) -> list[DraftVersion]:
        require_person(principal)
        return (await self.get(project_id)).drafts

    # --- public comment ---------------------------------------------------------------------------

    async def comment(
        self, project_id: str, body: NewComment, principal: Principal, correlation_id: str | None = None
    ) -> Comment:
        require_person(principal)
        comment_id = f"c-{uuid.uuid4().hex[:12]}"
        _, comment = await self._change(
            project_id,
            lambda p: p.comment(
                id=comment_id,
                organisation_id=principal.org_id,
                author=principal.subject,
                clause=body.clause,
                text=body.text,
                proposed_change=body.proposed_change,
                now=self.clock(),
            ),
            correlation_id,
        )
        return comment

    async def comments(self, project_id: str, principal: Principal) -> tuple[Project, list[Comment]]:
        require_person(principal)
        project = await self.get(project_id)
        return project, project.comments

    def sees_author(self, principal: Principal, project: Project, comment: Comment) -> bool:
        actors = self.actors(principal, project)
        return (
            bool(actors & {Actor.SECRETARIAT, Actor.COUNCIL, Actor.CHAIR, Actor.EDITOR})
            or (principal.org_id is not None and principal.org_id == comment.organisation_id)
            or principal.subject == comment.author
        )

    async def dispose(
        self,
        project_id: str,
        comment_id: str,
        disposition: Disposition,
        reason: str | None,
        principal: Principal,
        correlation_id: str | None = None,
    ) -> Comment:
        require_person(principal)
        self._require_actor(
            principal,
            await self.get(project_id),
            Actor.CHAIR,
            Actor.EDITOR,
            Actor.SECRETARIAT,
            what="disposing of a comment",
        )
        _, comment = await self._change(
            project_id,
            lambda p: p.dispose(comment_id, disposition, reason, principal.subject, self.clock()),
            correlation_id,
        )
        return comment

    # --- IPR --------------------------------------------------------------------------------------

    async def declare(
        self, project_id: str, cmd: Declare, principal: Principal, correlation_id: str | None = None
    ) -> Declaration:
        holder = self._member_org(principal, cmd.holder_id, "holder_id")
        declaration_id = f"d-{uuid.uuid4().hex[:12]}"
        _, declaration = await self._change(
            project_id,
            lambda p: p.declare(
                id=declaration_id,
                holder_id=holder,
                draft_version=cmd.draft_version,
                office=cmd.office,
                number=cmd.number,
                title=cmd.title,
                family_id=cmd.family_id,
                commitment=cmd.commitment,
                by=principal.subject,
                now=self.clock(),
            ),
            correlation_id,
        )
        return declaration

    async def declarations(self, project_id: str, principal: Principal) -> list[Declaration]:
        """Staff see every declaration; a member only its own organisation's."""
        require_person(principal)
        project = await self.get(project_id)
        if principal.is_staff:
            return project.declarations
        return [d for d in project.declarations if principal.org_id and d.holder_id == principal.org_id]

    async def answer_call(
        self,
        project_id: str,
        call_id: str,
        no_patents_known: bool,
        org_id: str | None,
        principal: Principal,
        correlation_id: str | None = None,
    ) -> IprCall:
        org = self._member_org(principal, org_id, "org_id")
        _, call = await self._change(
            project_id,
            lambda p: p.answer_call(call_id, org, no_patents_known, principal.subject, self.clock()),
            correlation_id,
        )
        return call

    async def calls(self, project_id: str, principal: Principal) -> list[IprCall]:
        require_person(principal)
        project = await self.get(project_id)
        if principal.is_staff or Actor.CHAIR in self.actors(principal, project):
            return project.calls
        return [c for c in project.calls if principal.org_id in c.participants]

    # --- ballots ----------------------------------------------------------------------------------

    async def vote(
        self,
        project_id: str,
        position: Position,
        reason: str | None,
        principal: Principal,
        correlation_id: str | None = None,
    ) -> Vote:
        require_person(principal)
        require_roles(principal, *MEMBER_ROLES)
        if principal.org_id is None:
            raise Forbidden("your account is not linked to a member organisation", field="organisation_id")
        org = principal.org_id
        in_good_standing = await self.standing.in_good_standing(org)
        _, vote = await self._change(
            project_id,
            lambda p: p.vote(
                organisation_id=org,
                position=position,
                reason=reason,
                in_good_standing=in_good_standing,
                by=principal.subject,
                now=self.clock(),
            ),
            correlation_id,
        )
        return vote

    async def ballot(self, project_id: str, principal: Principal, number: int | None = None) -> BallotView:
        require_person(principal)
        project = await self.get(project_id)
        ballots = {b.number: b for b in project.ballots}
        ballot = ballots.get(number) if number is not None else project.current_ballot
        if ballot is None:
            raise NotFound(f"project {project_id} has no ballot{f' {number}' if number else ''}")
        own = ballot.vote_of(principal.org_id) if principal.org_id else None
        if own is None and principal.org_id:
            own = next((v for v in ballot.votes if v.organisation_id == principal.org_id), None)
        return BallotView(project, ballot, own, principal.is_staff or ballot.result is not None)

    async def void_votes_of(self, organisation_id: str, reason: str, event_id: str | None = None) -> list[str]:
        """Void the organisation's votes in every open ballot (idempotent); returns the projects changed."""
        changed = []
        for project in await self.repo.in_stage(Stage.BALLOT):
            ballot = project.current_ballot
            if ballot is None or ballot.result is not None or ballot.vote_of(organisation_id) is None:
                continue
            now = self.clock()
            try:
                _, voided = await self._change(
                    project.id,
                    lambda p, now=now: p.void_votes_of(organisation_id, reason, now),  # type: ignore[misc]
                    applied_event=event_id,
                )
            except NotFound:
                continue
            if voided:
                changed.append(project.id)
        return changed

    # --- filings and review -----------------------------------------------------------------------

    @staticmethod
    def require_filing_reader(principal: Principal) -> None:
        agency = Role.AGENCY in principal.roles and Scope.STANDARDS_READ in principal.scopes
        if principal.kind == "machine" and not agency:
            raise Forbidden("filings are for agency clients with the standards:read scope")

    async def filings(self, principal: Principal, cursor: str | None, limit: int) -> list[Project]:
        self.require_filing_reader(principal)
        return await self.repo.list_published(cursor, limit)

    async def filing(self, ref: str, principal: Principal) -> Project:
        self.require_filing_reader(principal)
        project = await self.repo.by_number(ref) if ref.startswith("T/") else await self.repo.get(ref)
        if project is None or project.status not in NUMBERED:
            raise NotFound(f"no filing record for {ref}")
        return project

    async def start_due_reviews(self) -> int:
        """The periodic job: standards due for their periodic review go under review."""
        started = 0
        system = Principal(subject="system:periodic-review", roles=frozenset())
        for stage in DUE_FOR_REVIEW_FROM:
            for project in await self.repo.in_stage(stage):
                if not project.due_for_review(self.clock()):
                    continue
                try:
                    await self.transition(
                        project.id,
                        Action.START_REVIEW,
                        "periodic review is due",
                        TransitionOptions(),
                        system,
                        system=True,
                    )
                    started += 1
                except Exception:
                    log.exception("could not start the review of %s", project.id)
        return started
