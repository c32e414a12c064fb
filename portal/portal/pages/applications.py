"""The application queue and one organisation's file, for the secretariat and the council.

The secretariat reviews an application (accept it for the council's decision, ask for changes, or
reject it, with a reason unless it accepts), the council decides (admit from a start date, or
reject). Once admitted, the secretariat suspends, reinstates and renews a member, and the council
expels one. Each form is shown only to the role the API lets act, and only while the state allows;
the API's answer (a field error, a 409) is shown on the form.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal.api import api_of
from portal.i18n import Catalogue
from portal.staff import council, field_errors, secretariat, staff, text
from portal.terms import with_terms
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
ORGS = "/api/v1/membership/organisations"
STATUSES = ("submitted", "changes_requested", "accepted_for_decision", "admitted", "rejected")
REVIEWABLE = ("submitted", "changes_requested")
TERMINAL = ("withdrawn", "expelled")

MESSAGES = Catalogue(
    with_terms(
        {
            "en": {
                "title": "Applications and members",
                "intro": (
                    "Applications for membership and the alliance's members. Secretariat: review; council: decide."
                ),
                "status": "Status",
                "all": "All",
                "conflicts_only": "Only credit codes another organisation claims",
                "show": "Show",
                "name": "Organisation",
                "credit_code": "Credit code",
                "submitted": "Submitted",
                "conflict": "Credit code also claimed by another organisation",
                "conflict_short": "Credit code conflict",
                "none": "No organisations match.",
                "open": "Open",
                "back": "Back to the queue",
                "org_type": "Kind",
                "segments": "Segments",
                "region": "Region",
                "tier": "Tier",
                "contact": "Contact",
                "standing": "Standing",
                "number": "Membership number",
                "period": "Current period",
                "history": "History",
                "at": "When",
                "action": "What",
                "by": "By",
                "reason": "Reason",
                "no_reason": "—",
                "review": "Secretariat review",
                "review_hint": (
                    "Accepting sends the application to the council. Asking for changes or rejecting needs a reason."
                ),
                "decision": "Decision",
                "review.accept": "Accept for the council's decision",
                "review.request_changes": "Request changes",
                "review.reject": "Reject",
                "send_review": "Record the review",
                "council_decision": "Council decision",
                "council_hint": "Admitting gives the organisation its membership number from the start date.",
                "council.admit": "Admit",
                "council.reject": "Reject",
                "start_date": "First day of membership",
                "start_date_hint": "Empty: today. A past date brings in an existing member.",
                "send_decision": "Record the decision",
                "membership": "Membership",
                "suspend": "Suspend",
                "suspend_hint": "The member loses its rights until reinstated.",
                "reinstate": "Reinstate",
                "renew": "Renew",
                "renew_hint": "Extends the period while in standing, or starts a new one once lapsed.",
                "expel": "Expel",
                "expel_hint": "Final: the organisation is no longer a member.",
                "no_action": "Nothing can be done with this application now.",
                "waiting_council": "The application awaits the council's decision.",
                "waiting_secretariat": "The application awaits the secretariat's review.",
                "conflict_blocks": "Another organisation claims this credit code: check before accepting or admitting.",
                "done.review": "The review was recorded.",
                "done.decision": "The decision was recorded.",
                "done.suspension": "The member was suspended.",
                "done.reinstatement": "The member was reinstated.",
                "done.renewal": "The membership was renewed.",
                "done.expulsion": "The member was expelled.",
                "role.member_admin": "member administrator",
                "role.member_staff": "staff",
                "h.applied": "Applied",
                "h.review:accept": "Accepted for the council's decision",
                "h.review:request_changes": "Changes requested",
                "h.review:reject": "Rejected by the secretariat",
                "h.credit-code-conflict": "Credit code also claimed by",
                "h.council:admit": "Admitted by the council",
                "h.council:reject": "Rejected by the council",
                "h.user-added": "Person added",
                "h.user-removed": "Person removed",
                "h.suspended": "Suspended",
                "h.reinstated": "Reinstated",
                "h.withdrawn": "Withdrew",
                "h.expelled": "Expelled",
                "h.renewed": "Renewed",
                "h.override": "Status set by hand",
                "h.status": "Status changed",
            },
            "zh": {
                "title": "入会申请与会员",
                "intro": "入会申请与联盟会员。秘书处审核，理事会决定。",
                "status": "状态",
                "all": "全部",
                "conflicts_only": "仅显示信用代码被其他单位申报的",
                "show": "显示",
                "name": "单位",
                "credit_code": "信用代码",
                "submitted": "提交时间",
                "conflict": "该信用代码也被其他单位申报",
                "conflict_short": "信用代码冲突",
                "none": "没有符合条件的单位。",
                "open": "查看",
                "back": "返回申请列表",
                "org_type": "类型",
                "segments": "产业环节",
                "region": "地区",
                "tier": "级别",
                "contact": "联系人",
                "standing": "会籍状态",
                "number": "会员编号",
                "period": "当前会籍期",
                "history": "记录",
                "at": "时间",
                "action": "操作",
                "by": "操作人",
                "reason": "理由",
                "no_reason": "—",
                "review": "秘书处审核",
                "review_hint": "通过后提交理事会决定。要求修改或拒绝须填写理由。",
                "decision": "结论",
                "review.accept": "通过，提交理事会决定",
                "review.request_changes": "要求修改",
                "review.reject": "拒绝",
                "send_review": "记录审核结果",
                "council_decision": "理事会决定",
                "council_hint": "批准入会后，单位自起始日起获得会员编号。",
                "council.admit": "批准入会",
                "council.reject": "拒绝",
                "start_date": "会籍起始日",
                "start_date_hint": "留空为今天；填过去的日期可录入已有会员。",
                "send_decision": "记录决定",
                "membership": "会籍",
                "suspend": "暂停会籍",
                "suspend_hint": "恢复前该会员不享有会员权利。",
                "reinstate": "恢复会籍",
                "renew": "续期",
                "renew_hint": "会籍有效时延长当前期限，过期后开始新的期限。",
                "expel": "除名",
                "expel_hint": "不可撤销：该单位不再是会员。",
                "no_action": "目前无法对该申请进行操作。",
                "waiting_council": "该申请正等待理事会决定。",
                "waiting_secretariat": "该申请正等待秘书处审核。",
                "conflict_blocks": "另有单位申报了该信用代码：通过或批准前请先核实。",
                "done.review": "审核结果已记录。",
                "done.decision": "决定已记录。",
                "done.suspension": "会籍已暂停。",
                "done.reinstatement": "会籍已恢复。",
                "done.renewal": "会籍已续期。",
                "done.expulsion": "该会员已被除名。",
                "role.member_admin": "会员管理员",
                "role.member_staff": "员工",
                "h.applied": "提交申请",
                "h.review:accept": "审核通过，提交理事会",
                "h.review:request_changes": "要求修改",
                "h.review:reject": "秘书处拒绝",
                "h.credit-code-conflict": "信用代码也被以下单位申报",
                "h.council:admit": "理事会批准入会",
                "h.council:reject": "理事会拒绝",
                "h.user-added": "添加人员",
                "h.user-removed": "移除人员",
                "h.suspended": "暂停会籍",
                "h.reinstated": "恢复会籍",
                "h.withdrawn": "退会",
                "h.expelled": "除名",
                "h.renewed": "续期",
                "h.override": "手动设置状态",
                "h.status": "状态变更",
            },
        }
    )
)
register_nav("/staff/applications", "Applications", "入会申请", staff, order=70)


def describe(action: str, lang: str) -> str:
    """A history entry's action in words: ``council:admit``, ``renewed:2026-01-01..2026-12-31``,
    ``status:current->grace``, ``override:suspended``; an unknown action shows as it is."""
    key = f"h.{action}"
    if key in MESSAGES:
        return MESSAGES.get(lang, key)
    head, _, detail = action.partition(":")
    if f"h.{head}" not in MESSAGES:
        return action
    words = []
    for part in detail.replace("->", " → ").replace("..", " – ").split(" "):
        known = [k for k in (f"standing.{part}", f"role.{part}") if k in MESSAGES]
        words.append(MESSAGES.get(lang, known[0]) if known else part)
    return f"{MESSAGES.get(lang, f'h.{head}')}: {' '.join(words)}" if detail else MESSAGES.get(lang, f"h.{head}")


def _actions(user: Any, org: dict[str, Any]) -> dict[str, bool]:
    """Which forms the person may use on this organisation now (the API decides in the end)."""
    status, standing = org.get("status"), org.get("standing")
    member = status == "admitted" and standing is not None and standing not in TERMINAL
    return {
        "review": secretariat(user) and status in REVIEWABLE,
        "decision": council(user) and status == "accepted_for_decision",
        "suspension": secretariat(user) and member and standing != "suspended",
        "reinstatement": secretariat(user) and member and standing == "suspended",
        "renewal": secretariat(user) and member and standing != "suspended",
        "expulsion": council(user) and member,
    }


@router.get("/staff/applications", response_class=HTMLResponse)
async def queue(request: Request) -> HTMLResponse:
    user = require_user(request)
    if not staff(user):
        raise NotAllowed()
    status = request.query_params.get("status", "")
    status = status if status in STATUSES else ""
    conflicts = request.query_params.get("conflict") == "1"
    params = {
        "cursor": request.query_params.get("cursor"),
        "status": status,
        "credit_code_conflict": "true" if conflicts else None,
    }
    page = await api_of(request).get(request, ORGS, params)
    return render(
        request,
        "applications/queue.html",
        MESSAGES,
        organisations=page.get("items", []),
        statuses=STATUSES,
        status=status,
        conflicts=conflicts,
        pages=pager(request, page.get("next_cursor")),
    )


async def _file(
    request: Request,
    org_id: str,
    *,
    form: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: ApiProblem | None = None,
) -> HTMLResponse:
    user = require_user(request)
    if not staff(user):
        raise NotAllowed()
    org = await api_of(request).get(request, f"{ORGS}/{org_id}")
    done = request.query_params.get("done", "")
    lang = lang_of(request)
    history = [{**h, "what": describe(str(h.get("action", "")), lang)} for h in org.get("history", [])]
    return render(
        request,
        "applications/file.html",
        MESSAGES,
        status_code=422 if problem is not None else 200,
        org=org,
        history=history,
        actions=_actions(user, org),
        done=done if done in ("review", "decision", "suspension", "reinstatement", "renewal", "expulsion") else "",
        form=form,
        values=values or {},
        errors=errors or {},
        problem=problem,
    )


@router.get("/staff/applications/{org_id}", response_class=HTMLResponse)
async def file(request: Request, org_id: str) -> HTMLResponse:
    return await _file(request, org_id)


async def _act(request: Request, org_id: str, action: str, body: dict[str, Any], values: dict[str, str]) -> Response:
    try:
        await api_of(request).post(request, f"{ORGS}/{org_id}/{action}", body)
    except ApiProblem as problem:
        return await _file(request, org_id, form=action, values=values, errors=field_errors(problem), problem=problem)
    return redirect(f"/staff/applications/{org_id}?done={action}")


@router.post("/staff/applications/{org_id}/review", response_class=HTMLResponse)
async def review(request: Request, org_id: str) -> Response:
    require_user(request)
    form = await request.form()
    values = {"decision": text(form, "decision"), "reason": text(form, "reason")}
    body = {"decision": values["decision"] or None, "reason": values["reason"] or None}
    return await _act(request, org_id, "review", body, values)


@router.post("/staff/applications/{org_id}/decision", response_class=HTMLResponse)
async def decision(request: Request, org_id: str) -> Response:
    require_user(request)
    form = await request.form()
    values = {k: text(form, k) for k in ("decision", "reason", "start_date")}
    body: dict[str, Any] = {"decision": values["decision"] or None, "reason": values["reason"] or None}
    if values["start_date"]:
        body["start_date"] = values["start_date"]
    return await _act(request, org_id, "decision", body, values)


@router.post("/staff/applications/{org_id}/{action}", response_class=HTMLResponse)
async def membership_action(request: Request, org_id: str, action: str) -> Response:
    require_user(request)
    if action not in ("suspension", "reinstatement", "renewal", "expulsion"):
        raise PageNotFound()
    form = await request.form()
    values = {"reason": text(form, "reason")}
    body: dict[str, Any] = {}
    if action != "renewal" and (values["reason"] or action in ("suspension", "expulsion")):
        body["reason"] = values["reason"] or None
    return await _act(request, org_id, action, body, values)
