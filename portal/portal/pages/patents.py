"""The organisation's patents: contributing one, the list, submitting one to a pool programme's
essentiality evaluation and following it (the submission's status, the expert's finding and its
written reason).

Members see their organisation's patents and submissions, staff see all (as the API decides).
A patent's submissions are looked up by programme (the API keys a submission by programme and
patent), over the first page of programmes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal import member
from portal.api import api_of
from portal.sessions import User
from portal.web import (
    ApiProblem,
    PageNotFound,
    lang_of,
    page_router,
    pager,
    redirect,
    register_nav,
    render,
    require_user,
)

router = page_router()
OFFICES = ("CN", "US", "EP", "JP", "KR", "DE", "FR", "GB", "RU", "AU", "WO")
SEGMENTS = ("substrate", "epitaxy", "chip", "packaging", "application", "equipment", "materials")
CONTRIBUTED_STATUSES = ("granted", "pending")
LEGAL_STATUSES = ("pending", "granted", "expired", "invalidated", "lapsed")
FIELDS = ("office", "number", "family_id", "title", "filing_date", "grant_date", "expiry_date", "status", "segment")
MESSAGES = member.catalogue(
    {
        "en": {
            "title": "Patents",
            "intro": "Your organisation's patents, and their evaluation for the alliance's patent pools.",
            "all_intro": "Every organisation's patents (staff view).",
            "contribute": "Contribute a patent",
            "submissions_link": "Submissions and findings",
            "none": "No patents have been contributed yet.",
            "number": "Number",
            "office": "Office",
            "patent_title": "Title",
            "family_id": "Patent family",
            "filing_date": "Filed",
            "grant_date": "Granted",
            "expiry_date": "Expires",
            "status": "Legal status",
            "segment": "Chain segment",
            "validated_in": "Validated in",
            "validated_hint": "EP patents only: country codes, separated by commas (e.g. DE, FR, GB).",
            "owner": "Owner",
            "owner_id": "Owning organisation (id)",
            "owner_hint": "Staff only: leave empty for your own.",
            "claim": "Ownership",
            "open": "Open",
            "new_title": "Contribute a patent",
            "new_intro": (
                "Register one of your organisation's patents. It can then be submitted to a pool programme's "
                "evaluation."
            ),
            "submit_new": "Contribute the patent",
            "contributed": "The patent was registered.",
            "programmes": "Pool programmes",
            "no_programmes": "There are no pool programmes yet.",
            "programme": "Programme",
            "standard": "Standard",
            "not_submitted": "Not submitted",
            "submit_to": "Submit for evaluation",
            "submit_to_hint": (
                "An independent expert decides whether the patent is essential to the programme's standard."
            ),
            "submit_button": "Submit to {name}",
            "submitted": "The patent was submitted for evaluation.",
            "submission": "Submission",
            "sub_status": "Evaluation",
            "submitted_on": "Submitted",
            "assigned_on": "Expert assigned",
            "finding": "Finding",
            "reason": "Reason",
            "evaluated_on": "Decided",
            "pending_finding": "Not decided yet",
            "subs_title": "Submissions and findings",
            "subs_intro": "Each patent submitted to a pool programme, and the expert's finding with its reason.",
            "no_subs": "No patent has been submitted for evaluation yet.",
            "patent": "Patent",
            "back": "Back to the patents",
            "sub.awaiting_evaluator": "Awaiting an expert",
            "sub.under_evaluation": "Under evaluation",
            "sub.essential": "Essential",
            "sub.not_essential": "Not essential",
            "legal.pending": "Pending",
            "legal.granted": "Granted",
            "legal.expired": "Expired",
            "legal.invalidated": "Invalidated",
            "legal.lapsed": "Lapsed",
            "claim.undisputed": "Undisputed",
            "claim.disputed": "Disputed: under the secretariat's review",
            "claim.confirmed": "Confirmed by the secretariat",
            "claim.rejected": "Rejected by the secretariat",
            "segment.substrate": "Substrate",
            "segment.epitaxy": "Epitaxy",
            "segment.chip": "Chip",
            "segment.packaging": "Packaging",
            "segment.application": "Application",
            "segment.equipment": "Equipment",
            "segment.materials": "Materials",
        },
        "zh": {
            "title": "专利",
            "intro": "本单位的专利及其专利池必要性评估。",
            "all_intro": "所有单位的专利（工作人员视图）。",
            "contribute": "提交专利",
            "submissions_link": "评估申请与结论",
            "none": "尚未提交专利。",
            "number": "专利号",
            "office": "专利局",
            "patent_title": "名称",
            "family_id": "专利族",
            "filing_date": "申请日",
            "grant_date": "授权日",
            "expiry_date": "届满日",
            "status": "法律状态",
            "segment": "产业链环节",
            "validated_in": "生效国家",
            "validated_hint": "仅限欧洲专利：国家代码，以逗号分隔（如 DE, FR, GB）。",
            "owner": "权利人",
            "owner_id": "权利人单位（编号）",
            "owner_hint": "仅限工作人员：留空则为本单位。",
            "claim": "权属",
            "open": "查看",
            "new_title": "提交专利",
            "new_intro": "登记本单位的一项专利，之后可提交专利池项目进行评估。",
            "submit_new": "提交",
            "contributed": "专利已登记。",
            "programmes": "专利池项目",
            "no_programmes": "尚无专利池项目。",
            "programme": "项目",
            "standard": "标准",
            "not_submitted": "未提交",
            "submit_to": "提交评估",
            "submit_to_hint": "由独立专家判断该专利是否为项目标准的必要专利。",
            "submit_button": "提交至 {name}",
            "submitted": "专利已提交评估。",
            "submission": "评估申请",
            "sub_status": "评估状态",
            "submitted_on": "提交日期",
            "assigned_on": "指派专家日期",
            "finding": "结论",
            "reason": "理由",
            "evaluated_on": "结论日期",
            "pending_finding": "尚无结论",
            "subs_title": "评估申请与结论",
            "subs_intro": "提交专利池项目的每项专利，以及专家的结论和理由。",
            "no_subs": "尚无专利提交评估。",
            "patent": "专利",
            "back": "返回专利列表",
            "sub.awaiting_evaluator": "待指派专家",
            "sub.under_evaluation": "评估中",
            "sub.essential": "必要专利",
            "sub.not_essential": "非必要专利",
            "legal.pending": "审查中",
            "legal.granted": "已授权",
            "legal.expired": "已届满",
            "legal.invalidated": "已无效",
            "legal.lapsed": "已失效",
            "claim.undisputed": "无争议",
            "claim.disputed": "有争议：秘书处审核中",
            "claim.confirmed": "秘书处已确认",
            "claim.rejected": "秘书处已驳回",
            "segment.substrate": "衬底",
            "segment.epitaxy": "外延",
            "segment.chip": "芯片",
            "segment.packaging": "封装",
            "segment.application": "应用",
            "segment.equipment": "设备",
            "segment.materials": "材料",
        },
    }
)
register_nav("/patents", "Patents", "专利", member.member_or_staff, order=24)


def may_contribute(user: User) -> bool:
    return user.has_any("secretariat") or member.is_member(user)


async def _programmes(request: Request) -> list[dict[str, Any]]:
    page = await api_of(request).get(request, "/api/v1/licensing/programmes", {"limit": 50})
    items: list[dict[str, Any]] = page.get("items", [])
    return items


@router.get("/patents", response_class=HTMLResponse)
async def patents(request: Request) -> HTMLResponse:
    user = require_user(request)
    page = await api_of(request).get(
        request, "/api/v1/licensing/patents", {"cursor": request.query_params.get("cursor")}
    )
    items: list[dict[str, Any]] = page.get("items", [])
    owners = await member.names(request, [p["owner_id"] for p in items]) if user.is_staff else {}
    return render(
        request,
        "patents/index.html",
        MESSAGES,
        patents=items,
        owners=owners,
        contribute=may_contribute(user),
        pages=pager(request, page.get("next_cursor")),
        contributed=request.query_params.get("contributed") == "1",
    )


# --- contributing ------------------------------------------------------------------------------------


def _form(
    request: Request,
    user: User,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    problem: ApiProblem | None = None,
) -> HTMLResponse:
    lang = lang_of(request)
    return render(
        request,
        "patents/new.html",
        MESSAGES,
        status_code=422 if errors or problem else 200,
        values=values,
        errors=errors or {},
        problem=problem,
        offices=[(o, o) for o in OFFICES],
        segments=[(s, MESSAGES.get(lang, f"segment.{s}")) for s in SEGMENTS],
        statuses=[(s, MESSAGES.get(lang, f"legal.{s}")) for s in CONTRIBUTED_STATUSES],
        staff=user.is_staff,
    )


@router.get("/patents/new", response_class=HTMLResponse)
async def new_patent(request: Request) -> HTMLResponse:
    user = require_user(request)
    return _form(request, user, {"office": "CN", "status": "granted", "segment": "epitaxy"})


@router.post("/patents/new", response_class=HTMLResponse)
async def contribute(request: Request) -> Response:
    user = require_user(request)
    form = await request.form()
    values = {name: member.form_text(form, name) for name in (*FIELDS, "validated_in", "owner_id")}
    values["number"] = values["number"].upper().replace(" ", "")
    lang = lang_of(request)
    required = ("number", "family_id", "title", "filing_date", "expiry_date")
    errors = {name: MESSAGES.get(lang, "m.required") for name in required if not values[name]}
    if errors:
        return _form(request, user, values, errors)
    body: dict[str, Any] = {name: values[name] for name in FIELDS if values[name]}
    countries = [c.strip().upper() for c in values["validated_in"].split(",") if c.strip()]
    if countries:
        body["validated_in"] = countries
    if user.is_staff and values["owner_id"]:
        body["owner_id"] = values["owner_id"]
    try:
        patent = await api_of(request).post(request, "/api/v1/licensing/patents", body)
    except ApiProblem as problem:
        field_errors = {k.split(".")[0]: v for k, v in problem.errors.items()}
        return _form(request, user, values, field_errors, problem)
    return redirect(f"/patents/{quote(str(patent['id']), safe='')}?contributed=1")


# --- one patent and its submissions -----------------------------------------------------------------


async def _detail(request: Request, patent_id: str, problem: ApiProblem | None = None) -> HTMLResponse:
    user = require_user(request)
    api = api_of(request)
    patent = await api.get(request, f"/api/v1/licensing/patents/{quote(patent_id, safe='')}")
    programmes = await _programmes(request)
    submissions: dict[str, dict[str, Any]] = {}
    for programme in programmes:
        submission_id = f"{programme['id']}:{patent['id']}"
        try:
            submissions[programme["id"]] = await api.get(
                request, f"/api/v1/licensing/submissions/{quote(submission_id, safe='')}"
            )
        except PageNotFound:
            continue
    owners = await member.names(request, [patent["owner_id"]])
    may_submit = user.has_any("secretariat") or (member.is_member(user) and user.org_id == patent["owner_id"])
    return render(
        request,
        "patents/detail.html",
        MESSAGES,
        status_code=409 if problem else 200,
        p=patent,
        owner=owners.get(patent["owner_id"], ""),
        programmes=programmes,
        submissions=submissions,
        may_submit=may_submit and patent.get("claim") in ("undisputed", "confirmed"),
        problem=problem,
        contributed=request.query_params.get("contributed") == "1",
        submitted=request.query_params.get("submitted") == "1",
    )


@router.get("/patents/submissions", response_class=HTMLResponse)
async def submissions(request: Request) -> HTMLResponse:
    user = require_user(request)
    api = api_of(request)
    page = await api.get(request, "/api/v1/licensing/submissions", {"cursor": request.query_params.get("cursor")})
    items: list[dict[str, Any]] = page.get("items", [])
    programmes = {p["id"]: p for p in await _programmes(request)}
    patents: dict[str, dict[str, Any]] = {}
    for patent_id in dict.fromkeys(s["patent_id"] for s in items):
        try:
            patents[patent_id] = await api.get(request, f"/api/v1/licensing/patents/{quote(patent_id, safe='')}")
        except PageNotFound:
            continue
    owners = await member.names(request, [s["owner_id"] for s in items]) if user.is_staff else {}
    return render(
        request,
        "patents/submissions.html",
        MESSAGES,
        submissions=items,
        programmes=programmes,
        patents=patents,
        owners=owners,
        pages=pager(request, page.get("next_cursor")),
    )


@router.get("/patents/{patent_id}", response_class=HTMLResponse)
async def patent(request: Request, patent_id: str) -> HTMLResponse:
    return await _detail(request, patent_id)


@router.post("/patents/{patent_id}/submissions", response_class=HTMLResponse)
async def submit(request: Request, patent_id: str) -> Response:
    require_user(request)
    form = await request.form()
    programme_id = member.form_text(form, "programme_id")
    if not programme_id:
        return redirect(f"/patents/{quote(patent_id, safe='')}")
    path = f"/api/v1/licensing/programmes/{quote(programme_id, safe='')}/submissions"
    try:
        await api_of(request).post(request, path, {"patent_id": patent_id})
    except ApiProblem as problem:
        return await _detail(request, patent_id, problem)
    return redirect(f"/patents/{quote(patent_id, safe='')}?submitted=1")
