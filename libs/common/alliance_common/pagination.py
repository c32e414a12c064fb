"""Cursor pagination for every list: stable under inserts, no page drift, O(page) reads."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from alliance_common.errors import InvalidInput

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; absent on the last page.")

    # A page's example is built from its item model's: Page[X] documents X's first example.
    model_config = ConfigDict(json_schema_extra=lambda schema, cls: _page_examples(schema, cls))


def _page_examples(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    args = cls.__pydantic_generic_metadata__["args"]
    item = args[0] if args else None
    extra = (
        item.model_config.get("json_schema_extra") if isinstance(item, type) and issubclass(item, BaseModel) else None
    )
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if not isinstance(examples, list) or not examples:
        return
    first = examples[0]
    last_id = first.get("id") if isinstance(first, dict) else None
    schema["examples"] = [{"items": [first], "next_cursor": encode_cursor(str(last_id)) if last_id else None}]


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError, and a str that is not ASCII at all
        raise InvalidInput("not a cursor returned by this API", field="cursor") from exc
    # The decoder skips characters outside the alphabet: only an exact round trip is ours.
    if encode_cursor(decoded) != cursor:
        raise InvalidInput("not a cursor returned by this API", field="cursor")
    return decoded


CursorParam = Annotated[str | None, Query(description="Opaque cursor from the previous page's `next_cursor`.")]
LimitParam = Annotated[int, Query(ge=1, le=200, description="Page size (1-200).")]


def after_filter(base: dict[str, Any], cursor: str | None) -> dict[str, Any]:
    """Mongo filter for the page after ``cursor`` (lists are ordered by ``_id``)."""
    after = decode_cursor(cursor)
    return {**base, "_id": {"$gt": after}} if after is not None else base


def next_cursor(docs: list[dict[str, Any]], limit: int) -> str | None:
    return encode_cursor(str(docs[-1]["_id"])) if len(docs) == limit else None


def page_of_children(
    parents: list[tuple[str, list[tuple[str, T]]]], cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """A page over children kept inside parent documents (ordered parent id, then child order).

    ``parents`` are the parents from the cursor's parent onwards (``_id >= that``), each with
    its children as (child id, item). The cursor is "<parent id>/<child id>" of the last item.
    """
    after = decode_cursor(cursor)
    parent_after, _, child_after = after.partition("/") if after else ("", "", "")
    items: list[tuple[str, str, T]] = []
    for parent_id, children in parents:
        skipping = parent_id == parent_after and bool(child_after)
        for child_id, item in children:
            if skipping:
                skipping = child_id != child_after
                continue
            items.append((parent_id, child_id, item))
    page = items[:limit]
    more = len(items) > limit
    return [item for _, _, item in page], encode_cursor(f"{page[-1][0]}/{page[-1][1]}") if more and page else None


def parent_from(cursor: str | None) -> str | None:
    """The parent id a ``page_of_children`` cursor starts from."""
    after = decode_cursor(cursor)
    return after.partition("/")[0] if after else None
