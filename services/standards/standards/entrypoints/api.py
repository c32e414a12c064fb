"""HTTP routes of the standards service (thin: parse, call the use case, shape the answer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status

from alliance_common.auth import CorrelationId, CurrentPrincipal, StandardsReader
from alliance_common.pagination import CursorParam, LimitParam, Page, next_cursor
from standards.domain.filing import DraftingPerson
from standards.domain.lifecycle import TRANSITIONS, Stage
from standards.domain.model import GroupMember, TransitionOptions
from standards.entrypoints.schemas import (
    BallotPublic,
    CallAnswerBody,
    CommentCreate,
    CommentPublic,
    DeclarationCreate,
    DeclarationPublic,
    DispositionBody,
    DraftCreate,
    DraftPublic,
    FilingPublic,
    IprCallPublic,
    ProjectCreate,
    ProjectPublic,
    TransitionBody,
    TransitionRule,
    VoteCreate,
    VotePublic,
    WorkingGroupBody,
    page_of,
)
from standards.service_layer.handlers import Declare, NewComment, Proposal, StandardsService

DESCRIPTION = """Standards projects from proposal to publication, filing and periodic review.
Publishes `standards.events`.

**Life cycle.** One transition table (`GET /lifecycle`) decides every stage change: an action not
allowed in the current stage answers 409 naming the stage; an actor not allowed answers 403; a
failing guard answers 409 (or 422 naming the missing field). Every change is kept in the
project's history and published as `alliance.standards.project.stage_changed.v1`.

**Who sees what.**
- Projects (with history and working group), the lifecycle table and filings are public to every
  signed-in user, and to agency machine clients with the scope `standards:read` (a machine token
  without it answers 403).
- Machine clients see nothing else (no drafts, comments, IPR calls, declarations or ballots).
- IPR declarations: a member sees only its own organisation's; staff see all.
- Comments: text and disposition are visible to every signed-in user with the commenting
  organisation; the author's name only to staff, the chair's and editors' organisations and the
  commenter's own organisation. Anyone signed in may comment while the period is open.
- Ballots: every signed-in user sees the tally and whether it can pass; each member sees its own
  vote; individual votes of others are visible only to staff while the ballot is open, and to
  every signed-in user once it has closed.
