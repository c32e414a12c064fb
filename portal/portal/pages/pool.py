"""The patent pool for the secretariat (and, reading, the council): programmes tied to a standard,
their rate schedules, outside licensees' licences, essentiality submissions and the independent
experts assigned to them, the patent reviews awaiting the secretariat, and distributions of a
period's royalties with their statements.

Every change is the secretariat's (the API says so); the council sees the same pages without the
forms. A distribution is long work: its form shows progress while the server runs it
(``static/pool.js``), then the page of its statements.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal.api import api_of
from portal.i18n import Catalogue
from portal.staff import field_errors, require_staff, secretariat, staff, text
from portal.web import (
    ApiProblem,
    NotAllowed,
    PageNotFound,
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
LICENSING = "/api/v1/licensing"
TIER_ROWS = 6
SCHEDULE_NUMBERS = (
    "free_units_per_year",
    "annual_cap",
    "regional_discount_percent",
    "member_discount_percent",
    "admin_fee_percent",
    "late_interest_percent",
)
PERIOD = re.compile(r"^\d{4}-Q[1-4]$")

MESSAGES = Catalogue(
    {
        "en": {
            "title": "Patent pool",
            "intro": "Programmes, rate schedules, licences, essentiality evaluations and distributions.",
            "sections": "Pool sections",
            "programmes": "Programmes",
            "submissions": "Evaluations",
            "reviews": "Patent reviews",
            "licences": "Licences",
            "statements": "Distributions",
            "programmes_none": "No programmes yet.",
            "name": "Name",
            "standard": "Standard",
            "created": "Created",
            "description": "Description",
            "new_programme": "Create a programme",
            "standard_hint": "The standard's number, e.g. T/LEDA 001—2026",
            "create": "Create the programme",
            "created_done": "The programme was created.",
            "back": "Back to the pool",
            "schedule": "Rate schedule",
            "schedule_hint": (
                "One row per tier: a category's tiers in order, the last without “up to”. Empty rows are ignored."
            ),
            "tiers": "Rates by product category and tier",
            "category": "Product category",
            "up_to": "Up to (units a year)",
            "standard_rate": "Standard rate",
            "compliant_rate": "Compliant rate",
            "currency": "Currency",
            "free_units_per_year": "Free units a year",
            "annual_cap": "Annual cap (optional)",
            "regional_markets": "Regional markets",
            "regional_markets_hint": "Country codes separated by commas, e.g. VN, ID",
            "regional_discount_percent": "Regional discount %",
            "member_discount_percent": "Member discount %",
            "admin_fee_percent": "Administration fee %",
            "late_interest_percent": "Late interest %",
            "publish": "Publish the schedule",
            "published_done": "The rate schedule was published.",
            "no_tiers": "enter at least one tier",
            "licence": "Sign a licence",
            "licence_hint": "An outside licensee's licence to this programme.",
            "licensee_id": "Licensee's organisation id",
            "licensee_name": "Licensee's name",
            "start_date": "Start date",
            "territory": "Territory",
            "territory_hint": "Countries of sale separated by commas; empty: worldwide",
            "sign": "Sign the licence",
            "signed_done": "The licence was signed.",
            "distribution": "Distribute a period",
            "distribution_hint": "Shares the royalties collected for an ended quarter among the licensors.",
            "period": "Period",
            "period_hint": "A quarter, e.g. 2026-Q3",
            "bad_period": "a quarter like 2026-Q3",
            "distribute": "Run the distribution",
            "distributing": "Distributing the royalties… this can take a while; the statements follow.",
            "distributed_done": "The distribution was run: its statements are below.",
            "programme_patents": "Essential patents",
            "patents_none": "No patents have been found essential yet.",
            "number": "Number",
            "patent_title": "Title",
            "owner": "Owner",
            "status": "Status",
            "submitted_on": "Submitted",
            "patent": "Patent",
            "programme": "Programme",
            "evaluator": "Expert",
            "result": "Finding",
            "submissions_none": "No submissions.",
            "assign": "Assign",
            "evaluator_id": "Expert's e-mail (their sign-in)",
            "evaluator_org_id": "Expert's organisation id (optional)",
            "assign_hint": "The id of the expert's sign-in account. Never an expert from the owner's organisation.",
            "assigned_done": "The expert was assigned.",
            "awaiting_only": "Only those awaiting an expert",
            "show": "Show",
            "all_programmes": "All programmes",
            "sub.awaiting_evaluator": "Awaiting an expert",
            "sub.under_evaluation": "Under evaluation",
            "sub.essential": "Essential",
            "sub.not_essential": "Not essential",
            "reviews_none": "Nothing awaits the secretariat.",
            "claim": "Ownership",
            "claim.undisputed": "Undisputed",
            "claim.disputed": "Disputed: another organisation registered this number",
            "claim.confirmed": "Confirmed",
            "claim.rejected": "Rejected",
            "confirm_owner": "Confirm this owner",
            "reject_claim": "Reject this registration",
            "status_request": "Status requested by the owner",
            "evidence": "Evidence",
            "approve_status": "Approve the status",
            "reject_status": "Refuse",
            "reviewed_done": "The review was recorded.",
            "legal.pending": "Pending",
            "legal.granted": "Granted",
            "legal.expired": "Expired",
            "legal.invalidated": "Invalidated",
            "legal.lapsed": "Lapsed",
            "licences_none": "No licences.",
            "licensee": "Licensee",
            "kind": "Kind",
            "in_force": "In force",
            "yes": "yes",
            "no": "no",
            "kind.internal_cross_licence": "Members' cross-licence",
            "kind.programme_licence": "Programme licence",
            "worldwide": "Worldwide",
            "distributions_none": "No distributions yet.",
            "collected": "Collected",
            "admin_fee": "Administration fee",
            "distributable": "Distributed",
            "licensor": "Licensor",
            "amount": "Amount",
            "exact": "Exact share",
            "extra_cent": "+1 cent from rounding",
            "lines": "Sales lines",
        },
        "zh": {
            "title": "专利池",
            "intro": "许可计划、费率表、许可、必要性评估与分配。",
            "sections": "专利池栏目",
            "programmes": "许可计划",
            "submissions": "必要性评估",
            "reviews": "专利审核",
            "licences": "许可",
            "statements": "分配",
            "programmes_none": "尚无许可计划。",
            "name": "名称",
            "standard": "标准",
            "created": "创建日期",
            "description": "说明",
            "new_programme": "创建许可计划",
            "standard_hint": "标准编号，例如 T/LEDA 001—2026",
            "create": "创建",
            "created_done": "许可计划已创建。",
            "back": "返回专利池",
            "schedule": "费率表",
            "schedule_hint": "每行一个档位：同一品类的档位按顺序填写，最后一档不填“上限”。空行将被忽略。",
            "tiers": "按产品品类和档位的费率",
            "category": "产品品类",
            "up_to": "上限（年销量）",
            "standard_rate": "标准费率",
            "compliant_rate": "合规费率",
            "currency": "币种",
            "free_units_per_year": "每年免费数量",
            "annual_cap": "年度封顶（可选）",
            "regional_markets": "区域市场",
            "regional_markets_hint": "国家代码，以逗号分隔，例如 VN, ID",
            "regional_discount_percent": "区域折扣 %",
            "member_discount_percent": "会员折扣 %",
            "admin_fee_percent": "管理费 %",
            "late_interest_percent": "逾期利息 %",
            "publish": "发布费率表",
            "published_done": "费率表已发布。",
            "no_tiers": "请至少填写一个档位",
            "licence": "签订许可",
            "licence_hint": "外部被许可方加入本计划的许可。",
            "licensee_id": "被许可方单位编号",
            "licensee_name": "被许可方名称",
            "start_date": "起始日期",
            "territory": "地域",
            "territory_hint": "销售国家代码，以逗号分隔；留空为全球",
            "sign": "签订许可",
            "signed_done": "许可已签订。",
            "distribution": "按期分配",
            "distribution_hint": "将已结束季度收取的许可费分配给各许可方。",
            "period": "期间",
            "period_hint": "季度，例如 2026-Q3",
            "bad_period": "请填写季度，例如 2026-Q3",
            "distribute": "执行分配",
            "distributing": "正在分配许可费……可能需要一些时间，完成后显示分配明细。",
            "distributed_done": "分配已完成，明细如下。",
            "programme_patents": "必要专利",
            "patents_none": "尚无被认定为必要的专利。",
            "number": "专利号",
            "patent_title": "名称",
            "owner": "权利人",
            "status": "状态",
            "submitted_on": "提交日期",
            "patent": "专利",
            "programme": "许可计划",
            "evaluator": "专家",
            "result": "结论",
            "submissions_none": "暂无提交。",
            "assign": "指派",
            "evaluator_id": "专家邮箱（登录名）",
            "evaluator_org_id": "专家所在单位编号（可选）",
            "assign_hint": "专家登录账号的 ID。不得指派权利人单位的专家。",
            "assigned_done": "已指派专家。",
            "awaiting_only": "仅显示待指派专家的",
            "show": "显示",
            "all_programmes": "全部许可计划",
            "sub.awaiting_evaluator": "待指派专家",
            "sub.under_evaluation": "评估中",
            "sub.essential": "必要",
            "sub.not_essential": "非必要",
            "reviews_none": "暂无待秘书处处理的事项。",
            "claim": "权属",
            "claim.undisputed": "无争议",
            "claim.disputed": "有争议：另一单位登记了相同专利号",
            "claim.confirmed": "已确认",
            "claim.rejected": "已驳回",
            "confirm_owner": "确认该权利人",
            "reject_claim": "驳回该登记",
            "status_request": "权利人申请的法律状态",
            "evidence": "证据",
            "approve_status": "批准该状态",
            "reject_status": "不予批准",
            "reviewed_done": "审核结果已记录。",
            "legal.pending": "审查中",
            "legal.granted": "已授权",
            "legal.expired": "已届满",
            "legal.invalidated": "已无效",
            "legal.lapsed": "已失效",
            "licences_none": "暂无许可。",
            "licensee": "被许可方",
            "kind": "类型",
            "in_force": "有效",
            "yes": "是",
            "no": "否",
            "kind.internal_cross_licence": "会员交叉许可",
            "kind.programme_licence": "计划许可",
            "worldwide": "全球",
            "distributions_none": "尚无分配。",
            "collected": "收取金额",
            "admin_fee": "管理费",
            "distributable": "分配金额",
            "licensor": "许可方",
            "amount": "金额",
            "exact": "精确份额",
            "extra_cent": "四舍五入多得 1 分",
            "lines": "销售明细",
        },
    }
)
register_nav("/staff/pool", "Patent pool", "专利池", staff, order=71)


def _require_secretariat(request: Request) -> None:
    if not secretariat(require_user(request)):
        raise NotAllowed()


async def _names(request: Request, org_ids: set[str]) -> dict[str, str]:
    """Organisations' names by id (staff read every organisation); an unknown id stays an id."""
    api = api_of(request)

    async def name_of(org_id: str) -> str:
        try:
            org = await api.get(request, f"/api/v1/membership/organisations/{org_id}")
        except (PageNotFound, NotAllowed):
            return org_id
        return str(org.get("name") or org_id)

    ids = sorted(i for i in org_ids if i)
    return dict(zip(ids, await asyncio.gather(*(name_of(i) for i in ids)), strict=True))


