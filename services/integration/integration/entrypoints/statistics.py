"""Statistics routes: ``/api/v1/integration/statistics/{members,patents,royalties,standards,training}``.

Each answers its tables for a date (``?date=``, default today) or a period (``?from=&to=``), as
JSON, or one table as CSV (``?format=csv`` or ``Accept: text/csv``, with ``?table=`` when the topic
has several). Who may read them: machine clients holding ``statistics:read``, and the alliance's
secretariat and council; any other person gets 403.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, Field

from alliance_common.auth import Principal, Reader, Scope
from alliance_common.errors import Forbidden, InvalidInput
from integration.domain.folding import Period
from integration.domain.statistics import TOPICS
from integration.domain.tables import Table
from integration.entrypoints.deps import ArchiveDep
from integration.service_layer.statistics import Report, statistics

router = APIRouter(prefix="/api/v1/integration", tags=["statistics"])

StatisticsReader = Annotated[Principal, Reader(Scope.STATISTICS_READ)]
CSV = "text/csv"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8; header=present"
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
Format = Literal["json", "csv"]


class ColumnPublic(BaseModel):
    name: str
    type: str = Field(description="string, integer, decimal (a string in JSON), date, datetime or boolean")
    description: str


class TablePublic(BaseModel):
    name: str = Field(description="the table's id: pass it as `table` to get it alone, or as CSV")
    title: str
    columns: list[ColumnPublic]
    rows: list[dict[str, Any]] = Field(description="one object per row, keyed by column name")


class PeriodPublic(BaseModel):
    from_: date | None = Field(alias="from", description="first day (absent: from the beginning)")
    to: date = Field(description="last day: states are as of the end of this day (UTC)")


class StatisticsPublic(BaseModel):
    topic: str
    period: PeriodPublic
    archive_version: int = Field(description="the archive's last sequence number the figures were computed from")
    tables: list[TablePublic]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "topic": "members",
                    "period": {"from": "2026-01-01", "to": "2026-03-31"},
                    "archive_version": 1842,
                    "tables": [
                        {
                            "name": "members_by_tier",
                            "title": "Members by tier",
                            "columns": [
                                {"name": "tier", "type": "string", "description": "council_member, ..."},
                                {"name": "members", "type": "integer", "description": "members at the end"},
                            ],
                            "rows": [{"tier": "council_member", "members": 12}],
                        }
                    ],
                }
            ]
        }
    }


def require_statistics_reader(principal: Principal) -> None:
    """Machines were checked for the scope already; people must be the secretariat or the council."""
    if principal.kind != "machine" and not principal.is_staff:
        raise Forbidden("statistics are for the secretariat, the council and agencies holding statistics:read")


def period_of(on: date | None, start: date | None, end: date | None) -> Period:
    """The period the query names: ``date``, or ``from`` and ``to``; neither: today (UTC)."""
    for name, value in (("date", on), ("from", start), ("to", end)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise InvalidInput(f"{name} must lie between {EARLIEST} and {LATEST}", field=name)
    if on is not None and (start is not None or end is not None):
        raise InvalidInput("give either date, or from and to, not both", field="date")
    if start is not None and end is None:
        raise InvalidInput("a period needs its last day: to", field="to")
    if end is not None and start is None:
        raise InvalidInput("a period needs its first day: from", field="from")
    if start is not None and end is not None:
        if start > end:
            raise InvalidInput("from is after to", field="from")
        return Period(end, start)
    return Period(on or datetime.now(UTC).date())


def wants_csv(request: Request, format: Format | None) -> bool:
    if format is not None:
        return format == "csv"
    accept = request.headers.get("accept", "")
    return any(part.split(";")[0].strip().lower() == CSV for part in accept.split(","))


def csv_response(table: Table, filename: str) -> Response:
    return Response(
        table.as_csv().encode("utf-8"),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"', "Vary": "Accept"},
    )


def answer(request: Request, report: Report, table: str | None, format: Format | None) -> Response:
    tables = report.tables
    if table is not None:
        tables = [t for t in report.tables if t.name == table]
        if not tables:
            names = ", ".join(t.name for t in report.tables)
            raise InvalidInput(f"{report.topic} has no table {table!r}; its tables: {names}", field="table")
    if wants_csv(request, format):
        if len(tables) > 1:
            names = ", ".join(t.name for t in tables)
            raise InvalidInput(f"CSV holds one table: choose it with table ({names})", field="table")
        period = report.period
        span = f"{period.start}_{period.end}" if period.start else f"{period.end}"
        return csv_response(tables[0], f"{tables[0].name}-{span}")
    body = {
        "topic": report.topic,
        "period": report.period.as_json(),
        "archive_version": report.last_seq,
        "tables": [t.as_json() for t in tables],
    }
    return JSONResponse(body, headers={"Vary": "Accept"})


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_day(value: Any) -> Any:
    """Only ``YYYY-MM-DD``: pydantic's lax mode would take a number (``0``) as seconds since 1970."""
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