"""


async def get_service(request: Request) -> StandardsService:
    service: StandardsService = request.app.state.service
    return service


Service = Annotated[StandardsService, Depends(get_service)]

router = APIRouter(prefix="/api/v1/standards", tags=["standards"])


@router.get("/lifecycle", response_model=list[TransitionRule], summary="The transition table (every allowed move)")
async def lifecycle(principal: StandardsReader) -> list[TransitionRule]:
    return [
        TransitionRule(
            from_stage=s,
            action=a,
            to_stage=t.target,
            actors=sorted(x.value for x in t.actors),
            reason_required=t.reason_required,
            guard=t.guard.__name__ if t.guard else None,
            description=t.description,
        )
        for (s, a), t in TRANSITIONS.items()
    ]


@router.post(
    "/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectPublic,
    summary="Propose a standards project (members in good standing only)",
)
async def propose(
    body: ProjectCreate,
    principal: CurrentPrincipal,
    service: Service,
    correlation: CorrelationId,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=255, description="Send the same key when retrying: one project, whatever the retries."),
    ] = None,
) -> ProjectPublic:
    particulars = Proposal(title_en=body.title_en, ics_codes=tuple(body.ics_codes), ccs_code=body.ccs_code)
    project = await service.propose(body.title, body.scope, principal, correlation, particulars, idempotency_key)
    return ProjectPublic.of(project)


@router.get(
    "/projects", response_model=Page[ProjectPublic], summary="Standards projects (open to every signed-in user)"
)
async def list_projects(
    principal: StandardsReader,
    service: Service,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
    proposer_id: Annotated[
        str | None, Query(max_length=100, description="Only projects proposed by this organisation.")
    ] = None,
    stage: Annotated[Stage | None, Query(description="Only projects in this stage.")] = None,
) -> Page[ProjectPublic]:
    projects = await service.list_projects(cursor, limit, proposer_id, stage)
    return Page(
        items=[ProjectPublic.of(p) for p in projects], next_cursor=next_cursor([{"_id": p.id} for p in projects], limit)
    )


@router.get("/projects/{project_id}", response_model=ProjectPublic, summary="One standards project")
async def get_project(project_id: str, principal: StandardsReader, service: Service) -> ProjectPublic:
    return ProjectPublic.of(await service.get(project_id))


@router.post(
    "/projects/{project_id}/transitions",
    response_model=ProjectPublic,
    summary="Take a life-cycle action (see GET /lifecycle for who may take which, and when)",
    responses={403: {"description": "Not allowed for you"}, 409: {"description": "Not allowed in this stage"}},
)
async def transition(
    project_id: str, body: TransitionBody, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> ProjectPublic:
    options = TransitionOptions(
        comment_closes_at=body.comment_closes_at,
        ballot_closes_at=body.ballot_closes_at,
        ballot_quorum=body.ballot_quorum,
        ballot_threshold=body.ballot_threshold,
        registry_reference=body.registry_reference,
        filed_on=body.filed_on,
        title_en=body.title_en,
        ics_codes=tuple(body.ics_codes) if body.ics_codes is not None else None,
        ccs_code=body.ccs_code,
        drafters=tuple(DraftingPerson(d.name, d.org_id) for d in body.drafters) if body.drafters is not None else None,
    )
    project = await service.transition(project_id, body.action, body.reason, options, principal, correlation)
    return ProjectPublic.of(project)


@router.put(
    "/projects/{project_id}/working-group",
    response_model=ProjectPublic,
    summary="Set the working group: one chair, editors, participants — members in good standing only (staff)",
)
async def set_working_group(
    project_id: str, body: WorkingGroupBody, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> ProjectPublic:
    members = [GroupMember(m.org_id, m.role, m.person) for m in body.members]
    return ProjectPublic.of(await service.set_working_group(project_id, members, principal, correlation))


@router.post(
    "/projects/{project_id}/drafts",
    status_code=status.HTTP_201_CREATED,
    response_model=DraftPublic,
    summary="Add a draft version (chair, editors, secretariat); every version is kept",
)
async def add_draft(
    project_id: str, body: DraftCreate, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> DraftPublic:
    return DraftPublic.of(await service.add_draft(project_id, body.uri, body.notes, principal, correlation))


@router.get("/projects/{project_id}/drafts", response_model=Page[DraftPublic], summary="Every draft version")
async def list_drafts(
    project_id: str, principal: CurrentPrincipal, service: Service, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[DraftPublic]:
    items, more = page_of(await service.drafts(project_id, principal), lambda d: str(d.version), cursor, limit)
    return Page(items=[DraftPublic.of(d) for d in items], next_cursor=more)


@router.post(
    "/projects/{project_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentPublic,
    summary="Comment during the public comment period (any signed-in person)",
)
async def comment(
    project_id: str, body: CommentCreate, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> CommentPublic:
    created = await service.comment(
        project_id, NewComment(body.clause, body.text, body.proposed_change), principal, correlation
    )
    return CommentPublic.of(created, show_author=True)


@router.get(
    "/projects/{project_id}/comments",
    response_model=Page[CommentPublic],
    summary="Public comments with their dispositions (authors shown per the rule above)",
)
async def list_comments(
    project_id: str, principal: CurrentPrincipal, service: Service, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[CommentPublic]:
    project, comments = await service.comments(project_id, principal)
    items, more = page_of(comments, lambda c: c.id, cursor, limit)
    return Page(
        items=[CommentPublic.of(c, service.sees_author(principal, project, c)) for c in items], next_cursor=more
    )


@router.post(
    "/projects/{project_id}/comments/{comment_id}/disposition",
    response_model=CommentPublic,
    summary="Dispose of a comment: accepted, accepted in part, rejected with a reason (chair, editors, secretariat)",
)
async def dispose(
    project_id: str,
    comment_id: str,
    body: DispositionBody,
    principal: CurrentPrincipal,
    service: Service,
    correlation: CorrelationId,
) -> CommentPublic:
    disposed = await service.dispose(project_id, comment_id, body.disposition, body.reason, principal, correlation)
    return CommentPublic.of(disposed, show_author=True)


@router.get(
    "/projects/{project_id}/ipr-calls",
    response_model=Page[IprCallPublic],
    summary="Calls for IPR declarations (staff and chair: all; members: those they were called in)",
)
async def list_calls(
    project_id: str, principal: CurrentPrincipal, service: Service, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[IprCallPublic]:
    items, more = page_of(await service.calls(project_id, principal), lambda c: c.id, cursor, limit)
    return Page(items=[IprCallPublic.of(c) for c in items], next_cursor=more)


@router.post(
    "/projects/{project_id}/ipr-calls/{call_id}/answer",
    response_model=IprCallPublic,
    summary="Answer a call: declarations made, or no patents known (participants)",
)
async def answer_call(
    project_id: str,
    call_id: str,
    body: CallAnswerBody,
    principal: CurrentPrincipal,
    service: Service,
    correlation: CorrelationId,
) -> IprCallPublic:
    call = await service.answer_call(project_id, call_id, body.no_patents_known, body.org_id, principal, correlation)
    return IprCallPublic.of(call)


@router.post(
    "/projects/{project_id}/declarations",
    status_code=status.HTTP_201_CREATED,
    response_model=DeclarationPublic,
    summary="Declare a patent that may be essential, on an existing draft version (participants)",
)
async def declare(
    project_id: str,
    body: DeclarationCreate,
    principal: CurrentPrincipal,
    service: Service,
    correlation: CorrelationId,
) -> DeclarationPublic:
    cmd = Declare(
        draft_version=body.draft_version,
        office=body.office,
        number=body.number,
        title=body.title,
        family_id=body.family_id,
        commitment=body.commitment,
        holder_id=body.holder_id,
    )
    return DeclarationPublic.of(await service.declare(project_id, cmd, principal, correlation))


@router.get(
    "/projects/{project_id}/declarations",
    response_model=Page[DeclarationPublic],
    summary="IPR declarations: your organisation's, or all for staff",
)
async def list_declarations(
    project_id: str, principal: CurrentPrincipal, service: Service, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[DeclarationPublic]:
    items, more = page_of(await service.declarations(project_id, principal), lambda d: d.id, cursor, limit)
    return Page(items=[DeclarationPublic.of(d) for d in items], next_cursor=more)


@router.get(
    "/projects/{project_id}/ballot",
    response_model=BallotPublic,
    summary="The current ballot (or `?number=`): tally, whether it can pass, your own vote",
)
async def get_ballot(
    project_id: str,
    principal: CurrentPrincipal,
    service: Service,
    number: Annotated[int | None, Query(ge=1, description="An earlier ballot's number.")] = None,
) -> BallotPublic:
    view = await service.ballot(project_id, principal, number)
    return BallotPublic.of(project_id, view.ballot, view.own_vote)


@router.post(
    "/projects/{project_id}/ballot/votes",
    status_code=status.HTTP_201_CREATED,
    response_model=VotePublic,
    summary="Vote: approve, disapprove (reason required) or abstain — one vote per member organisation",
)
async def vote(
    project_id: str, body: VoteCreate, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> VotePublic:
    return VotePublic.of(await service.vote(project_id, body.position, body.reason, principal, correlation))


@router.get(
    "/projects/{project_id}/ballot/votes",
    response_model=Page[VotePublic],
    summary="Individual votes: staff while open; every signed-in person once closed; otherwise only your own",
)
async def list_votes(
    project_id: str,
    principal: CurrentPrincipal,
    service: Service,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
    number: Annotated[int | None, Query(ge=1)] = None,
) -> Page[VotePublic]:
    view = await service.ballot(project_id, principal, number)
    votes = view.ballot.votes if view.votes_visible else [v for v in view.ballot.votes if v is view.own_vote]
    items, more = page_of(votes, lambda v: f"{v.organisation_id}@{v.at.isoformat()}", cursor, limit)
    return Page(items=[VotePublic.of(v) for v in items], next_cursor=more)


@router.get(
    "/filings",
    response_model=Page[FilingPublic],
    summary="Filing records of published standards (also for agency clients with standards:read)",
)
async def list_filings(
    principal: StandardsReader, service: Service, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[FilingPublic]:
    projects = await service.filings(principal, cursor, limit)
    names = await service.organisation_names(projects)
    return Page(
        items=[FilingPublic.of(p, names) for p in projects],
        next_cursor=next_cursor([{"_id": p.id} for p in projects], limit),
    )


@router.get(
    "/filings/{ref:path}",
    response_model=FilingPublic,
    summary="One filing record, by standard number (e.g. T/LEDA 001—2026) or project id",
)
async def get_filing(ref: str, principal: StandardsReader, service: Service) -> FilingPublic:
    project = await service.filing(ref, principal)
    return FilingPublic.of(project, await service.organisation_names([project]))
