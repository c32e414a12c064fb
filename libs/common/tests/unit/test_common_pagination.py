"""Cursor pagination helpers."""

from __future__ import annotations

import pytest

from alliance_common.errors import InvalidInput
from alliance_common.pagination import after_filter, decode_cursor, encode_cursor, next_cursor


@pytest.mark.parametrize("last_id", ["org-1", "a", "XL-org-42", "会员-001", "a/b+c=d?e"])
def test_cursor_round_trips(last_id: str) -> None:
    assert decode_cursor(encode_cursor(last_id)) == last_id


def test_cursor_is_url_safe_without_padding() -> None:
    cursor = encode_cursor("a/b+c=d?e~~~")
    assert "=" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_decodes_to_none(cursor: str | None) -> None:
    assert decode_cursor(cursor) is None


@pytest.mark.parametrize("cursor", ["a", "abc", "not a cursor", "____", "/w"])
def test_garbage_cursor_is_invalid_input_on_cursor(cursor: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        decode_cursor(cursor)
    assert excinfo.value.field == "cursor"


def test_after_filter_without_cursor_is_the_base_filter() -> None:
    assert after_filter({"status": "active"}, None) == {"status": "active"}


def test_after_filter_adds_id_greater_than_the_cursor() -> None:
    base = {"status": "active"}
    assert after_filter(base, encode_cursor("org-5")) == {"status": "active", "_id": {"$gt": "org-5"}}
    assert base == {"status": "active"}


def test_after_filter_rejects_a_garbage_cursor() -> None:
    with pytest.raises(InvalidInput):
        after_filter({}, "abc")


def test_next_cursor_points_after_the_last_document_of_a_full_page() -> None:
    docs = [{"_id": "org-1"}, {"_id": "org-2"}]
    cursor = next_cursor(docs, limit=2)
    assert cursor is not None
    assert decode_cursor(cursor) == "org-2"


def test_next_cursor_is_none_on_a_short_page() -> None:
    assert next_cursor([{"_id": "org-1"}], limit=2) is None
    assert next_cursor([], limit=2) is None


def test_next_cursor_stringifies_non_string_ids() -> None:
    assert decode_cursor(next_cursor([{"_id": 7}], limit=1)) == "7"


@pytest.mark.parametrize("garbage", ["!!!!", "%%%", "~~~~", "b3JnLTU=!"])
def test_cursors_with_characters_outside_the_alphabet_are_refused(garbage: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(garbage)
    assert caught.value.field == "cursor"


def test_pages_over_children_kept_inside_parents_continue_where_they_stopped() -> None:
    from alliance_common.pagination import page_of_children, parent_from

    parents = [("a", [("1", "a1"), ("2", "a2")]), ("b", [("1", "b1")]), ("c", [("1", "c1"), ("2", "c2")])]
    first, cursor = page_of_children(parents, None, 3)
    assert first == ["a1", "a2", "b1"] and cursor is not None
    assert parent_from(cursor) == "b"
    rest = [p for p in parents if p[0] >= "b"]  # what the caller reads next: parents from the cursor's
    second, cursor = page_of_children(rest, cursor, 3)
    assert second == ["c1", "c2"] and cursor is None


def test_a_cursor_that_is_not_ascii_is_invalid_input_not_a_server_error() -> None:
    # Found by the contract fuzzer (issue 9): `?cursor=%C3%B6%F2%BC%84%A2M` was a 500 on every
    # list, because base64 refuses a str with non-ASCII characters with a plain ValueError.
    for cursor in ("öò¼\x84¢M", "é", "\U000803b9", "X0\x9d"):
        with pytest.raises(InvalidInput) as caught:
            decode_cursor(cursor)
        assert caught.value.field == "cursor"
