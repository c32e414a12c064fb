"""Quarterly royalty reports: filing one (a form of sales lines, or a CSV file of them), the
licensee's reports with their invoices, and one report with every line's explanation.

A CSV upload is read and checked in the portal first: every bad line is named (line number,
column, reason) and nothing is sent while any line is bad. A good file is then filed in the
background while a progress page (refreshing itself, no script needed) shows how far it got; the
API's refusals come back mapped to the file's line numbers.

Filing jobs are kept in the portal's database (``portal.upload_jobs``): any replica shows a job's
progress, and a job whose replica stopped is resumed by the next look at its progress page.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from portal import refusals, royaltycsv
from portal.api import Api, api_of
from portal.i18n import Catalogue
from portal.pages.licences import INTERNAL_PROGRAMME, licensing_person, may_file, programme_names
from portal.royaltycsv import Problem
from portal.upload_jobs import Job, JobStore, Outcome
from portal.web import (
    ApiProblem,
    NotAllowed,
    PageNotFound,
    SignInRequired,
    Unavailable,
    lang_of,
    page_router,
    pager,
    redirect,
    register_nav,
    render,
    require_user,
)

router = page_router()
LINES_PER_PAGE = 25
FORM_ROWS = 3  # empty rows the form starts with
FORM_ROWS_MAX = 50  # more lines than this: upload a CSV file

MESSAGES = Catalogue(
    {
        "en": {
            "title": "Royalty reports",
            "intro": "Your organisation's quarterly royalty reports and their invoices.",
            "intro_staff": "Every licensee's royalty reports and their invoices.",
            "file_new": "File a quarterly report",
            "none": "No royalty reports have been filed yet.",
            "programme": "Programme",
            "period": "Quarter",
            "filed_on": "Filed",
            "filed_late": "filed late",
            "total": "Amount due",
            "due_on": "Due by",
            "paid": "Paid",
            "interest": "Late interest",
            "outstanding": "Outstanding",
            "settled": "Settled",
            "open_amount": "Open",
            "open": "Details",
            "licensee": "Licensee",
            "report_title": "Royalty report {period}",
            "invoice": "Invoice",
            "filed_notice": "The report was filed. Its invoice is below.",
            "lines": "Sales lines and how each amount was computed",
            "line": "Line",
            "category": "Product category",
            "units": "Units",
            "made_in": "Made in",
            "sold_in": "Sold in",
            "amount": "Amount",
            "explanation": "Explanation",
            "patents_covering": "patents in force: {count}",
            "you": "you",
            "no_steps": "No royalty is due on this line.",
            "history": "History",
            "when": "When",
            "action": "What",
            "by": "By",
            "detail": "Detail",
            "lines_page": "Lines {first}–{last} of {count}",
            "back": "All reports",
            "new_title": "File a quarterly royalty report",
            "new_intro": (
                "Report the units you sold in a quarter that has ended. Type the"
                " lines in below, or upload them as a CSV file."
            ),
            "cannot_file": "Only a licensee or a member organisation files its own reports.",
            "no_programmes": "Your organisation holds no licence to a programme yet, so there is nothing to report.",
            "by_form": "Type the lines in",
            "by_file": "Upload a CSV file",
            "period_hint": "The quarter, e.g. {example}.",
            "line_n": "Line {n}",
            "add_line": "Add a line",
            "sold_on_label": "Day of sale (optional)",
            "file_button": "File the report",
            "upload_button": "Check the file and file the report",
            "file": "CSV file of sales lines",
            "file_hint": "UTF-8 (a spreadsheet's “CSV UTF-8”), comma-separated, at most 1,000 lines.",
            "columns": "The file's columns",
            "columns_intro": (
                "The first line names the columns, in any order; the line numbers below count it as line 1."
            ),
            "optional_col": "optional",
            "required_col": "required",
            "col.product_category": "The rate schedule's product category, e.g. led_package.",
            "col.units": "Units sold: a whole number (thousands separators allowed).",
            "col.country_of_manufacture": "Where the products were made: a two-letter ISO code, e.g. CN.",
            "col.country_of_sale": "Where they were sold: a two-letter ISO code, inside the licensed territory.",
            "col.period": (
                "Only for a correction of an earlier quarter (back royalties),"
                " e.g. 2026-Q1. Empty: the report's quarter."
            ),
            "col.sold_on": "The day of sale (YYYY-MM-DD), in the line's quarter. May be empty.",
            "example": "Example",
            "problems_title": "Nothing was filed. Problems found: {count}",
            "problems_intro": "Correct these lines and upload the file again.",
            "form_problems": "Nothing was filed. Please correct the lines marked below.",
            "problem_line": "Line",
            "problem_column": "Column",
            "problem_reason": "Problem",
            "whole_file": "whole file",
            "whole_report": "report",
            "required_field": "Required.",
            "progress_title": "Filing your report",
            "progress_checked": "{count} lines read and checked in the portal.",
            "progress_sending": "Sending them to the licensing service, which computes every line's amount…",
            "progress_refresh": "This page refreshes by itself. You may also reload it.",
            "progress_refused": "The licensing service refused the report. Nothing was filed.",
            "progress_failed": "The licensing service did not answer. Nothing was filed; please try again later.",
            "progress_forbidden": "Your account may not file reports for this programme.",
            "progress_gone": "This filing is no longer known to the portal. Look for the report in your reports.",
            "upload_again": "Upload a corrected file",
            "done": "done",
            "step_check": "Read and check the lines",
            "step_file": "File with the licensing service",
            "step_invoice": "Invoice",
            "required": "required",
            "too_long": "at most {most} characters",
            "not_whole": "“{value}” is not a whole number of units",
            "too_many_units": "at most {most} units",
            "bad_country": "“{value}” is not a two-letter country code such as CN",
            "outside_territory": "{value} is outside the licensed territory ({territory})",
            "bad_period": "“{value}” is not a quarter such as 2026-Q1",
            "period_after": "{value} is after the reported quarter {report}",
            "bad_date": "“{value}” is not a date such as 2026-08-14",
            "date_outside": "{value} is not in {period}",
            "file_too_big": "the file is larger than {most}",
            "not_utf8": "the file is not UTF-8 text (save it as “CSV UTF-8”)",
            "unknown_column": "column {position} “{column}” is not one of the columns below",
            "repeated_column": "the column appears twice",
            "missing_column": "the column is missing from the first line",
            "cell_count": "{found} cells where the first line has {expected} columns",
            "bad_csv": "not readable as CSV: {reason}",
            "empty_file": "the file is empty",
            "no_lines": "the file has no sales lines",
            "too_many_lines": "{found} lines: a report has at most {most} (file the rest by region or category)",
            "unknown_category": "“{value}” is not a product category of this programme ({known})",
            "choose_programme": "Choose a programme you hold a licence to.",
            "no_file": "Choose a CSV file.",
            "no_form_lines": "Fill in at least one line.",
        },
        "zh": {
            "title": "许可费报告",
            "intro": "贵单位的季度许可费报告及其账单。",
            "intro_staff": "所有被许可方的许可费报告及其账单。",
            "file_new": "提交季度报告",
            "none": "尚未提交任何许可费报告。",
            "programme": "许可计划",
            "period": "季度",
            "filed_on": "提交日期",
            "filed_late": "逾期提交",
            "total": "应付金额",
            "due_on": "付款期限",
            "paid": "已付",
            "interest": "逾期利息",
            "outstanding": "未付余额",
            "settled": "已结清",
            "open_amount": "未结清",
            "open": "详情",
            "licensee": "被许可方",
            "report_title": "{period} 许可费报告",
            "invoice": "账单",
            "filed_notice": "报告已提交，账单见下方。",
            "lines": "销售明细及每行金额的计算说明",
            "line": "行",
            "category": "产品类别",
            "units": "数量",
            "made_in": "制造国",
            "sold_in": "销售国",
            "amount": "金额",
            "explanation": "计算说明",
            "patents_covering": "有效专利：{count} 项",
            "you": "您本人",
            "no_steps": "此行无需支付许可费。",
            "history": "记录",
            "when": "时间",
            "action": "事项",
            "by": "操作人",
            "detail": "详情",
            "lines_page": "第 {first}–{last} 行，共 {count} 行",
            "back": "全部报告",
            "new_title": "提交季度许可费报告",
            "new_intro": "申报已结束季度内的销售数量。可在下方逐行填写，或上传 CSV 文件。",
            "cannot_file": "只有被许可方或会员单位可以提交本单位的报告。",
            "no_programmes": "贵单位尚未持有任何许可计划的许可，无需申报。",
            "by_form": "逐行填写",
            "by_file": "上传 CSV 文件",
            "period_hint": "季度，例如 {example}。",
            "line_n": "第 {n} 行",
            "add_line": "添加一行",
            "sold_on_label": "销售日期（选填）",
            "file_button": "提交报告",
            "upload_button": "检查文件并提交报告",
            "file": "销售明细 CSV 文件",
            "file_hint": "UTF-8 编码（表格软件中的“CSV UTF-8”），逗号分隔，最多 1,000 行。",
            "columns": "文件的列",
            "columns_intro": "第一行为列名，顺序不限；下文的行号将其计为第 1 行。",
            "optional_col": "选填",
            "required_col": "必填",
            "col.product_category": "费率表中的产品类别，例如 led_package。",
            "col.units": "销售数量：整数（可含千位分隔符）。",
            "col.country_of_manufacture": "制造国：两位 ISO 国家代码，例如 CN。",
            "col.country_of_sale": "销售国：两位 ISO 国家代码，须在许可地域内。",
            "col.period": "仅用于补报以前季度（补缴许可费），例如 2026-Q1。留空：报告所属季度。",
            "col.sold_on": "销售日期（YYYY-MM-DD），须在该行所属季度内。可留空。",
            "example": "示例",
            "problems_title": "未提交任何内容。发现问题：{count} 处",
            "problems_intro": "请更正以下各行后重新上传文件。",
            "form_problems": "未提交任何内容，请更正下面标出的行。",
            "problem_line": "行号",
            "problem_column": "列",
            "problem_reason": "问题",
            "whole_file": "整个文件",
            "whole_report": "报告",
            "required_field": "必填。",
            "progress_title": "正在提交报告",
            "progress_checked": "门户已读取并检查 {count} 行。",
            "progress_sending": "正在发送至许可服务，由其计算每行金额……",
            "progress_refresh": "本页会自动刷新，也可手动刷新。",
            "progress_refused": "许可服务拒绝了该报告，未提交任何内容。",
            "progress_failed": "许可服务没有响应，未提交任何内容，请稍后再试。",
            "progress_forbidden": "您的账号无权为此计划提交报告。",
            "progress_gone": "门户已不记得这次提交，请在报告列表中查找。",
            "upload_again": "上传更正后的文件",
            "done": "完成",
            "step_check": "读取并检查各行",
            "step_file": "提交至许可服务",
            "step_invoice": "账单",
            "required": "必填",
            "too_long": "最多 {most} 个字符",
            "not_whole": "“{value}”不是整数数量",
            "too_many_units": "最多 {most} 件",
            "bad_country": "“{value}”不是两位国家代码（例如 CN）",
            "outside_territory": "{value} 不在许可地域内（{territory}）",
            "bad_period": "“{value}”不是季度（例如 2026-Q1）",
            "period_after": "{value} 晚于报告季度 {report}",
            "bad_date": "“{value}”不是日期（例如 2026-08-14）",
            "date_outside": "{value} 不在 {period} 内",
            "file_too_big": "文件大于 {most}",
            "not_utf8": "文件不是 UTF-8 文本（请另存为“CSV UTF-8”）",
            "unknown_column": "第 {position} 列“{column}”不是下列列名之一",
            "repeated_column": "该列出现了两次",
            "missing_column": "第一行缺少该列",
            "cell_count": "有 {found} 个单元格，而第一行有 {expected} 列",
            "bad_csv": "无法按 CSV 读取：{reason}",
            "empty_file": "文件为空",
            "no_lines": "文件中没有销售明细",
            "too_many_lines": "共 {found} 行：一份报告最多 {most} 行（请按地区或类别汇总）",
            "unknown_category": "“{value}”不是此计划的产品类别（{known}）",
            "choose_programme": "请选择您持有许可的计划。",
            "no_file": "请选择 CSV 文件。",
            "no_form_lines": "请至少填写一行。",
        },
    }
)
register_nav("/reports", "Royalty reports", "许可费报告", licensing_person, order=41)

FORM_COLUMNS = royaltycsv.COLUMNS[:4] + ("sold_on",)  # the form leaves back-royalty periods to the file


def previous_quarter(today: date) -> str:
    end = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1)
    return f"{end.year}-Q{(end.month - 1) // 3 + 1}"


def reason_of(problem: Problem, lang: str) -> str:
    if problem.key == "api":  # the API's own words (English), as the page's language shows them
        return refusals.reason(problem.text, lang)
    return MESSAGES.get(lang, problem.key).format(column=problem.column, **problem.values)


# --- filing jobs (a CSV upload's progress page) --------------------------------------------------


def jobs_of(request: Request) -> JobStore:
    store: JobStore = request.app.state.upload_jobs
    return store


async def _call(api: Api, token: str, method: str, path: str, **kw: Any) -> Any:
    """One API call with the token the job holds (a job outlives the request that started it)."""
    headers = {"accept": "application/json", "authorization": f"Bearer {token}"}
    response = await api.http.request(method, api.base + path, headers=headers, **kw)
    return Api._answer(response)


async def period_reports(api: Api, token: str, programme_id: str, period: str) -> list[str]:
    """The ids of the person's reports for one programme and quarter (every page of the list)."""
    found: list[str] = []
    cursor: str | None = None
    while True:
        params = {"programme_id": programme_id, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = await _call(api, token, "GET", "/api/v1/licensing/reports", params=params)
        found += [str(r["id"]) for r in page.get("items", []) if r.get("period") == period]
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def filer(api: Api, token: str) -> Callable[[Job], Awaitable[Outcome]]:
    """The job's work: file its report with the person's token (taken when they posted the file, or
    when they looked at the progress of a job whose replica had stopped)."""

    async def file(job: Job) -> Outcome:
        try:
            if job.attempts > 1:  # resumed: the stopped replica's attempt may have reached the API
                found = await period_reports(api, token, job.programme_id, job.period)
                new = [r for r in found if r not in job.reports_before]
                if new:
                    return Outcome("filed", new[0])
            body = {"period": job.period, "lines": [line.body for line in job.lines]}
            path = f"/api/v1/licensing/programmes/{job.programme_id}/reports"
            filed = await _call(api, token, "POST", path, json=body, timeout=120)
        except ApiProblem as problem:
            text = problem.detail or problem.title
            return Outcome("refused", problems=royaltycsv.api_problems(job.lines, problem.errors, text))
        except (NotAllowed, PageNotFound, SignInRequired):
            return Outcome("forbidden")
        except (Unavailable, httpx.HTTPError):
            return Outcome("failed")
        return Outcome("filed", str(filed["id"]))

    return file


# --- helpers of the filing page ------------------------------------------------------------------


@dataclass
class Licensed:
    """What the person may file for: programmes (id -> name) and each one's territory."""

    programmes: dict[str, str]
    territory: dict[str, list[str]]


async def licensed_programmes(request: Request) -> Licensed:
    api = api_of(request)
    page = await api.get(request, "/api/v1/licensing/licences", {"limit": 200})
    licences: list[dict[str, Any]] = page.get("items", [])
    territory: dict[str, list[str]] = {}
    cross = False
    for licence in licences:
        if licence["programme"] == INTERNAL_PROGRAMME:
            cross = True  # a member's cross-licence reaches every programme (worldwide)
        else:
            territory[licence["programme"]] = list(licence.get("territory") or [])
    names = {k: v["name"] for k, v in (await programme_names(request, set(territory))).items()}
    if cross:
        listed = await api.get(request, "/api/v1/licensing/programmes", {"limit": 200})
        names.update({p["id"]: p["name"] for p in listed.get("items", [])})
    return Licensed(dict(sorted(names.items(), key=lambda kv: kv[1])), territory)


def _new_page(
    request: Request,
    licensed: Licensed,
    values: dict[str, Any],
    *,
    rows: list[dict[str, str]] | None = None,
    errors: dict[str, str] | None = None,
    form_problems: list[Problem] | None = None,
    upload_problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = lang_of(request)
    return render(
        request,
        "reports/new.html",
        MESSAGES,
        status_code=status_code,
        licensed=licensed,
        values=values,
        rows=rows or [{} for _ in range(FORM_ROWS)],
        rows_max=FORM_ROWS_MAX,
        errors=errors or {},
        form_problems=[(p, reason_of(p, lang)) for p in form_problems or []],
        upload_problems=[(p, reason_of(p, lang)) for p in upload_problems or []],
        columns=royaltycsv.COLUMNS,
        form_columns=FORM_COLUMNS,
        required_columns=royaltycsv.REQUIRED,
        example=previous_quarter(date.today()),
    )


def _check_head(request: Request, programme_id: str, period: str, licensed: Licensed) -> dict[str, str]:
    lang = lang_of(request)
    errors: dict[str, str] = {}
    if programme_id not in licensed.programmes:
        errors["programme_id"] = MESSAGES.get(lang, "choose_programme")
    if royaltycsv.check_period(period):
        errors["period"] = MESSAGES.get(lang, "bad_period").format(value=period)
    return errors


# --- pages -----------------------------------------------------------------------------------------


@router.get("/reports", response_class=HTMLResponse)
async def reports(request: Request) -> HTMLResponse:
    user = require_user(request)
    programme_id = request.query_params.get("programme_id") or None
    page = await api_of(request).get(
        request,
        "/api/v1/licensing/reports",
        {"cursor": request.query_params.get("cursor"), "programme_id": programme_id, "limit": 25},
    )
    items: list[dict[str, Any]] = page.get("items", [])
    return render(
        request,
        "reports/index.html",
        MESSAGES,
        reports=items,
        programmes=await programme_names(request, {x["programme_id"] for x in items}),
        staff=user.is_staff,
        may_file=may_file(user),
        pages=pager(request, page.get("next_cursor")),
    )


@router.get("/reports/new", response_class=HTMLResponse)
async def new_report(request: Request) -> HTMLResponse:
    user = require_user(request)
    if not may_file(user):
        raise NotAllowed()
    licensed = await licensed_programmes(request)
    chosen = request.query_params.get("programme_id", "")
    if chosen not in licensed.programmes:
        chosen = next(iter(licensed.programmes), "")
    return _new_page(request, licensed, {"programme_id": chosen, "period": previous_quarter(date.today())})


@router.post("/reports/new", response_class=HTMLResponse)
async def file_from_form(request: Request) -> Response:
    user = require_user(request)
    if not may_file(user):
        raise NotAllowed()
    form = await request.form()
    lang = lang_of(request)
    licensed = await licensed_programmes(request)
    programme_id = str(form.get("programme_id", ""))
    period = str(form.get("period", "")).strip().upper()
    values = {"programme_id": programme_id, "period": period}
    try:
        count = max(1, min(int(str(form.get("rows", FORM_ROWS))), FORM_ROWS_MAX))
    except ValueError:
        count = FORM_ROWS
    rows = [{c: str(form.get(f"lines.{i}.{c}", "")).strip() for c in FORM_COLUMNS} for i in range(count)]
    if form.get("action") == "add":
        rows += [{}] if count < FORM_ROWS_MAX else []
        return _new_page(request, licensed, values, rows=rows)
    errors = _check_head(request, programme_id, period, licensed)
    # Empty rows are left out; the rest keep their row number (1-based) on the form.
    filled = [(i + 1, row) for i, row in enumerate(rows) if any(row.values())]
    if not filled:
        errors["lines"] = MESSAGES.get(lang, "no_form_lines")
    lines, problems = royaltycsv.check_lines(filled, period, licensed.territory.get(programme_id, ()))
    if not errors and not problems:
        body = {"period": period, "lines": [line.body for line in lines]}
        try:
            filed = await api_of(request).post(request, f"/api/v1/licensing/programmes/{programme_id}/reports", body)
        except ApiProblem as problem:
            said = refusals.english(problem)  # its English is what names the lines; shown in the page's language
            problems = royaltycsv.api_problems(lines, said.errors, said.detail or said.title)
        else:
            return redirect(f"/reports/{filed['id']}?filed=1")
    for p in problems:
        if p.line and p.column:
            errors.setdefault(f"lines.{p.line - 1}.{p.column}", reason_of(p, lang))
        elif p.column in ("period", "programme_id"):
            errors.setdefault(p.column, reason_of(p, lang))
    return _new_page(request, licensed, values, rows=rows, errors=errors, form_problems=problems, status_code=422)


@router.post("/reports/upload", response_class=HTMLResponse)
async def upload(request: Request) -> Response:
    user = require_user(request)
    if not may_file(user):
        raise NotAllowed()
    form = await request.form()
    lang = lang_of(request)
    licensed = await licensed_programmes(request)
    programme_id = str(form.get("programme_id", ""))
    period = str(form.get("period", "")).strip().upper()
    values = {"programme_id": programme_id, "period": period}
    errors = _check_head(request, programme_id, period, licensed)
    upload_file = form.get("file")
    data = await upload_file.read(royaltycsv.FILE_MAX_BYTES + 1) if isinstance(upload_file, UploadFile) else b""
    if not data:
        errors["file"] = MESSAGES.get(lang, "no_file")
    if errors:
        return _new_page(request, licensed, values, errors=errors, status_code=422)
    lines, problems = royaltycsv.read_csv(data, period, licensed.territory.get(programme_id, ()))
    if problems:
        return _new_page(request, licensed, values, upload_problems=problems, status_code=422)
    api = api_of(request)
    token = await api.user_token(request)
    try:  # what is there before this job: on a resumption, a report that was not is the job's own
        before = await period_reports(api, token, programme_id, period)
    except (ApiProblem, NotAllowed, PageNotFound, SignInRequired, Unavailable, httpx.HTTPError):
        before = []
    job = Job(secrets.token_urlsafe(16), user.subject, programme_id, period, lines, reports_before=before)
    jobs = jobs_of(request)
    await jobs.add(job)
    jobs.run(job, filer(api, token))
    return redirect(f"/reports/filing/{job.id}")


@router.get("/reports/filing/{job_id}", response_class=HTMLResponse)
async def filing(request: Request, job_id: str) -> Response:
    user = require_user(request)
    jobs = jobs_of(request)
    job = await jobs.get(job_id)
    if job is None or job.owner != user.subject:
        return render(request, "reports/filing.html", MESSAGES, status_code=404, job=None, problems=[])
    if job.state == "sending" and (resumed := await jobs.take_over(job.id)) is not None:
        # Its replica stopped (a restart, a crash, a scale-down): this one carries on, as its owner.
        api = api_of(request)
        jobs.run(resumed, filer(api, await api.user_token(request)))
    if job.state == "filed":
        return redirect(f"/reports/{job.report_id}?filed=1")
    lang = lang_of(request)
    return render(
        request,
        "reports/filing.html",
        MESSAGES,
        job=job,
        problems=[(p, reason_of(p, lang)) for p in job.problems],
        status_code=422 if job.state == "refused" else 200,
    )


@router.get("/reports/{report_id}", response_class=HTMLResponse)
async def report(request: Request, report_id: str) -> HTMLResponse:
    require_user(request)
    found: dict[str, Any] = await api_of(request).get(request, f"/api/v1/licensing/reports/{report_id}")
    lines: list[dict[str, Any]] = found.get("lines", [])
    pages = max(1, -(-len(lines) // LINES_PER_PAGE))
    try:
        number = max(1, min(int(request.query_params.get("page", "1")), pages))
    except ValueError:
        number = 1
    first = (number - 1) * LINES_PER_PAGE
    shown = lines[first : first + LINES_PER_PAGE]
    base = f"/reports/{report_id}"
    programmes = await programme_names(request, {found["programme_id"]})
    return render(
        request,
        "reports/report.html",
        MESSAGES,
        report=found,
        programme=programmes.get(found["programme_id"]),
        lines=shown,
        first=first + 1,
        last=first + len(shown),
        count=len(lines),
        line_pages={
            "previous": f"{base}?page={number - 1}" if number > 1 else None,
            "next": f"{base}?page={number + 1}" if number < pages else None,
        },
        filed=request.query_params.get("filed") == "1",
    )
