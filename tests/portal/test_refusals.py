"""The API's refusals on Chinese pages (pure logic): known reasons in Chinese, the rest in English
behind a Chinese lead-in, English pages unchanged, and the English kept for pages that parse it."""

from __future__ import annotations

import pytest

from alliance_common.problems import field_errors
from portal import refusals
from portal.web import ApiProblem


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("field required", "name", "必填"),
        ("String should have at least 1 character", "name", "至少 1 个字符"),
        ("String should have at most 200 characters", "name", "最多 200 个字符"),
        ("String should match pattern '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'", "region", "须为 ISO 3166 地区代码，例如 CN-GD"),
        ("String should match pattern '^\\d{4}-Q[1-4]$'", "lines.3.period", "须为季度，例如 2026-Q1"),
        ("String should match pattern '^x$'", "something_else", "格式不正确"),
        ("String should match pattern '^[^@\\s]+@[^@\\s]+$'", "contact.email", "不是有效的电子邮箱地址"),
        (
            "value is not a valid email address: An email address must have an @-sign.",
            "contact.email",
            "不是有效的电子邮箱地址",
        ),
        ("Input should be 'enterprise', 'university' or 'research_institute'", "org_type", None),
        ("Input should be greater than or equal to 1", "capacity", "须不小于 1"),
        ("invalid unified social credit code: check character is 4, expected 3", "credit_code", "校验码为 4，应为 3"),
        ("the expiry date must be after the filing date", "expiry_date", "到期日须晚于申请日"),
        ("2026-Q3 is reported already; correct it with back-royalty lines", "period", None),
        ("line 2: US is outside the licensed territory", "country_of_sale", "第 2 行：US 不在许可地域内"),
    ],
)
def test_known_reasons_are_rendered_in_chinese(text: str, field: str, expected: str | None) -> None:
    rendered = refusals.reason(text, "zh", field)
    assert not rendered.startswith(refusals.LEAD_IN), rendered
    if expected is not None:
        assert rendered == expected
    assert refusals.reason(text, "en", field) == text  # English pages show the API's words


def test_choices_and_periods_keep_their_values() -> None:
    assert refusals.reason("Input should be 'enterprise', 'university' or 'research_institute'", "zh") == (
        "须为以下之一：enterprise、university、research_institute"
    )
    assert refusals.reason("2026-Q3 is reported already; correct it with back-royalty lines", "zh").startswith(
        "2026-Q3 的报告已提交"
    )


def test_an_unknown_reason_is_the_english_behind_a_chinese_lead_in() -> None:
    text = "this patent is in another programme's pool already"
    assert refusals.reason(text, "zh") == refusals.LEAD_IN + text
    assert refusals.reason("已是中文的说明", "zh") == "已是中文的说明"  # rendered already: left alone
    assert refusals.reason("", "zh") == ""


def test_a_validation_problem_from_the_shared_handler_is_rendered_field_by_field() -> None:
    # The same errors alliance_common's handler makes of a pydantic failure, then the problem the portal reads.
    errors = field_errors(
        [
            {"loc": ("body", "region"), "type": "string_pattern_mismatch", "msg": "String should match pattern '^x$'"},
            {
                "loc": ("body", "contact", "email"),
                "type": "value_error",
                "msg": "value is not a valid email address: x",
            },
        ]
    )
    body = {
        "title": "Invalid request",
        "status": 422,
        "detail": "; ".join(f"{e.field}: {e.reason}" for e in errors),
        "errors": [e.model_dump() for e in errors],
    }
    problem = ApiProblem.of(422, body)
    shown = refusals.localised(problem, "zh")
    assert shown.title == "请求有误"
    assert shown.errors == {"region": "须为 ISO 3166 地区代码，例如 CN-GD", "contact.email": "不是有效的电子邮箱地址"}
    assert shown.detail == "region：须为 ISO 3166 地区代码，例如 CN-GD；contact.email：不是有效的电子邮箱地址"
    assert refusals.english(shown) == problem  # what a page parses (the royalty lines) stays the API's
    assert refusals.localised(problem, "en") is problem


@pytest.mark.parametrize(
    ("status", "title", "expected"),
    [(409, "Conflict", "当前状态不允许此操作"), (422, "Invalid input", "输入有误"), (418, "Teapot", "操作未完成")],
)
def test_titles_by_the_apis_title_then_by_status(status: int, title: str, expected: str) -> None:
    problem = refusals.localised(ApiProblem(status, title, "a reason is required", {}), "zh")
    assert problem.title == expected
    assert problem.detail == "请填写原因"