def _countries(value: str) -> list[str]:
    return [c.strip().upper() for c in value.replace("，", ",").split(",") if c.strip()]


# --- programmes ------------------------------------------------------------------------------


async def _standard_numbers(request: Request) -> list[str]:
    """Published standards' numbers, offered when creating a programme (the list is a help only)."""
    try:
        page = await api_of(request).get(request, "/api/v1/standards/filings", {"limit": 100})
    except (NotAllowed, PageNotFound, Unavailable, ApiProblem):
        return []
    return [str(f["number"]) for f in page.get("items", []) if f.get("number")]


async def _index(
    request: Request, values: dict[str, str] | None = None, errors: dict[str, str] | None = None, problem: Any = None
) -> HTMLResponse:
    require_staff(request)
    page = await api_of(request).get(request, f"{LICENSING}/programmes", {"cursor": request.query_params.get("cursor")})
    return render(
        request,
        "pool/index.html",
        MESSAGES,
        status_code=422 if errors or problem else 200,
        programmes=page.get("items", []),
        pages=pager(request, page.get("next_cursor")),
        may_change=secretariat(require_user(request)),
        standards=await _standard_numbers(request),
        values=values or {},
        errors=errors or {},
        problem=problem,
        section="programmes",
    )


@router.get("/staff/pool", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    return await _index(request)


@router.post("/staff/pool/programmes", response_class=HTMLResponse)
async def create_programme(request: Request) -> Response:
    _require_secretariat(request)
    form = await request.form()
    values = {k: text(form, k) for k in ("name", "standard_ref", "description")}
    try:
        created = await api_of(request).post(request, f"{LICENSING}/programmes", values)
    except ApiProblem as problem:
        return await _index(request, values, field_errors(problem), problem)
    return redirect(f"/staff/pool/programmes/{created['id']}?done=created")


async def _programme_page(
    request: Request,
    programme_id: str,
    *,
    form: str = "",
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: ApiProblem | None = None,
) -> HTMLResponse:
    require_staff(request)
    api = api_of(request)
    programme = await api.get(request, f"{LICENSING}/programmes/{programme_id}")
    patents = await api.get(request, f"{LICENSING}/programmes/{programme_id}/patents")
    items = patents.get("items", [])
    done = request.query_params.get("done", "")
    return render(
        request,
        "pool/programme.html",
        MESSAGES,
        status_code=422 if errors or problem else 200,
        programme=programme,
        patents=items,
        owners=await _names(request, {p["owner_id"] for p in items}),
        may_change=secretariat(require_user(request)),
        tier_rows=TIER_ROWS,
        published=schedule_form(programme.get("schedule")),
        form=form,
        values=values or {},
        errors=errors or {},
        problem=problem,
        done=done if done in ("created", "published", "signed") else "",
        section="programmes",
    )


@router.get("/staff/pool/programmes/{programme_id}", response_class=HTMLResponse)
async def programme_page(request: Request, programme_id: str) -> HTMLResponse:
    return await _programme_page(request, programme_id)


def schedule_form(schedule: dict[str, Any] | None) -> dict[str, str]:
    """The published schedule (as the API reads it back) as the form's values, so the secretariat
    changes it rather than typing it again; empty when there is none or its tiers outgrow the form."""
    if not schedule:
        return {}
    tiers = [(c, t) for c, steps in (schedule.get("categories") or {}).items() for t in steps]
    if len(tiers) > TIER_ROWS:
        return {}
    values = {"currency": str(schedule.get("currency") or "USD")}
    for row, (category, tier) in enumerate(tiers):
        values[f"category_{row}"] = category
        values[f"up_to_{row}"] = "" if tier.get("up_to") is None else str(tier["up_to"])
        values[f"standard_rate_{row}"] = str(tier["standard_rate"])
        values[f"compliant_rate_{row}"] = str(tier["compliant_rate"])
    for name in SCHEDULE_NUMBERS:
        if schedule.get(name) is not None:
            values[name] = str(schedule[name])
    values["regional_markets"] = ", ".join(schedule.get("regional_markets") or [])
    return values


def schedule_body(form: dict[str, str], lang: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The rate schedule's body from the form's tier rows and numbers, and the form's own errors."""
    categories: dict[str, list[dict[str, Any]]] = {}
    errors: dict[str, str] = {}
    for row in range(TIER_ROWS):
        category = form.get(f"category_{row}", "")
        rates = {k: form.get(f"{k}_{row}", "") for k in ("up_to", "standard_rate", "compliant_rate")}
        if not category and not any(rates.values()):
            continue
        tier: dict[str, Any] = {"standard_rate": rates["standard_rate"], "compliant_rate": rates["compliant_rate"]}
        if rates["up_to"]:
            tier["up_to"] = int(rates["up_to"]) if rates["up_to"].isdigit() else rates["up_to"]
        categories.setdefault(category, []).append(tier)
    if not categories:
        errors["categories"] = MESSAGES.get(lang, "no_tiers")
    body: dict[str, Any] = {"categories": categories, "regional_markets": _countries(form.get("regional_markets", ""))}
    if form.get("currency"):
        body["currency"] = form["currency"].upper()
    for name in SCHEDULE_NUMBERS:
        value = form.get(name, "")
        if value:
            body[name] = int(value) if name == "free_units_per_year" and value.isdigit() else value
    return body, errors


@router.post("/staff/pool/programmes/{programme_id}/schedule", response_class=HTMLResponse)
async def publish_schedule(request: Request, programme_id: str) -> Response:
    _require_secretariat(request)
    raw = await request.form()
    values = {k: text(raw, k) for k in raw}
    body, errors = schedule_body(values, lang_of(request))
    if errors:
        return await _programme_page(request, programme_id, form="schedule", values=values, errors=errors)
    try:
        await api_of(request).call(request, "PUT", f"{LICENSING}/programmes/{programme_id}/schedule", json=body)
    except ApiProblem as problem:
        errs = {("categories" if k.startswith("categories") else k): v for k, v in field_errors(problem).items()}
        return await _programme_page(
            request, programme_id, form="schedule", values=values, errors=errs, problem=problem
        )
    return redirect(f"/staff/pool/programmes/{programme_id}?done=published")


@router.post("/staff/pool/programmes/{programme_id}/licences", response_class=HTMLResponse)
async def sign_licence(request: Request, programme_id: str) -> Response:
    _require_secretariat(request)
    form = await request.form()
    values = {k: text(form, k) for k in ("licensee_id", "licensee_name", "start_date", "territory")}
    body = {**values, "territory": _countries(values["territory"]), "start_date": values["start_date"] or None}
    try:
        await api_of(request).post(request, f"{LICENSING}/programmes/{programme_id}/licences", body)
    except ApiProblem as problem:
        return await _programme_page(
            request, programme_id, form="licence", values=values, errors=field_errors(problem), problem=problem
        )
    return redirect(f"/staff/pool/programmes/{programme_id}?done=signed")


@router.post("/staff/pool/programmes/{programme_id}/distributions", response_class=HTMLResponse)
async def distribute(request: Request, programme_id: str) -> Response:
    _require_secretariat(request)
    form = await request.form()
    values = {"period": text(form, "period").upper()}
    if not PERIOD.match(values["period"]):
        errors = {"period": MESSAGES.get(lang_of(request), "bad_period")}
        return await _programme_page(request, programme_id, form="distribution", values=values, errors=errors)
    try:
        await api_of(request).post(request, f"{LICENSING}/programmes/{programme_id}/distributions", values)
    except ApiProblem as problem:
        return await _programme_page(
            request, programme_id, form="distribution", values=values, errors=field_errors(problem), problem=problem
        )
    return redirect(f"/staff/pool/statements?programme_id={programme_id}&done=distributed")


# --- submissions and experts -----------------------------------------------------------------


async def _submissions_page(
    request: Request,
    *,
    form: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: ApiProblem | None = None,
) -> HTMLResponse:
    require_staff(request)
    api = api_of(request)
    programme_id = request.query_params.get("programme_id", "")
    params = {"cursor": request.query_params.get("cursor"), "programme_id": programme_id}
    page = await api.get(request, f"{LICENSING}/submissions", params)
    awaiting = request.query_params.get("awaiting") == "1"
    items = [s for s in page.get("items", []) if not awaiting or s["status"] == "awaiting_evaluator"]
    programmes = (await api.get(request, f"{LICENSING}/programmes", {"limit": 200})).get("items", [])

    async def patent(patent_id: str) -> dict[str, Any]:
        try:
            found: dict[str, Any] = await api.get(request, f"{LICENSING}/patents/{patent_id}")
        except PageNotFound:
            return {"id": patent_id, "number": patent_id, "title": ""}
        return found

    patent_ids = sorted({s["patent_id"] for s in items})
    patents = dict(zip(patent_ids, await asyncio.gather(*(patent(i) for i in patent_ids)), strict=True))
    done = request.query_params.get("done", "")
    return render(
        request,
        "pool/submissions.html",
        MESSAGES,
        status_code=422 if errors or problem else 200,
        submissions=items,
        patents=patents,
        owners=await _names(request, {s["owner_id"] for s in items}),
        programmes={p["id"]: p for p in programmes},
        programme_id=programme_id,
        awaiting=awaiting,
        pages=pager(request, page.get("next_cursor")),
        may_change=secretariat(require_user(request)),
        form=form,
        values=values or {},
        errors=errors or {},
        problem=problem,
        done=done == "assigned",
        section="submissions",
    )


@router.get("/staff/pool/submissions", response_class=HTMLResponse)
async def submissions(request: Request) -> HTMLResponse:
    return await _submissions_page(request)


@router.post("/staff/pool/submissions/{submission_id}/assignment", response_class=HTMLResponse)
async def assign(request: Request, submission_id: str) -> Response:
    _require_secretariat(request)
    form = await request.form()
    values = {k: text(form, k) for k in ("evaluator_id", "evaluator_org_id")}
    body = {"evaluator_id": values["evaluator_id"], "evaluator_org_id": values["evaluator_org_id"] or None}
    try:
        await api_of(request).post(request, f"{LICENSING}/submissions/{submission_id}/assignment", body)
    except ApiProblem as problem:
        return await _submissions_page(
            request, form=submission_id, values=values, errors=field_errors(problem), problem=problem
        )
    keep = {k: v for k, v in request.query_params.items() if k in ("programme_id", "awaiting")}
    return redirect("/staff/pool/submissions?" + urlencode({**keep, "done": "assigned"}))


# --- patent reviews --------------------------------------------------------------------------


async def _reviews_page(request: Request, *, problem: ApiProblem | None = None, form: str = "") -> HTMLResponse:
    require_staff(request)
    page = await api_of(request).get(
        request, f"{LICENSING}/patent-reviews", {"cursor": request.query_params.get("cursor")}
    )
    items = page.get("items", [])
    return render(
        request,
        "pool/reviews.html",
        MESSAGES,
        status_code=422 if problem else 200,
        patents=items,
        owners=await _names(request, {p["owner_id"] for p in items}),
        pages=pager(request, page.get("next_cursor")),
        may_change=secretariat(require_user(request)),
        problem=problem,
        form=form,
        done=request.query_params.get("done") == "reviewed",
        section="reviews",
    )


@router.get("/staff/pool/reviews", response_class=HTMLResponse)
async def reviews(request: Request) -> HTMLResponse:
    return await _reviews_page(request)


@router.post("/staff/pool/reviews/{patent_id}/{kind}", response_class=HTMLResponse)
async def decide_review(request: Request, patent_id: str, kind: str) -> Response:
    _require_secretariat(request)
    form = await request.form()
    choice = text(form, "choice")
    body: dict[str, Any]
    if kind == "claim":
        path, body = f"{LICENSING}/patents/{patent_id}/claim", {"decision": choice}
    elif kind == "status":
        path, body = f"{LICENSING}/patents/{patent_id}/legal-status-review/decision", {"approve": choice == "approve"}
    else:
        raise PageNotFound()
    try:
        await api_of(request).post(request, path, body)
    except ApiProblem as problem:
        return await _reviews_page(request, problem=problem, form=f"{kind}:{patent_id}")
    return redirect("/staff/pool/reviews?done=reviewed")


# --- licences and distributions ------------------------------------------------------------


@router.get("/staff/pool/licences", response_class=HTMLResponse)
async def licences(request: Request) -> HTMLResponse:
    require_staff(request)
    api = api_of(request)
    page = await api.get(request, f"{LICENSING}/licences", {"cursor": request.query_params.get("cursor")})
    programmes = (await api.get(request, f"{LICENSING}/programmes", {"limit": 200})).get("items", [])
    return render(
        request,
        "pool/licences.html",
        MESSAGES,
        licences=page.get("items", []),
        programmes={p["id"]: p for p in programmes},
        pages=pager(request, page.get("next_cursor")),
        section="licences",
    )


@router.get("/staff/pool/statements", response_class=HTMLResponse)
async def statements(request: Request) -> HTMLResponse:
    require_staff(request)
    api = api_of(request)
    programme_id = request.query_params.get("programme_id", "")
    params = {"cursor": request.query_params.get("cursor"), "programme_id": programme_id}
    page = await api.get(request, f"{LICENSING}/statements", params)
    items = page.get("items", [])
    programmes = (await api.get(request, f"{LICENSING}/programmes", {"limit": 200})).get("items", [])
    licensors = {s["licensor_id"] for d in items for s in d.get("statements", [])}
    return render(
        request,
        "pool/statements.html",
        MESSAGES,
        distributions=items,
        programmes={p["id"]: p for p in programmes},
        programme_id=programme_id,
        licensors=await _names(request, licensors),
        pages=pager(request, page.get("next_cursor")),
        done=request.query_params.get("done") == "distributed",
        section="statements",
    )
