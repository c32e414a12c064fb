"""Validation errors become named fields with plain reasons."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from alliance_common.problems import FieldError, Problem, RequestModel, field_errors


class ContactBody(RequestModel):
    name: str
    email: str


class ApplicationBody(RequestModel):
    name: str
    contact: ContactBody


def test_extra_forbidden_is_reported_as_unknown_field() -> None:
    errors = [{"type": "extra_forbidden", "loc": ("body", "nickname"), "msg": "Extra inputs are not permitted"}]
    assert field_errors(errors) == [FieldError(field="nickname", reason="unknown field")]


def test_missing_is_reported_as_field_required() -> None:
    errors = [{"type": "missing", "loc": ("body", "contact", "email"), "msg": "Field required"}]
    assert field_errors(errors) == [FieldError(field="contact.email", reason="field required")]


def test_other_errors_keep_pydantic_message() -> None:
    errors = [{"type": "string_too_short", "loc": ("body", "name"), "msg": "String should have at least 1 character"}]
    assert field_errors(errors) == [FieldError(field="name", reason="String should have at least 1 character")]


def test_an_error_without_message_or_type_is_invalid() -> None:
    assert field_errors([{"loc": ("body", "name")}]) == [FieldError(field="name", reason="invalid")]


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (("body", "segments", 0), "segments.0"),
        (("query", "limit"), "limit"),
        (("path", "org_id"), "org_id"),
        (("header", "x-request-id"), "x-request-id"),
        (("cookie", "session"), "session"),
        (("contact", "name"), "contact.name"),
    ],
)
def test_the_location_prefix_is_stripped_and_parts_joined_with_dots(loc: tuple[object, ...], field: str) -> None:
    assert field_errors([{"type": "missing", "loc": loc}])[0].field == field


def test_an_error_on_the_whole_body_is_named_body() -> None:
    errors = [{"type": "model_type", "loc": ("body",), "msg": "Input should be an object"}]
    assert field_errors(errors)[0].field == "body"


def test_an_error_without_location_is_named_body() -> None:
    assert field_errors([{"type": "missing", "msg": "x"}])[0].field == "body"


def test_every_pydantic_error_of_a_request_model_is_mapped() -> None:
    with pytest.raises(ValidationError) as excinfo:
        ApplicationBody.model_validate({"contact": {"name": "Chen"}, "colour": "blue"})
    mapped = {(e.field, e.reason) for e in field_errors(list(excinfo.value.errors()))}
    assert mapped == {("name", "field required"), ("contact.email", "field required"), ("colour", "unknown field")}


def test_request_models_trim_strings() -> None:
    assert ContactBody(name="  Chen  ", email=" c@example.com").name == "Chen"


def test_problem_leaves_out_absent_members() -> None:
    body = Problem(title="Conflict", status=409, detail="full").model_dump(exclude_none=True)
    assert body == {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "full"}


def test_request_bodies_take_scalars_only_in_their_published_json_types() -> None:
    # Found by the contract fuzzer: pydantic's lax mode took `0` as a date-time (1970) and
    # `false` as the integer 0, where the document says a date-time string and an integer.
    from datetime import datetime

    from pydantic import AwareDatetime, ValidationError

    from alliance_common.problems import RequestModel

    class Tier(RequestModel):
        up_to: int | None = None

    class Body(RequestModel):
        count: int = 0
        flag: bool = False
        when: AwareDatetime | None = None
        day: datetime | None = None
        tiers: list[Tier] = []

    ok = Body.model_validate({"count": 3, "flag": True, "when": "2027-03-10T01:00:00Z", "tiers": [{"up_to": 5}]})
    assert ok.count == 3 and ok.flag is True and ok.tiers[0].up_to == 5
    for bad, field in [
        ({"count": False}, "count"),
        ({"count": "7"}, "count"),
        ({"flag": 1}, "flag"),
        ({"flag": "yes"}, "flag"),
        ({"when": 0}, "when"),
        ({"day": 1.5}, "day"),
        ({"tiers": [{"up_to": True}]}, "up_to"),
    ]:
        try:
            Body.model_validate(bad)
        except ValidationError as exc:
            assert exc.errors()[0]["loc"][-1] == field, (bad, exc.errors())
        else:
            raise AssertionError(f"{bad} was accepted")


def test_text_the_store_cannot_hold_is_refused_in_any_field() -> None:
    # Found by the contract fuzzer: a NUL character (or a lone surrogate) reached the store, a 500.
    from pydantic import ValidationError

    from alliance_common.problems import RequestModel, text_problem

    class Contact(RequestModel):
        name: str

    class Body(RequestModel):
        title: str = "ok"
        tags: list[str] = []
        rates: dict[str, int] = {}
        contact: Contact | None = None

    assert text_problem("Zhou Jie 周杰") is None
    for bad in ({"title": "a\x00b"}, {"tags": ["\ud800"]}, {"rates": {"\x00": 1}}, {"contact": {"name": "\x00"}}):
        try:
            Body.model_validate(bad)
        except ValidationError as exc:
            assert "NUL" in str(exc) or "surrogate" in str(exc), exc
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_a_validators_reason_is_given_without_pydantics_prefix() -> None:
    from pydantic import ValidationError

    from alliance_common.problems import RequestModel, field_errors

    class Body(RequestModel):
        title: str

    try:
        Body.model_validate({"title": "a\x00"})
    except ValidationError as exc:
        assert [(e.field, e.reason) for e in field_errors(list(exc.errors()))] == [
            ("title", "must not contain NUL characters")
        ]
    else:
        raise AssertionError("accepted")
