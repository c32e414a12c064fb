"""An expert's essentiality evaluations: the submissions assigned to them (the patent and the
programme's standard it is judged against), recording a finding (essential or not) with its
written reason, and the finding shown afterwards.

The API lists an expert's own assignments (staff see every submission, read-only here: assigning
experts is the secretariat's page); only the assigned expert records the finding.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal.api import api_of
from portal.i18n import Catalogue
from portal.pages.licences import programme_names
from portal.sessions import User
from portal.web import (
    ApiProblem,
    NotAllowed,
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
REASON_MIN, REASON_MAX = 10, 5000  # the API's bounds of a written reason
RESULTS = ("essential", "not_essential")

MESSAGES = Catalogue(
    {
        "en": {
            "title": "Evaluations",
            "intro": "Patents assigned to you for an essentiality evaluation against a programme's standard.",
            "intro_staff": "Every essentiality submission and its evaluation.",
            "none": "No submission is assigned to you.",
            "patent": "Patent",
            "programme": "Programme",
            "standard": "Standard",
            "status": "Status",
            "assigned_on": "Assigned",
            "submitted_on": "Submitted",
            "open": "Evaluate",
            "view": "View",
            "status.awaiting_evaluator": "Awaiting an expert",
            "status.under_evaluation": "To evaluate",
            "status.essential": "Essential",
            "status.not_essential": "Not essential",
            "evaluation_title": "Evaluation of {number}",
            "patent_facts": "The patent",
            "number": "Number",
            "office": "Office",
            "family": "Family",
            "patent_title": "Title",
            "filing_date": "Filed",
            "grant_date": "Granted",
            "expiry_date": "Expires",
            "legal_status": "Legal status",
            "segment": "Segment of the chain",
            "validated_in": "Validated in",
            "programme_facts": "The programme and its standard",
            "description": "About the programme",
            "finding": "Your finding",
            "finding_intro": (
                "Is the patent essential to the standard? Every finding carries its written"
                " reason (which claim reads on which clause, or why none does)."
            ),
            "result": "Finding",
            "result.essential": "Essential: a claim reads on the standard",
            "result.not_essential": "Not essential",
            "reason": "Written reason",
            "reason_hint": "At least 10 characters: the claims and clauses you compared.",
            "record": "Record the finding",
            "recorded": "Your finding is recorded.",
            "result_title": "The finding",
            "evaluated_on": "Evaluated",
            "evaluated_by": "Expert",
            "pending": "Not evaluated yet.",
            "back": "All evaluations",
            "choose_result": "Choose essential or not essential.",
            "reason_short": "Write at least {n} characters.",
            "reason_long": "At most {n} characters.",
            "none_value": "—",
            "segment.substrate": "Substrate",
            "segment.epitaxy": "Epitaxy",
            "segment.chip": "Chip",
            "segment.packaging": "Packaging",
            "segment.application": "Application",
            "segment.equipment": "Equipment",
            "segment.materials": "Materials",
            "legal.pending": "Pending",
            "legal.granted": "Granted",
            "legal.expired": "Expired",
            "legal.invalidated": "Invalidated",
            "legal.lapsed": "Lapsed",
        },
        "zh": {
            "title": "必要性评估",
            "intro": "分配给您、需对照许可计划标准进行必要性评估的专利。",
            "intro_staff": "全部必要性评估申请及其评估结果。",
            "none": "目前没有分配给您的评估。",
            "patent": "专利",
            "programme": "许可计划",
            "standard": "标准",
            "status": "状态",
            "assigned_on": "分配日期",
            "submitted_on": "提交日期",
            "open": "评估",
            "view": "查看",
            "status.awaiting_evaluator": "待分配专家",
            "status.under_evaluation": "待评估",
            "status.essential": "必要",
            "status.not_essential": "非必要",
            "evaluation_title": "{number} 的评估",
            "patent_facts": "专利信息",
            "number": "专利号",
            "office": "专利局",
            "family": "同族",
            "patent_title": "名称",
            "filing_date": "申请日",
            "grant_date": "授权日",
            "expiry_date": "届满日",
            "legal_status": "法律状态",
            "segment": "产业链环节",
            "validated_in": "生效国家",
            "programme_facts": "许可计划及其标准",
            "description": "计划简介",
            "finding": "您的评估结论",
            "finding_intro": (
                "该专利是否为标准必要专利？每项结论都须附书面理由（哪项权利要求对应哪一条款，或为何均不对应）。"
            ),
            "result": "结论",
            "result.essential": "必要：有权利要求覆盖该标准",
            "result.not_essential": "非必要",
            "reason": "书面理由",
            "reason_hint": "至少 10 个字符：说明所比对的权利要求和条款。",
            "record": "记录结论",
            "recorded": "您的评估结论已记录。",
            "result_title": "评估结论",
            "evaluated_on": "评估日期",
            "evaluated_by": "专家",
            "pending": "尚未评估。",
            "back": "全部评估",
            "choose_result": "请选择必要或非必要。",
            "reason_short": "请至少填写 {n} 个字符。",
            "reason_long": "最多 {n} 个字符。",
            "none_value": "—",
            "segment.substrate": "衬底",
            "segment.epitaxy": "外延",
            "segment.chip": "芯片",
            "segment.packaging": "封装",
            "segment.application": "应用",
            "segment.equipment": "设备",
            "segment.materials": "材料",
            "legal.pending": "审查中",
            "legal.granted": "已授权",
            "legal.expired": "已届满",
            "legal.invalidated": "已无效",
            "legal.lapsed": "已失效",
        },
    }
)


def evaluator(user: User | None) -> bool:
    return user is not None and user.has_any("expert", "secretariat", "council")


register_nav("/evaluations", "Evaluations", "必要性评估", evaluator, order=45)


async def _patent(request: Request, patent_id: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await api_of(request).get(request, f"/api/v1/licensing/patents/{patent_id}")
    except (PageNotFound, NotAllowed):
        return None
    return found


@router.get("/evaluations", response_class=HTMLResponse)
async def evaluations(request: Request) -> HTMLResponse:
    user = require_user(request)
    if not evaluator(user):
        raise NotAllowed()
    page = await api_of(request).get(
        request, "/api/v1/licensing/submissions", {"cursor": request.query_params.get("cursor"), "limit": 25}
    )
    items: list[dict[str, Any]] = page.get("items", [])
    patents = {x["patent_id"]: await _patent(request, x["patent_id"]) for x in items}
    return render(
        request,
        "evaluations/index.html",
        MESSAGES,
        submissions=items,
        patents=patents,
        programmes=await programme_names(request, {x["programme_id"] for x in items}),
        staff=user.is_staff,
        pages=pager(request, page.get("next_cursor")),
    )


async def _evaluation_page(
    request: Request,
    submission: dict[str, Any],
    values: dict[str, str],
    errors: dict[str, str],
    problem: ApiProblem | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    user = require_user(request)
    programmes = await programme_names(request, {submission["programme_id"]})
    return render(
        request,
        "evaluations/evaluation.html",
        MESSAGES,
        status_code=status_code,
        submission=submission,
        patent=await _patent(request, submission["patent_id"]),
        programme=programmes.get(submission["programme_id"]),
        may_record=submission["status"] == "under_evaluation" and submission["evaluator_id"] == user.subject,
        values=values,
        errors=errors,
        problem=problem,
        results=RESULTS,
        recorded=request.query_params.get("recorded") == "1",
    )


@router.get("/evaluations/{submission_id}", response_class=HTMLResponse)
async def evaluation(request: Request, submission_id: str) -> HTMLResponse:
    require_user(request)
    submission = await api_of(request).get(request, f"/api/v1/licensing/submissions/{submission_id}")
    return await _evaluation_page(request, submission, {}, {})


@router.post("/evaluations/{submission_id}", response_class=HTMLResponse)
async def record(request: Request, submission_id: str) -> Response:
    require_user(request)
    form = await request.form()
    lang = lang_of(request)
    values = {"result": str(form.get("result", "")), "reason": str(form.get("reason", "")).strip()}
    errors: dict[str, str] = {}
    if values["result"] not in RESULTS:
        errors["result"] = MESSAGES.get(lang, "choose_result")
    if len(values["reason"]) < REASON_MIN:
        errors["reason"] = MESSAGES.get(lang, "reason_short").format(n=REASON_MIN)
    elif len(values["reason"]) > REASON_MAX:
        errors["reason"] = MESSAGES.get(lang, "reason_long").format(n=REASON_MAX)
    api = api_of(request)
    problem: ApiProblem | None = None
    if not errors:
        try:
            await api.post(request, f"/api/v1/licensing/submissions/{submission_id}/evaluation", values)
        except ApiProblem as refused:
            problem, errors = refused, refused.errors
        else:
            return redirect(f"/evaluations/{submission_id}?recorded=1")
    submission = await api.get(request, f"/api/v1/licensing/submissions/{submission_id}")
    return await _evaluation_page(request, submission, values, errors, problem, status_code=422)
