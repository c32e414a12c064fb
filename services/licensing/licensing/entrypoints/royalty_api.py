"""HTTP routes of royalties."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status

from alliance_common.auth import CurrentPrincipal
from alliance_common.pagination import CursorParam, LimitParam, Page, next_cursor
from licensing.domain.royalties import Period, RateSchedule, ReportLine, Tier
from licensing.entrypoints.pool_schemas import ProgrammePublic
from licensing.entrypoints.royalty_schemas import (
    DistributionIn,
    DistributionPublic,
    GroupPublic,
    LicenceCreate,
    PaymentIn,
    ReportIn,
    ReportPublic,
    ScheduleIn,
    SubsidiaryIn,
)
from licensing.entrypoints.schemas import LicencePublic
from licensing.service_layer.royalties import RoyaltyService


async def get_royalties(request: Request) -> RoyaltyService:
    royalties: RoyaltyService = request.app.state.royalties
    return royalties


Royalties = Annotated[RoyaltyService, Depends(get_royalties)]
ProgrammeFilter = Annotated[str | None, Query(max_length=100, description="Only this programme's.")]

router = APIRouter(prefix="/api/v1/licensing", tags=["royalties"])


@router.put(
    "/programmes/{programme_id}/schedule",
    response_model=ProgrammePublic,
    summary="Publish the programme's rate schedule (secretariat)",
)
async def publish_schedule(
    programme_id: str, body: ScheduleIn, principal: CurrentPrincipal, royalties: Royalties
) -> ProgrammePublic:
    schedule = RateSchedule(
        programme=programme_id,
        categories={
            name: tuple(Tier(t.up_to, t.standard_rate, t.compliant_rate) for t in tiers)
            for name, tiers in body.categories.items()
        },
        free_units_per_year=body.free_units_per_year,
        annual_cap=body.annual_cap,
        regional_markets=frozenset(body.regional_markets),
        regional_discount_percent=body.regional_discount_percent,
        member_discount_percent=body.member_discount_percent,
        currency=body.currency,
    )
    programme = await royalties.publish_schedule(
        programme_id, schedule, body.admin_fee_percent, body.late_interest_percent, principal
    )
    return ProgrammePublic.of(programme)


@router.post(
    "/programmes/{programme_id}/licences",
    status_code=status.HTTP_201_CREATED,
    response_model=LicencePublic,
    summary="Sign an outside licensee's licence to this programme (secretariat)",
)
async def sign_licence(
    programme_id: str, body: LicenceCreate, principal: CurrentPrincipal, royalties: Royalties
) -> LicencePublic:
    licence = await royalties.sign_licence(
        programme_id,
        body.licensee_id,
        body.licensee_name,
        body.start_date,
        tuple(body.territory),
        principal,
        term_until=body.term_until,
        royalty_kind=body.royalty_kind,
    )
    return LicencePublic.of(licence)


@router.post(
    "/programmes/{programme_id}/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportPublic,
    summary="File your organisation's quarterly royalty report (the secretariat: record an earlier one, with its "
    "filing date); every line's amount is explained",
)
async def file_report(
    programme_id: str, body: ReportIn, principal: CurrentPrincipal, royalties: Royalties
) -> ReportPublic:
    period = Period.parse(body.period)
    lines = [
        ReportLine(
            x.product_category,
            x.units,
            x.country_of_manufacture,
            x.country_of_sale,
            Period.parse(x.period) if x.period else period,
            x.sold_on,
        )
        for x in body.lines
    ]
    account, filed = await royalties.file(programme_id, period, lines, principal, body.filed_on, body.filed_by)
    return ReportPublic.of(account, filed)


@router.get("/reports", response_model=Page[ReportPublic], summary="Royalty reports: your own, or all for staff")
async def list_reports(
    principal: CurrentPrincipal,
    royalties: Royalties,
    programme_id: ProgrammeFilter = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[ReportPublic]:
    found, next_page = await royalties.reports_for(principal, programme_id, cursor, limit)
    return Page(items=[ReportPublic.of(a, r) for a, r in found], next_cursor=next_page)


@router.get("/reports/{report_id}", response_model=ReportPublic, summary="One royalty report with its invoice")
async def get_report(report_id: str, principal: CurrentPrincipal, royalties: Royalties) -> ReportPublic:
    return ReportPublic.of(*await royalties.report_for(report_id, principal))


@router.post(
    "/reports/{report_id}/payments",
    response_model=ReportPublic,
    summary="Record a payment received (secretariat); late payments carry interest",
)
async def pay(
    report_id: str,
    body: PaymentIn,
    principal: CurrentPrincipal,
    royalties: Royalties,
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="Send the same key when retrying: recorded once.")
    ] = None,
) -> ReportPublic:
    await royalties.pay(report_id, body.amount, body.received_on, principal, idempotency_key)
    return ReportPublic.of(*await royalties.report_for(report_id, principal))


@router.post(
    "/programmes/{programme_id}/distributions",
    status_code=status.HTTP_201_CREATED,
    response_model=DistributionPublic,
    summary="Distribute a period's collected royalties among the licensors (secretariat)",
)
async def distribute(
    programme_id: str, body: DistributionIn, principal: CurrentPrincipal, royalties: Royalties
) -> DistributionPublic:
    _, doc = await royalties.distribute(programme_id, Period.parse(body.period), principal)
    return DistributionPublic.of(doc)


@router.get(
    "/statements",
    response_model=Page[DistributionPublic],
    summary="Distribution statements: a licensor sees its own; staff see all",
)
async def statements(
    principal: CurrentPrincipal,
    royalties: Royalties,
    programme_id: ProgrammeFilter = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[DistributionPublic]:
    docs = await royalties.statements_for(principal, programme_id, cursor, limit)
    return Page(items=[DistributionPublic.of(d) for d in docs], next_cursor=next_cursor(docs, limit))


@router.put(
    "/licensee-groups/{parent_id}/subsidiaries/{org_id}",
    response_model=GroupPublic,
    summary="Record a >50 %-owned subsidiary: it shares its parent's free units, tiers and cap (secretariat)",
)
async def add_subsidiary(
    parent_id: str, org_id: str, body: SubsidiaryIn, principal: CurrentPrincipal, royalties: Royalties
) -> GroupPublic:
    group = await royalties.add_subsidiary(
        parent_id, body.parent_name, org_id, body.name, body.ownership_percent, body.since, principal
    )
    return GroupPublic.of(group)


@router.get("/licensee-groups/{parent_id}", response_model=GroupPublic, summary="A licensee group")
async def get_group(parent_id: str, principal: CurrentPrincipal, royalties: Royalties) -> GroupPublic:
    return GroupPublic.of(await royalties.group(parent_id, principal))
