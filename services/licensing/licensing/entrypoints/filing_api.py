"""HTTP routes of licence-contract filing records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from alliance_common.auth import CurrentPrincipal, Principal, Reader, Scope
from alliance_common.pagination import CursorParam, LimitParam, Page, next_cursor
from licensing.domain.filings import FilingStatus
from licensing.entrypoints.filing_schemas import FilingIn, LicenceFilingPublic
from licensing.service_layer.filings import LicenceFilings


async def get_filings(request: Request) -> LicenceFilings:
    filings: LicenceFilings = request.app.state.filings
    return filings


Filings = Annotated[LicenceFilings, Depends(get_filings)]
FilingsReader = Annotated[Principal, Reader(Scope.LICENCE_FILINGS_READ)]

router = APIRouter(prefix="/api/v1/licensing", tags=["licence filings"])


@router.get(
    "/licence-filings",
    response_model=Page[LicenceFilingPublic],
    summary="Licence-contract filing records: all for the secretariat and agency clients with "
    "licence-filings:read, your own licences' otherwise; `?status=overdue` lists those past their deadline",
)
async def list_licence_filings(
    principal: FilingsReader,
    filings: Filings,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
    status: Annotated[
        FilingStatus | None, Query(description="pending, filed, or overdue (computed from today).")
    ] = None,
    licensee_id: Annotated[str | None, Query(max_length=100, description="One licensee's records.")] = None,
) -> Page[LicenceFilingPublic]:
    licences = await filings.list_for(principal, status, licensee_id, cursor, limit)
    today = filings.today()
    return Page(
        items=[LicenceFilingPublic.of(x, today) for x in licences],
        next_cursor=next_cursor([{"_id": x.id} for x in licences], limit),
    )


@router.get("/licence-filings/{licence_id}", response_model=LicenceFilingPublic, summary="One licence's filing record")
async def get_licence_filing(licence_id: str, principal: FilingsReader, filings: Filings) -> LicenceFilingPublic:
    return LicenceFilingPublic.of(await filings.get_for(licence_id, principal), filings.today())


@router.post(
    "/licence-filings/{licence_id}/filing",
    response_model=LicenceFilingPublic,
    summary="Record the patent office's filing of a licence contract: its number and date (secretariat; once)",
)
async def record_licence_filing(
    licence_id: str, body: FilingIn, principal: CurrentPrincipal, filings: Filings
) -> LicenceFilingPublic:
    licence = await filings.record(licence_id, body.filing_number, body.filed_on, principal)
    return LicenceFilingPublic.of(licence, filings.today())
