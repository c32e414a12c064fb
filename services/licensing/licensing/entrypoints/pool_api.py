"""HTTP routes of the patent pool."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from alliance_common.auth import CurrentPrincipal, LicensingReader
from alliance_common.pagination import CursorParam, LimitParam, Page, next_cursor
from licensing.entrypoints.pool_schemas import (
    AssignmentIn,
    ClaimDecisionIn,
    EvaluationIn,
    LegalStatusIn,
    LegalStatusReviewIn,
    PatentCreate,
    PatentPublic,
    ProgrammeCreate,
    ProgrammePublic,
    StatusReviewDecisionIn,
    SubmissionCreate,
    SubmissionPublic,
)
from licensing.service_layer.pool import ContributePatent, PoolService


async def get_pool(request: Request) -> PoolService:
    pool: PoolService = request.app.state.pool
    return pool


Pool = Annotated[PoolService, Depends(get_pool)]

router = APIRouter(prefix="/api/v1/licensing", tags=["pool"])


@router.post(
    "/patents",
    status_code=status.HTTP_201_CREATED,
    response_model=PatentPublic,
    summary="Contribute a patent (your organisation's; staff may name the owner)",
)
async def contribute(body: PatentCreate, principal: CurrentPrincipal, pool: Pool) -> PatentPublic:
    cmd = ContributePatent(
        **{**body.model_dump(exclude={"validated_in"}), "validated_in": frozenset(body.validated_in)}
    )
    return PatentPublic.of(await pool.contribute(cmd, principal))


@router.get("/patents", response_model=Page[PatentPublic], summary="Patents: your organisation's, or all for staff")
async def list_patents(
    principal: CurrentPrincipal, pool: Pool, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[PatentPublic]:
    patents = await pool.patents_for(principal, cursor, limit)
    return Page(
        items=[PatentPublic.of(p) for p in patents], next_cursor=next_cursor([{"_id": p.id} for p in patents], limit)
    )


@router.get("/patents/{patent_id}", response_model=PatentPublic, summary="One patent (owner, staff, its evaluator)")
async def get_patent(patent_id: str, principal: CurrentPrincipal, pool: Pool) -> PatentPublic:
    return PatentPublic.of(await pool.patent_for(patent_id, principal))


@router.post(
    "/patents/{patent_id}/legal-status",
    response_model=PatentPublic,
    summary="Record a legal status (secretariat; the owner only its own patent's expiry or lapse)",
)
async def legal_status(patent_id: str, body: LegalStatusIn, principal: CurrentPrincipal, pool: Pool) -> PatentPublic:
    return PatentPublic.of(await pool.end_patent(patent_id, body.status, body.ended_on, principal))


@router.post(
    "/patents/{patent_id}/legal-status-review",
    response_model=PatentPublic,
    summary="Ask the secretariat, with evidence, for a status only it sets (owner)",
)
async def request_status_review(
    patent_id: str, body: LegalStatusReviewIn, principal: CurrentPrincipal, pool: Pool
) -> PatentPublic:
    return PatentPublic.of(
        await pool.request_status_review(patent_id, body.status, body.ended_on, body.evidence, principal)
    )


@router.post(
    "/patents/{patent_id}/legal-status-review/decision",
    response_model=PatentPublic,
    summary="Approve or reject an owner's status request (secretariat)",
)
async def decide_status_review(
    patent_id: str, body: StatusReviewDecisionIn, principal: CurrentPrincipal, pool: Pool
) -> PatentPublic:
    return PatentPublic.of(await pool.decide_status_review(patent_id, body.approve, principal))


@router.post(
    "/patents/{patent_id}/claim",
    response_model=PatentPublic,
    summary="Settle a disputed number: confirm this registration's owner, or reject it (secretariat)",
)
async def decide_claim(patent_id: str, body: ClaimDecisionIn, principal: CurrentPrincipal, pool: Pool) -> PatentPublic:
    return PatentPublic.of(await pool.decide_claim(patent_id, body.decision, principal))


@router.get(
    "/patent-reviews",
    response_model=Page[PatentPublic],
    summary="Disputed registrations and owners' status requests awaiting the secretariat (staff)",
)
async def patent_reviews(
    principal: CurrentPrincipal, pool: Pool, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[PatentPublic]:
    patents = await pool.for_review(principal, cursor, limit)
    return Page(
        items=[PatentPublic.of(p) for p in patents], next_cursor=next_cursor([{"_id": p.id} for p in patents], limit)
    )


@router.post(
    "/programmes",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgrammePublic,
    summary="Create a pool programme tied to a standard (secretariat)",
)
async def create_programme(body: ProgrammeCreate, principal: CurrentPrincipal, pool: Pool) -> ProgrammePublic:
    return ProgrammePublic.of(await pool.create_programme(body.name, body.standard_ref, body.description, principal))


@router.get("/programmes", response_model=Page[ProgrammePublic], summary="Pool programmes")
async def list_programmes(
    principal: LicensingReader, pool: Pool, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[ProgrammePublic]:
    programmes = await pool.programmes(cursor, limit)
    return Page(
        items=[ProgrammePublic.of(p) for p in programmes],
        next_cursor=next_cursor([{"_id": p.id} for p in programmes], limit),
    )


@router.get("/programmes/{programme_id}", response_model=ProgrammePublic, summary="One pool programme")
async def get_programme(programme_id: str, principal: LicensingReader, pool: Pool) -> ProgrammePublic:
    return ProgrammePublic.of(await pool.programme(programme_id))


@router.get(
    "/programmes/{programme_id}/patents",
    response_model=Page[PatentPublic],
    summary="The programme's essential patents: open to every signed-in user (no opaque pools)",
)
async def programme_patents(
    programme_id: str, principal: LicensingReader, pool: Pool, cursor: CursorParam = None, limit: LimitParam = 200
) -> Page[PatentPublic]:
    patents = await pool.listed_patents(programme_id, cursor, limit)
    # The cursor runs over submissions, whose ids are "<programme>:<patent>".
    return Page(
        items=[PatentPublic.of(p) for p in patents],
        next_cursor=next_cursor([{"_id": f"{programme_id}:{p.id}"} for p in patents], limit),
    )


@router.post(
    "/programmes/{programme_id}/submissions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionPublic,
    summary="Submit your patent for an essentiality evaluation",
)
async def submit(
    programme_id: str, body: SubmissionCreate, principal: CurrentPrincipal, pool: Pool
) -> SubmissionPublic:
    return SubmissionPublic.of(await pool.submit(programme_id, body.patent_id, principal))


@router.get(
    "/submissions",
    response_model=Page[SubmissionPublic],
    summary="Submissions: yours, those assigned to you (experts), or all (staff)",
)
async def list_submissions(
    principal: CurrentPrincipal,
    pool: Pool,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
    programme_id: Annotated[str | None, Query(max_length=100, description="Only this programme's submissions.")] = None,
) -> Page[SubmissionPublic]:
    found = await pool.submissions_for(principal, programme_id, cursor, limit)
    return Page(
        items=[SubmissionPublic.of(s) for s in found], next_cursor=next_cursor([{"_id": s.id} for s in found], limit)
    )


@router.get("/submissions/{submission_id}", response_model=SubmissionPublic, summary="One submission")
async def get_submission(submission_id: str, principal: CurrentPrincipal, pool: Pool) -> SubmissionPublic:
    return SubmissionPublic.of(await pool.submission_for(submission_id, principal))


@router.post(
    "/submissions/{submission_id}/assignment",
    response_model=SubmissionPublic,
    summary="Assign an independent expert (secretariat); never one from the owner's organisation",
)
async def assign(submission_id: str, body: AssignmentIn, principal: CurrentPrincipal, pool: Pool) -> SubmissionPublic:
    return SubmissionPublic.of(await pool.assign(submission_id, body.evaluator_id, body.evaluator_org_id, principal))


@router.post(
    "/submissions/{submission_id}/evaluation",
    response_model=SubmissionPublic,
    summary="Record the assigned expert's finding with its written reason",
)
async def evaluate(submission_id: str, body: EvaluationIn, principal: CurrentPrincipal, pool: Pool) -> SubmissionPublic:
    return SubmissionPublic.of(await pool.record(submission_id, body.result, body.reason, principal))
