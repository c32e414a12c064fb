"""Open data routes: ``/api/v1/integration/opendata`` (the catalogue) and ``.../opendata/{dataset}``.

No token: anyone may read them (the gateway lets them through without one and rate-limits the
caller by address). Every answer carries an ``ETag`` naming exactly the content (the archive's
version, the date, the dataset and its format) and ``Cache-Control``; a request whose
``If-None-Match`` holds the current tag gets 304 without the archive being scanned.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from alliance_common.errors import NotFound
from integration.domain.opendata import DATASETS, LICENCE, catalogue
from integration.entrypoints.deps import ArchiveDep
from integration.entrypoints.statistics import CSV, CSV_MEDIA_TYPE, FormatQuery, wants_csv
from integration.service_layer.opendata import OpenData

router = APIRouter(prefix="/api/v1/integration", tags=["open data"])

BASE = "/api/v1/integration/opendata"
CACHE_CONTROL = "public, max-age=300"  # five minutes fresh, then revalidated with If-None-Match
ANONYMOUS: dict[str, Any] = {"security": []}  # documented as needing no token


class DatasetPublic(BaseModel):
    name: str
    title: str
    licence: dict[str, str]
    as_of: str = Field(description="the day (UTC) the dataset is as of")
    archive_version: int
    columns: list[dict[str, str]] = Field(description="each field: name, type and description")
    rows: list[dict[str, Any]] = Field(description="one object per row, keyed by field name")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "members",
                    "title": "Member directory",
                    "licence": dict(LICENCE),
                    "as_of": "2026-11-27",
                    "archive_version": 1842,
                    "columns": [{"name": "name", "type": "string", "description": "the organisation's name"}],
                    "rows": [
                        {
                            "name": "Xiamen Huaxing Epitaxy Co., Ltd.",
                            "tier": "council_member",
                            "region": "CN-FJ",
                            "segments": "epitaxy; chip",
                            "member_since": "2026-01-05",
                        }
                    ],
                }
            ]
        }
    }


class CataloguePublic(BaseModel):
    title: str
    publisher: str
    licence: dict[str, str]
    datasets: list[dict[str, Any]] = Field(
        description="each dataset: name, title, description, licence, update frequency, fields and distributions"
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "title": "The alliance's open data",
                    "publisher": "The alliance's secretariat",
                    "licence": dict(LICENCE),
                    "datasets": [
                        {
                            "name": "members",
                            "title": "Member directory",
                            "update_frequency": "continuous",
                            "fields": [{"name": "name", "type": "string", "description": "the organisation's name"}],
                            "distributions": [
                                {"format": "csv", "media_type": "text/csv", "url": f"{BASE}/members?format=csv"}
                            ],
                        }
                    ],
                }
            ]
        }
    }


def open_data(request: Request) -> OpenData:
    """The process's open-data builder (kept on the app: it remembers the last table per dataset)."""
    state = request.app.state
    built: OpenData | None = getattr(state, "opendata", None)
    if built is None:
        built = state.opendata = OpenData()
    return built


def matches(if_none_match: str | None, tag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or a list of tags, compared weakly (a ``W/`` prefix ignored)."""
    if if_none_match is None:
        return False
    candidates = [t.strip() for t in if_none_match.split(",")]
    return any(c == "*" or c.removeprefix("W/") == tag for c in candidates)


def cached(request: Request, tag: str, make: Any) -> Response:
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept"}
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    response: Response = make()
    response.headers.update(headers)
    return response


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}}}},
    304: {"description": "Not modified: the `If-None-Match` tag is current"},
}

DatasetName = Annotated[str, Path(max_length=40, pattern=r"^[a-z-]+$", description=f"One of: {', '.join(DATASETS)}.")]


@router.get(
    "/opendata",
    summary="The open-data catalogue: each dataset's fields, licence, update frequency and links (no token)",
    response_model=CataloguePublic,
    openapi_extra=ANONYMOUS,
    responses={304: RESPONSES[304]},
)
async def opendata_catalogue(request: Request) -> Response:
    document = catalogue(BASE)
    body = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
    tag = '"catalogue.' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return cached(request, tag, lambda: Response(body, media_type="application/json"))


@router.get(
    "/opendata/{dataset}",
    response_model=DatasetPublic,
    summary="One open dataset as JSON, or CSV with `format=csv` or `Accept: text/csv` (no token)",
    openapi_extra=ANONYMOUS,
    responses=RESPONSES,
)
async def opendata_dataset(
    request: Request,
    archive: ArchiveDep,
    dataset: DatasetName,
    format: FormatQuery = None,
) -> Response:
    if dataset not in DATASETS:
        raise NotFound(f"no dataset {dataset!r}; the catalogue at {BASE} lists them: {', '.join(DATASETS)}")
    csv = wants_csv(request, format)
    builder = open_data(request)
    version = await builder.version(archive, datetime.now(UTC).date())
    tag = version.tag(dataset, "csv" if csv else "json")
    if matches(request.headers.get("if-none-match"), tag):
        return cached(request, tag, Response)  # answered without building anything
    table = await builder.dataset(archive, dataset, version)
    if csv:
        filename = f"{dataset}-{version.today}.csv"
        return cached(
            request,
            tag,
            lambda: Response(
                table.as_csv().encode("utf-8"),
                media_type=CSV_MEDIA_TYPE,
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            ),
        )
    body = {
        "name": dataset,
        "title": table.title,
        "licence": LICENCE,
        "as_of": version.today.isoformat(),
        "archive_version": version.last_seq,
        "columns": [c.as_json() for c in table.columns],
        "rows": table.records(),
    }
    return cached(request, tag, lambda: JSONResponse(body))
