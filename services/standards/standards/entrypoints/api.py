"""HTTP routes of the standards service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from alliance_common.auth import CorrelationId, CurrentPrincipal
from alliance_common.pagination import CursorParam, LimitParam, Page, next_cursor
from standards.entrypoints.schemas import ProjectCreate, ProjectPublic
from standards.service_layer.handlers import StandardsService


def get_service(request: Request) -> StandardsService:
    service: StandardsService = request.app.state.service
    return service


Service = Annotated[StandardsService, Depends(get_service)]

router = APIRouter(prefix="/api/v1/standards", tags=["standards"])


@router.post(
    "/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectPublic,
    summary="Propose a standards project (members in good standing only)",
)
async def propose(
    body: ProjectCreate, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> ProjectPublic:
    return ProjectPublic.of(await service.propose(body.title, body.scope, principal, correlation))


@router.get(
    "/projects", response_model=Page[ProjectPublic], summary="Standards projects (open to every signed-in user)"
)
async def list_projects(
    principal: CurrentPrincipal,
    service: Service,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
    proposer_id: Annotated[str | None, Query(description="Only projects proposed by this organisation.")] = None,
) -> Page[ProjectPublic]:
    projects = await service.list_projects(cursor, limit, proposer_id)
    return Page(
        items=[ProjectPublic.of(p) for p in projects], next_cursor=next_cursor([{"_id": p.id} for p in projects], limit)
    )


@router.get("/projects/{project_id}", response_model=ProjectPublic, summary="One standards project")
async def get_project(project_id: str, principal: CurrentPrincipal, service: Service) -> ProjectPublic:
    return ProjectPublic.of(await service.get(project_id))
