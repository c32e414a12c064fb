"""The change feed and the archive's event routes (``/api/v1/integration/changes``, ``.../events``).

Read with ``events:read`` (machine clients: the event types their other scopes allow, see
``integration.domain.feed``) or as the secretariat or the council (every event).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BeforeValidator

from alliance_common.auth import Principal, Reader, Scope
from alliance_common.errors import InvalidInput
from alliance_common.pagination import CursorParam, LimitParam, Page
from integration.domain.feed import EVENT_TYPE, parse_types
from integration.entrypoints.deps import ArchiveDep
from integration.entrypoints.schemas import ChangesPublic, EventPublic
from integration.service_layer import feed

router = APIRouter(prefix="/api/v1/integration", tags=["integration"])

EventsReader = Annotated[Principal, Reader(Scope.EVENTS_READ)]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TYPE_NAME = f"^{EVENT_TYPE.pattern}$"
TYPE_LIST = f"^{EVENT_TYPE.pattern}(,{EVENT_TYPE.pattern})*$"
# RFC 3339, as the document's `date-time` says: a number, a date alone or a time without its
# offset is refused (422 naming the parameter), not read as a Unix time or a local time.
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: object) -> object:
    if value is None or (isinstance(value, str) and RFC3339.fullmatch(value)):
        return value
    raise ValueError("an RFC 3339 date-time with its offset, e.g. 2026-03-01T00:00:00Z")


DateTimeParam = Annotated[datetime | None, BeforeValidator(_rfc3339)]


@router.get(
    "/changes",
    response_model=ChangesPublic,
    summary="The change feed: every archived event you may read, in archive order, after a cursor",
    description="Poll with the `cursor` of the previous answer as `after` (none: from the first event): no event "
    "is skipped or given twice. `types` narrows it to some event types, each of which your scopes must allow "
    "(machine clients: `events:read` with the scopes that name each type, see the service's README).",
)
async def changes(
    principal: EventsReader,
    archive: ArchiveDep,
    after: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern="^[A-Za-z0-9_-]+$",
            description="The `cursor` of the previous answer (none: from the start).",
        ),
    ] = None,
    types: Annotated[
        str | None,
        Query(
            max_length=5000,
            pattern=TYPE_LIST,
            description="Comma-separated event types, e.g. `alliance.membership.member.admitted.v1`.",
        ),
    ] = None,
    limit: LimitParam = 100,
) -> ChangesPublic:
    try:
        wanted = parse_types(types)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="types") from exc
    page = await feed.changes(archive, principal, after, wanted, limit)
    return ChangesPublic(items=[EventPublic.of(e) for e in page.items], cursor=page.cursor, more=page.more)


@router.get(
    "/events",
    response_model=Page[EventPublic],
    summary="The archive for auditors: events by type, subject and time, in archive order",
)
async def list_events(
    principal: EventsReader,
    archive: ArchiveDep,
    type: Annotated[  # noqa: A002 (the query parameter's public name)
        str | None, Query(max_length=200, pattern=TYPE_NAME, description="One event type.")
    ] = None,
    subject: Annotated[
        str | None, Query(max_length=200, description="The record the events are about (e.g. a member's id).")
    ] = None,
    since: Annotated[DateTimeParam, Query(description="Events that happened at or after this time.")] = None,
    until: Annotated[DateTimeParam, Query(description="Events that happened before this time.")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[EventPublic]:
    items, next_cursor = await feed.listing(
        archive,
        principal,
        type_=type,
        subject=subject,
        since=_utc(since),
        until=_utc(until),
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[EventPublic.of(e) for e in items], next_cursor=next_cursor)


@router.get("/events/{event_id}", response_model=EventPublic, summary="One archived event, by its CloudEvents id")
async def get_event(
    principal: EventsReader,
    archive: ArchiveDep,
    event_id: Annotated[str, Path(max_length=200, description="The event's CloudEvents id.")],
) -> EventPublic:
    return EventPublic.of(await feed.event(archive, principal, event_id))
