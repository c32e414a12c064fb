"""The API's refusals in Chinese: its problem details (RFC 9457) are written in English, so a page in
Chinese shows a Chinese rendering of the common ones and, for the rest, the English text behind a
Chinese lead-in saying that it is the platform's own words.

Every problem the services answer has ``type`` ``about:blank``, so the title is rendered by the
API's title (or, unknown, by the status), and each reason by the field it names and its text: the
exact reasons and the patterns below (pydantic's validation messages, the credit code's checks and
the refusals people meet on the portal's forms). Text that is already Chinese is left as it is
(a page may render a problem it was given again).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from portal.web import ApiProblem

LEAD_IN = "平台说明（英文原文）："

TITLES = {
    "Invalid request": "请求有误",
    "Invalid input": "输入有误",
    "Bad request": "请求有误",
    "Conflict": "当前状态不允许此操作",
    "Not found": "未找到",
    "Forbidden": "无权操作",
    "Payload too large": "内容过大",
    "Request entity too large": "内容过大",
    "Unprocessable content": "输入有误",
    "Unprocessable entity": "输入有误",
}
STATUS_TITLES = {400: "请求有误", 409: "当前状态不允许此操作", 413: "内容过大", 415: "请求格式有误", 422: "输入有误"}

# Exact reasons (the API's own words, case-insensitive).
REASONS = {
    "field required": "必填",
    "unknown field": "不是此表单的字段",
    "a reason is required": "请填写原因",
    "a written reason is required": "请填写书面原因",
    "a reason is required to reject": "拒绝时须填写原因",
    "a reason is required to request changes or reject": "要求修改或拒绝时须填写原因",
    "a rejection needs a reason": "拒绝须说明原因",
    "a disapproval needs a reason": "反对须说明原因",
    "name at least one industry-chain segment": "请至少选择一个产业环节",
    "name at least one attendee": "请至少填写一名学员",
    "the expiry date must be after the filing date": "到期日须晚于申请日",
    "the grant date must lie between filing and expiry": "授权日须在申请日与到期日之间",
    "a pending application has no grant date": "审查中的专利申请没有授权日",
    "a patent number is required": "请填写专利号",
    "a session must start in the future": "课程开始时间须在将来",
    "a session needs at least one place": "课程至少须有一个名额",
    "an in-person session needs a venue": "线下课程须填写地点",
    "must be after starts_at": "须晚于开始时间",
    "registration must open before it closes": "报名开始时间须早于截止时间",
    "registration must close no later than the start": "报名截止时间不得晚于课程开始",
    "the member price may not exceed the non-member price": "会员价不得高于非会员价",
    "the ballot must close in the future": "投票截止时间须在将来",
    "a payment cannot be received in the future": "收款日期不能是将来的日期",
    "a payment must be a positive amount": "付款金额须为正数",
    "a period is a year and a quarter 1–4, e.g. 2025-Q1": "季度格式为年份加 1–4 季度，例如 2025-Q1",
    "your account is not linked to a member organisation": "您的账号未关联会员单位",
    "this programme has no published rate schedule yet": "该计划尚未公布费率表",
    "you have an open application with this credit code already": "您已用此信用代码提交过申请，尚在处理中",
    "the session is full": "课程名额已满",
    "must be a number, not true or false": "须为数字",
    "must be true or false": "须为“是”或“否”",
    "must be an integer, not a string": "须为整数",
    "must be a date or date-time string": "须为日期或日期时间",
}


def _choices(text: str) -> str:
    return "、".join(part.strip(" '\"") for part in re.split(r",|\bor\b", text) if part.strip(" '\""))


# (pattern, rendering): the first that matches the whole reason wins.
PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"String should have at least (\d+) characters?", re.I), lambda m: f"至少 {m[1]} 个字符"),
    (re.compile(r"String should have at most (\d+) characters?", re.I), lambda m: f"最多 {m[1]} 个字符"),
    (re.compile(r"String should match pattern .*", re.I), lambda m: "格式不正确"),
    (re.compile(r"value is not a valid email address.*", re.I | re.S), lambda m: "不是有效的电子邮箱地址"),
    (re.compile(r"Input should be a valid date.*", re.I | re.S), lambda m: "不是有效的日期"),
    (re.compile(r"Input should be a valid datetime.*", re.I | re.S), lambda m: "不是有效的日期时间"),
    (re.compile(r"Input should be a valid integer.*", re.I | re.S), lambda m: "须为整数"),
    (re.compile(r"Input should be a valid (number|decimal).*", re.I | re.S), lambda m: "须为数字"),
    (re.compile(r"Input should be a valid (string|list|dictionary).*", re.I | re.S), lambda m: "格式不正确"),
    (re.compile(r"Input should be greater than or equal to (\S+)", re.I), lambda m: f"须不小于 {m[1]}"),
    (re.compile(r"Input should be greater than (\S+)", re.I), lambda m: f"须大于 {m[1]}"),
    (re.compile(r"Input should be less than or equal to (\S+)", re.I), lambda m: f"须不大于 {m[1]}"),
    (re.compile(r"Input should be less than (\S+)", re.I), lambda m: f"须小于 {m[1]}"),
    (re.compile(r"Input should be (('[^']*'(, | or )?)+)", re.I), lambda m: f"须为以下之一：{_choices(m[1])}"),
    (re.compile(r"List should have at least (\d+) items?.*", re.I), lambda m: f"至少 {m[1]} 项"),
    (re.compile(r"List should have at most (\d+) items?.*", re.I), lambda m: f"最多 {m[1]} 项"),
    (
        re.compile(r"Decimal input should have no more than (\d+) decimal places?", re.I),
        lambda m: f"最多 {m[1]} 位小数",
    ),
    # the unified social credit code (membership's checks, as portal.creditcode words them in Chinese)
    (
        re.compile(r"(?:invalid unified social credit code: )?must be 18 characters, got (\d+)"),
        lambda m: f"应为 18 位，实际 {m[1]} 位",
    ),
    (
        re.compile(r"(?:invalid unified social credit code: )?contains characters outside the code alphabet: (\S+)"),
        lambda m: f"含有代码字符集以外的字符：{m[1]}",
    ),
    (
        re.compile(r"(?:invalid unified social credit code: )?check character is (\w), expected (\w)"),
        lambda m: f"校验码为 {m[1]}，应为 {m[2]}",
    ),
    (
        re.compile(
            r"(?:invalid unified social credit code: )?the organisation code \(characters 9-17\) fails its check"
        ),
        lambda m: "组织机构代码（第 9–17 位）校验位不符",
    ),
    (re.compile(r"'?([A-Za-z]{2})'? is not an ISO 3166-1 alpha-2 country code"), lambda m: f"“{m[1]}”不是两位国家代码"),
    (re.compile(r"(\d{4}-Q[1-4]) is reported already.*"), lambda m: f"{m[1]} 的报告已提交；如需更正请补报"),
    (re.compile(r"(\d{4}-Q[1-4]) has not ended yet"), lambda m: f"{m[1]} 尚未结束"),
    (
        re.compile(r"line (\d+): (\w{2}) is outside the licensed territory"),
        lambda m: f"第 {m[1]} 行：{m[2]} 不在许可地域内",
    ),
    (re.compile(r"(\S+@\S+) is named twice"), lambda m: f"{m[1]} 填写了两次"),
]

# What a field's format is, for a reason that says only that the value does not match the pattern.
FORMATS = {
    "email": "不是有效的电子邮箱地址",
    "attendee_email": "不是有效的电子邮箱地址",
    "region": "须为 ISO 3166 地区代码，例如 CN-GD",
    "credit_code": "须为 18 位统一社会信用代码",
    "period": "须为季度，例如 2026-Q1",
    "country_of_sale": "须为两位国家代码，例如 CN",
    "country_of_manufacture": "须为两位国家代码，例如 CN",
    "territory": "须为两位国家代码，例如 CN",
}
PATTERN_REASON = re.compile(r"String should match pattern .*", re.I)

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def _known(text: str) -> str | None:
    stripped = text.strip().rstrip(".")
    exact = REASONS.get(stripped.lower())
    if exact is not None:
        return exact
    for pattern, rendering in PATTERNS:
        found = pattern.fullmatch(stripped)
        if found is not None:
            return rendering(found)
    return None


def known_reason(text: str, field: str | None = None) -> str | None:
    """The Chinese for one of the API's reasons about ``field``, or None when the portal knows no rendering."""
    if field is not None and PATTERN_REASON.fullmatch(text.strip()):
        last = re.sub(r"^.*\.", "", re.sub(r"(\.\d+)+$", "", field))  # lines.0.period -> period
        if last in FORMATS:
            return FORMATS[last]
    return _known(text)


