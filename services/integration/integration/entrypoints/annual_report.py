"""HTTP routes of the annual report: JSON for systems, a printable page for people, each figure's events.

Who reads it: machine clients holding ``statistics:read`` (agencies), and the alliance's organs
(secretariat and council users); members and licensees do not (the report shows the alliance's
finances). A year before ``FIRST_YEAR`` or after the current year is refused naming ``year``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from alliance_common.auth import Principal, Reader, Scope
from alliance_common.errors import Forbidden, InvalidInput
from alliance_common.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from integration.adapters.report_reads import report_reads_for
from integration.domain.annual_report import FIRST_YEAR, AnnualReport, Figure
from integration.entrypoints.deps import ArchiveDep
from integration.entrypoints.report_page import choose_language, labels, render_page
from integration.entrypoints.schemas import EventPublic
from integration.service_layer.annual_report import AnnualReports, figure_events, figure_of

PREFIX = "/api/v1/integration"
router = APIRouter(prefix=PREFIX, tags=["annual report"])


async def get_reports(request: Request, archive: ArchiveDep) -> AnnualReports:
    """The app's compiled reports (made on first use, over the app's archive)."""
    reports: AnnualReports | None = getattr(request.app.state, "annual_reports", None)
    if reports is None or reports.archive is not archive:
        reports = AnnualReports(archive, report_reads_for(archive))
        request.app.state.annual_reports = reports
    return reports


Reports = Annotated[AnnualReports, Depends(get_reports)]


async def report_reader(principal: Annotated[Principal, Reader(Scope.STATISTICS_READ)]) -> Principal:
    """A machine client with ``statistics:read`` (checked by ``Reader``), or a secretariat or council user."""
    if principal.kind != "machine" and not principal.is_staff:
        raise Forbidden("the annual report is for the secretariat, the council and agencies with statistics:read")
    return principal


ReportReader = Annotated[Principal, Depends(report_reader)]
Year = Annotated[int, Path(ge=FIRST_YEAR, le=9999, description="The calendar year reported (UTC).", examples=[2026])]


class FigurePublic(BaseModel):
    key: str = Field(description="The figure's name, as in `.../figures/{figure}/events`.")
    section: str
    kind: Literal["count", "sum"] = Field(
        description="`count`: the number of its events; `sum`: a quantity summed over its events."
    )
    unit: str
    value: int | Decimal = Field(description="Counts as integers; sums (money, hours) as decimal strings.")
    currency: str | None = Field(None, description="Money: the currency its events state, when they state one.")
    events: int = Field(description="How many archived events the figure counts.")
    events_url: str
    label: dict[str, str] = Field(description="The figure's name in English and Chinese.")

    @classmethod
    def of(cls, figure: Figure, base: str) -> FigurePublic:
        return cls(
            key=figure.key,
            section=figure.definition.section,
            kind=figure.definition.kind.value,
            unit=figure.definition.unit.value,
            value=figure.value,
            currency=figure.currency,
            events=figure.events,
            events_url=f"{base}/figures/{figure.key}/events",
            label=labels(figure.key),
        )


class AnnualReportPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "year": 2026,
                    "period_start": "2026-01-01T00:00:00Z",
                    "period_end": "2027-01-01T00:00:00Z",
                    "as_of": "2026-11-27T12:00:00Z",
                    "complete": False,
                    "archive_seq": 1731,
                    "page_url": "/api/v1/integration/annual-reports/2026/page",
                    "figures": [
                        {
                            "key": "members_admitted",
                            "section": "members",
                            "kind": "count",
                            "unit": "organisations",
                            "value": 12,
                            "currency": None,
                            "events": 12,
                            "events_url": "/api/v1/integration/annual-reports/2026/figures/members_admitted/events",
                            "label": {"en": "Organisations admitted", "zh": "新入会单位"},
                        }
                    ],
                }
            ]
        }
    )

    year: int
    period_start: datetime
    period_end: datetime
    as_of: datetime = Field(description="The end of the year, or when it was compiled for the year in progress.")
    complete: bool = Field(description="Whether the year is over.")
    archive_seq: int = Field(description="The archive's version the report was compiled from.")
    page_url: str
    figures: list[FigurePublic]

    @classmethod
    def of(cls, report: AnnualReport) -> AnnualReportPublic:
        base = report_path(report.year)
        return cls(
            year=report.year,
            period_start=report.start,
            period_end=report.end,
            as_of=report.as_of,
            complete=report.complete,
            archive_seq=report.archive_seq,
            page_url=f"{base}/page",
            figures=[FigurePublic.of(f, base) for f in report.figures.values()],
        )


def report_path(year: int) -> str:
    return f"{PREFIX}/annual-reports/{year}"


@router.get(
    "/annual-reports/{year}",
    response_model=AnnualReportPublic,
    summary="The annual report of a year for the civil-affairs authority: every figure with its events' count",
)
async def get_annual_report(year: Year, principal: ReportReader, reports: Reports) -> AnnualReportPublic:
    return AnnualReportPublic.of(await reports.of(year))


@router.get(
    "/annual-reports/{year}/page",
    response_class=HTMLResponse,
    summary="The annual report as a printable page (Chinese or English, with charts)",
    responses={200: {"content": {"text/html": {}}, "description": "The page (HTML with print styles)."}},
)
async def get_annual_report_page(
    year: Year,
    principal: ReportReader,
    reports: Reports,
    lang: Annotated[
        Literal["en", "zh"] | None, Query(description="The page's language (else Accept-Language).")
    ] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    chosen = choose_language(lang, accept_language)
    html = render_page(await reports.of(year), chosen, report_path(year))
    return HTMLResponse(
        html, headers={"content-language": "zh-CN" if chosen == "zh" else "en", "vary": "accept-language"}
    )


@router.get(
    "/annual-reports/{year}/figures/{figure}/events",
    response_model=Page[EventPublic],
    summary="The archived events one figure of the annual report counts, in archive order",
)
async def list_figure_events(
    year: Year,
    figure: Annotated[str, Path(max_length=64, description="A figure's `key` from the report.")],
    principal: ReportReader,
    reports: Reports,
    cursor: CursorParam = None,
    limit: LimitParam = 100,
) -> Page[EventPublic]:
    after = decode_cursor(cursor)
    if after is not None and not after.isdigit():
        raise InvalidInput("not a cursor returned by this API", field="cursor")
    report = await reports.of(year)
    events, last = await figure_events(reports.reads, figure_of(report, figure), int(after or 0), limit)
    return Page(
        items=[EventPublic.of(e) for e in events],
        next_cursor=encode_cursor(str(last)) if last is not None else None,
    )
