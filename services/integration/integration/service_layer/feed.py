"""The change feed and the archive's reads: who may read which events, and the feed's cursor.

The feed's cursor is the archive's sequence number of the last event a page returned (the
archive numbers events in the order it stored them, and its reads never pass a number before
every lower one is settled), so following ``cursor`` from page to page never skips or repeats an
event; an empty page returns the cursor it was given, to poll again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alliance_common.auth import Principal
from alliance_common.errors import Forbidden, InvalidInput, NotFound
from alliance_common.pagination import decode_cursor, encode_cursor
from integration.domain.archive import ArchivedEvent
from integration.domain.feed import SCOPE_TYPES, types_for_scopes
from integration.service_layer.ports import Archive

NOT_A_CURSOR = "not a cursor returned by this API"


def readable_types(principal: Principal) -> frozenset[str] | None:
    """The event types ``principal`` may read: None for every type (the secretariat and the council)."""
    if principal.kind != "machine":
        if principal.is_staff:
            return None
        raise Forbidden("the event archive is read by the secretariat, the council and agencies' clients")
    types = types_for_scopes(principal.scopes)
    if not types:
        raise Forbidden(
            "events:read shows the event types the token's other scopes allow, and it holds none of "
            + ", ".join(sorted(SCOPE_TYPES))
        )
    return types


def allowed(principal: Principal, requested: frozenset[str] | None, field: str) -> frozenset[str] | None:
    """The types to read: ``requested`` (None: all) within what ``principal`` may read."""
    readable = readable_types(principal)
    if readable is None:
        return requested
    if requested is None:
        return readable
    refused = sorted(requested - readable)
    if refused:
        raise Forbidden(f"the token's scopes do not let it read {', '.join(refused)} ({field})")
    return requested


def feed_cursor(seq: int) -> str:
    return encode_cursor(f"seq:{seq}")


def seq_of(cursor: str | None, field: str) -> int:
    """The sequence number a cursor stands for (0: from the start); a cursor not ours is a 422 naming ``field``."""
    if cursor is None:
        return 0
    try:
        decoded = decode_cursor(cursor)
    except InvalidInput as exc:
        raise InvalidInput(NOT_A_CURSOR, field=field) from exc
    kind, _, number = (decoded or "").partition(":")
    if kind != "seq" or not number.isdigit() or len(number) > 18 or feed_cursor(int(number)) != cursor:
        raise InvalidInput(NOT_A_CURSOR, field=field)
    return int(number)


@dataclass(frozen=True)
class Changes:
    items: list[ArchivedEvent]
    cursor: str  # where to go on from: the last item's, or the given one when there is none
    more: bool  # the page was full: there may be more at once


async def changes(
    archive: Archive, principal: Principal, after: str | None, types: frozenset[str] | None, limit: int
) -> Changes:
    after_seq = seq_of(after, "after")
    wanted = allowed(principal, types, "types")
    items = await archive.page(after_seq=after_seq, types=wanted, limit=limit)
    cursor = feed_cursor(items[-1].seq) if items else (after if after is not None else feed_cursor(0))
    return Changes(items=items, cursor=cursor, more=len(items) == limit)


async def event(archive: Archive, principal: Principal, event_id: str) -> ArchivedEvent:
    """One archived event; one the caller may not read is not found, like one that does not exist."""
    readable = readable_types(principal)
    found = await archive.by_ids([event_id])
    if not found or (readable is not None and found[0].type not in readable):
        raise NotFound(f"no event {event_id} in the archive")
    return found[0]


async def listing(
    archive: Archive,
    principal: Principal,
    *,
    type_: str | None,
    subject: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[ArchivedEvent], str | None]:
    """The auditors' listing: archive order, filtered; the next page's cursor, None on the last page."""
    if since is not None and until is not None and until <= since:
        raise InvalidInput("until must be after since", field="until")
    after_seq = seq_of(cursor, "cursor")
    wanted = allowed(principal, frozenset({type_}) if type_ is not None else None, "type")
    items = await archive.page(
        after_seq=after_seq, types=wanted, limit=limit, subject=subject, since=since, until=until
    )
    return items, feed_cursor(items[-1].seq) if len(items) == limit else None