def reason(text: str, lang: str, field: str | None = None) -> str:
    """``text`` (one of the API's reasons or details, about ``field``) for a page in ``lang``."""
    if lang != "zh" or not text or CJK.search(text):
        return text
    known = known_reason(text, field)
    if known is not None:
        return known
    parts = [part.partition(": ") for part in text.split("; ")]
    if all(sep and re.fullmatch(r"[\w.]+", name) for name, sep, _ in parts):
        rendered = [(name, known_reason(rest, name)) for name, _, rest in parts]  # a validation problem's fields
        if all(zh is not None for _, zh in rendered):
            return "；".join(f"{name}：{zh}" for name, zh in rendered)
    return LEAD_IN + text


def title(problem: ApiProblem, lang: str) -> str:
    if lang != "zh" or CJK.search(problem.title):
        return problem.title
    return TITLES.get(problem.title) or STATUS_TITLES.get(problem.status) or "操作未完成"


@dataclass
class Localised(ApiProblem):
    """A problem in the page's language, with the API's own (English) one: what a page parses."""

    english: ApiProblem | None = None


def localised(problem: ApiProblem, lang: str) -> ApiProblem:
    """The problem as a page in ``lang`` shows it (the same problem in English)."""
    if lang != "zh":
        return problem
    errors = {name: reason(text, lang, name) for name, text in problem.errors.items()}
    return Localised(problem.status, title(problem, lang), reason(problem.detail, lang), errors, english(problem))


def english(problem: ApiProblem) -> ApiProblem:
    """The API's own words of a (possibly localised) problem, for a page that reads them (line numbers)."""
    return problem.english or problem if isinstance(problem, Localised) else problem