Day = Annotated[date | None, BeforeValidator(iso_day)]
DateQuery = Annotated[Day, Query(alias="date", description="The state as of the end of this day (UTC).")]
FromQuery = Annotated[Day, Query(alias="from", description="First day of a period (with `to`).")]
ToQuery = Annotated[Day, Query(alias="to", description="Last day of a period (with `from`).")]
FormatQuery = Annotated[
    Format | None, Query(description="`csv` for one table as CSV (or send `Accept: text/csv`); default JSON.")
]
TableQuery = Annotated[
    str | None, Query(max_length=64, pattern=r"^[a-z_]+$", description="Only this table (required for CSV).")
]

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}, "example": "tier,members\r\ncouncil_member,12\r\n"}}}
}


def _route(topic: str, summary: str) -> None:
    async def read(
        request: Request,
        principal: StatisticsReader,
        archive: ArchiveDep,
        on: DateQuery = None,
        start: FromQuery = None,
        end: ToQuery = None,
        format: FormatQuery = None,
        table: TableQuery = None,
    ) -> Response:
        require_statistics_reader(principal)
        report = await statistics(archive, topic, period_of(on, start, end))
        return answer(request, report, table, format)

    tables = ", ".join(f"`{t.name}`" for t in TOPICS[topic](Period(date(2026, 1, 1))).tables())
    router.add_api_route(
        f"/statistics/{topic}",
        read,
        methods=["GET"],
        name=f"{topic}_statistics",
        summary=summary,
        description=f"Tables: {tables}. JSON by default; one table as CSV with `format=csv&table=<name>`.",
        response_model=StatisticsPublic,
        responses=RESPONSES,
    )


_route("members", "Members by status, tier, segment and region; admissions and departures")
_route("patents", "Patents by office, segment and essentiality; in force by country")
_route("royalties", "Pool programmes, licences, and royalties reported, collected and distributed per quarter")
_route("standards", "Standards by stage, published and withdrawn per year, IPR declarations by commitment")
_route("training", "Training held: sessions, participants, certificates and credit hours")


class TopicPublic(BaseModel):
    topic: str
    url: str
    tables: list[dict[str, str]] = Field(description="each table's name and title")


class TopicsPublic(BaseModel):
    topics: list[TopicPublic]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "topics": [
                        {
                            "topic": "members",
                            "url": "/api/v1/integration/statistics/members",
                            "tables": [{"name": "members_by_tier", "title": "Members by tier"}],
                        }
                    ]
                }
            ]
        }
    }


@router.get("/statistics", response_model=TopicsPublic, summary="The statistics topics and their tables")
async def statistics_index(principal: StatisticsReader) -> dict[str, Any]:
    require_statistics_reader(principal)
    example = Period(date(2026, 1, 1))
    return {
        "topics": [
            {
                "topic": topic,
                "url": f"/api/v1/integration/statistics/{topic}",
                "tables": [{"name": t.name, "title": t.title} for t in fold(example).tables()],
            }
            for topic, fold in TOPICS.items()
        ]
    }
