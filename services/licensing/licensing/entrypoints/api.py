"""HTTP routes of the licensing service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from alliance_common.auth import CurrentPrincipal
from alliance_common.pagination import CursorParam, LimitParam, Page, next_cursor
from licensing.entrypoints.schemas import LicencePublic
from licensing.service_layer.handlers import LicensingService


async def get_service(request: Request) -> LicensingService:
    service: LicensingService = request.app.state.service
    return service


Service = Annotated[LicensingService, Depends(get_service)]

router = APIRouter(prefix="/api/v1/licensing", tags=["licensing"])


@router.get(
    "/licences",
    response_model=Page[LicencePublic],
    summary="Licences: your organisation's, or all (filterable by licensee) for staff",
)
async def list_licences(
    principal: CurrentPrincipal,
    service: Service,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
    licensee_id: Annotated[
        str | None, Query(max_length=100, description="Staff only: one licensee's licences.")
    ] = None,
) -> Page[LicencePublic]:
    licences = await service.list_for(principal, cursor, limit, licensee_id)
    return Page(
        items=[LicencePublic.of(x) for x in licences], next_cursor=next_cursor([{"_id": x.id} for x in licences], limit)
    )


@router.get("/licences/{licence_id}", response_model=LicencePublic, summary="One licence")
async def get_licence(licence_id: str, principal: CurrentPrincipal, service: Service) -> LicencePublic:
    return LicencePublic.of(await service.get_for(licence_id, principal))
