"""Training sessions for the secretariat and the council: scheduling (also the sessions proposed on
newly published standards), a session's registrations (approve or reject those pending),
attendance day by day, and closing attendance (credit hours and certificates).

The secretariat schedules and closes attendance; both the secretariat and the council approve,
reject and check people in. Times are entered and shown in China time (UTC+8).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal.api import api_of
from portal.i18n import Catalogue
from portal.staff import field_errors, from_local_input, require_staff, secretariat, staff, text
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
TRAINING = "/api/v1/training"
AUDIENCES = ("executives", "ip_managers", "engineers")
FORMATS = ("salon", "seminar", "course")
REGISTRATION_STATUSES = ("pending", "confirmed", "waitlisted", "offered", "rejected", "cancelled", "offer_expired")
MOMENTS = (
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "early_bird_until",
    "cancellation_deadline",
)
MONEY = ("member_price", "non_member_price", "early_bird_price", "cancellation_fee", "credit_hours_per_day")
INTEGERS = ("capacity", "min_days_for_certificate")
TEXTS = ("title", "audience", "format", "venue", "currency")

MESSAGES = Catalogue(
    {
        "en": {
            "title": "Training sessions",
            "intro": "Schedule sessions, handle registrations and record attendance.",
            "schedule_new": "Schedule a session",
            "proposals": "Proposed on newly published standards",
            "proposals_none": "No proposals are waiting to be scheduled.",
            "standard": "Standard",
            "published": "Published",
            "schedule_this": "Schedule",
            "sessions": "Sessions",
            "sessions_none": "No sessions are scheduled yet.",
            "when": "When",
            "session": "Session",
            "seats": "Seats left",
            "waiting": "{n} waiting",
            "closed": "Attendance closed",
            "form_title": "Schedule a session",
            "form_title_proposal": "Schedule the proposed session on {standard}",
            "times_hint": "Times are China time (UTC+8).",
            "what": "The session",
            "session_title": "Title",
            "audience": "Audience",
            "format": "Format",
            "where_when": "Time and place",
            "starts_at": "Starts",
            "ends_at": "Ends",
            "venue": "Venue",
            "online": "Also online",
            "places": "Places and prices",
            "capacity": "Capacity",
            "member_price": "Member price",
            "non_member_price": "Non-member price",
            "currency": "Currency",
            "early_bird_price": "Early-bird price (optional)",
            "early_bird_until": "Early bird until (optional)",
            "registration": "Registration",
            "registration_opens_at": "Registration opens (optional, default now)",
            "registration_closes_at": "Registration closes (optional, default the start)",
            "requires_approval": "Registrations need the secretariat's approval",
            "cancellation_deadline": "Free cancellation until (optional)",
            "cancellation_fee": "Cancellation fee after it",
            "certificates": "Credit hours and certificates",
            "credit_hours_per_day": "Credit hours per day (optional)",
            "min_days_for_certificate": "Days needed for a certificate (optional, default all)",
            "submit_schedule": "Schedule the session",
            "required": "required",
            "bad_time": "enter a date and time",
            "bad_number": "enter a whole number",
            "back": "Back to the sessions",
            "scheduled": "The session was scheduled.",
            "days": "Days",
            "where": "Where",
            "price": "Price (member / other)",
            "approval": "Approval",
            "approval_yes": "Registrations are approved by staff",
            "approval_no": "Registrations are confirmed at once",
            "registrations": "Registrations",
            "filter_status": "Status",
            "all": "All",
            "show": "Show",
            "attendee": "Attendee",
            "organisation": "Organisation",
            "status": "Status",
            "attended": "Days attended",
            "actions": "Actions",
            "no_org": "—",
            "none_attended": "—",
            "registrations_none": "No registrations match.",
            "approve": "Approve",
            "reject": "Reject",
            "reject_reason": "Reason for rejecting",
            "check_in": "Check in",
            "day": "Day",
            "checked_in_all": "Attended every day",
            "close": "Close attendance",
            "close_hint": (
                "Gives credit hours to every attendee and certificates to those who attended enough days. "
                "It cannot be undone."
            ),
            "close_done": "Attendance is closed: {n} attendees credited.",
            "certificates_issued": "Certificates issued",
            "no_certificates": "Nobody attended enough days for a certificate.",
            "code": "Verification code",
            "hours": "Credit hours",
            "done.approve": "The registration was approved.",
            "done.reject": "The registration was rejected.",
            "done.check-in": "The attendance was recorded.",
            "audience.executives": "Executives",
            "audience.ip_managers": "IP managers",
            "audience.engineers": "Engineers",
            "format.salon": "Salon",
            "format.seminar": "Seminar",
            "format.course": "Course",
            "reg.pending": "Pending approval",
            "reg.confirmed": "Confirmed",
            "reg.waitlisted": "Waiting list",
            "reg.offered": "Place offered",
            "reg.rejected": "Rejected",
            "reg.cancelled": "Cancelled",
            "reg.offer_expired": "Offer expired",
        },
        "zh": {
            "title": "培训管理",
            "intro": "安排培训、处理报名并登记出勤。",
            "schedule_new": "安排新培训",
            "proposals": "根据新发布标准提议的培训",
            "proposals_none": "暂无待安排的提议。",
            "standard": "标准",
            "published": "发布日期",
            "schedule_this": "安排",
            "sessions": "已安排的培训",
            "sessions_none": "尚未安排任何培训。",
            "when": "时间",
            "session": "培训",
            "seats": "剩余名额",
            "waiting": "{n} 人候补",
            "closed": "出勤已结束登记",
            "form_title": "安排培训",
            "form_title_proposal": "安排关于 {standard} 的提议培训",
            "times_hint": "时间均为北京时间（UTC+8）。",
            "what": "培训内容",
            "session_title": "标题",
            "audience": "对象",
            "format": "形式",
            "where_when": "时间与地点",
            "starts_at": "开始",
            "ends_at": "结束",
            "venue": "地点",
            "online": "同时线上举办",
            "places": "名额与价格",
            "capacity": "名额",
            "member_price": "会员价",
            "non_member_price": "非会员价",
            "currency": "币种",
            "early_bird_price": "早鸟价（可选）",
            "early_bird_until": "早鸟截止（可选）",
            "registration": "报名",
            "registration_opens_at": "报名开始（可选，默认现在）",
            "registration_closes_at": "报名截止（可选，默认开课时）",
            "requires_approval": "报名须经秘书处审批",
            "cancellation_deadline": "免费取消截止（可选）",
            "cancellation_fee": "截止后取消费用",
            "certificates": "学时与证书",
            "credit_hours_per_day": "每天学时（可选）",
            "min_days_for_certificate": "获得证书所需天数（可选，默认全部）",
            "submit_schedule": "安排培训",
            "required": "必填",
            "bad_time": "请输入日期和时间",
            "bad_number": "请输入整数",
            "back": "返回培训列表",
            "scheduled": "培训已安排。",
            "days": "日期",
            "where": "地点",
            "price": "价格（会员／非会员）",
            "approval": "审批",
            "approval_yes": "报名须经审批",
            "approval_no": "报名即确认",
            "registrations": "报名",
            "filter_status": "状态",
            "all": "全部",
            "show": "显示",
            "attendee": "学员",
            "organisation": "单位",
            "status": "状态",
            "attended": "出勤日期",
            "actions": "操作",
            "no_org": "—",
            "none_attended": "—",
            "registrations_none": "没有符合条件的报名。",
            "approve": "批准",
            "reject": "拒绝",
            "reject_reason": "拒绝理由",
            "check_in": "签到",
            "day": "日期",
            "checked_in_all": "已全勤",
            "close": "结束出勤登记",
            "close_hint": "为所有出勤学员记入学时，为出勤天数足够者颁发证书。此操作不可撤销。",
            "close_done": "出勤登记已结束：已为 {n} 名学员记入学时。",
            "certificates_issued": "已颁发证书",
            "no_certificates": "没有学员出勤天数足以获得证书。",
            "code": "验证码",
            "hours": "学时",
            "done.approve": "报名已批准。",
            "done.reject": "报名已拒绝。",
            "done.check-in": "出勤已登记。",
            "audience.executives": "企业高管",
            "audience.ip_managers": "知识产权经理",
            "audience.engineers": "工程师",
            "format.salon": "沙龙",
            "format.seminar": "研讨会",
            "format.course": "课程",
            "reg.pending": "待审批",
            "reg.confirmed": "已确认",
            "reg.waitlisted": "候补中",
            "reg.offered": "已递补通知",
            "reg.rejected": "已拒绝",
            "reg.cancelled": "已取消",
            "reg.offer_expired": "递补已过期",
        },
    }
)
register_nav("/staff/sessions", "Sessions and attendance", "课程与出勤", staff, order=72)


@router.get("/staff/sessions", response_class=HTMLResponse)
async def sessions(request: Request) -> HTMLResponse:
    require_staff(request)
    api = api_of(request)
    page = await api.get(request, f"{TRAINING}/sessions", {"cursor": request.query_params.get("cursor")})
    proposals = await api.get(request, f"{TRAINING}/proposals", {"status": "proposed"})
    return render(
        request,
        "sessions_admin/index.html",
        MESSAGES,
        sessions=page.get("items", []),
        proposals=proposals.get("items", []),
        may_schedule=secretariat(require_user(request)),
        pages=pager(request, page.get("next_cursor")),
    )


def _form_page(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    problem: ApiProblem | None,
    proposal: dict[str, Any] | None,
) -> HTMLResponse:
    return render(
        request,
        "sessions_admin/schedule.html",
        MESSAGES,
        status_code=422 if errors or problem else 200,
        values=values,
        errors=errors,
        problem=problem,
        proposal=proposal,
        audiences=AUDIENCES,
        formats=FORMATS,
    )


async def _proposal(request: Request, proposal_id: str) -> dict[str, Any] | None:
    if not proposal_id:
        return None
    found: dict[str, Any] = await api_of(request).get(request, f"{TRAINING}/proposals/{proposal_id}")
    return found


@router.get("/staff/sessions/new", response_class=HTMLResponse)
async def schedule_form(request: Request) -> HTMLResponse:
    if not secretariat(require_user(request)):
        raise NotAllowed()
    proposal = await _proposal(request, request.query_params.get("proposal", ""))
    values = {"audience": "engineers", "format": "seminar", "currency": "CNY", "capacity": "30"}
    if proposal is not None:
        values.update(title=proposal["title"], audience=proposal["audience"], format=proposal["format"])
    return _form_page(request, values, {}, None, proposal)


def session_body(values: dict[str, str], lang: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's body from the form's values, and the fields the form itself finds wrong."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {}
    for name in ("title", "starts_at", "ends_at", "capacity", "member_price", "non_member_price"):
        if not values.get(name):
            errors[name] = MESSAGES.get(lang, "required")
    for name in TEXTS + MONEY:
        if values.get(name):
            body[name] = values[name]
    for name in MOMENTS:
        if values.get(name):
            moment = from_local_input(values[name])
            if moment is None:
                errors[name] = MESSAGES.get(lang, "bad_time")
            body[name] = moment
    for name in INTEGERS:
        if values.get(name):
            if values[name].isdigit():
                body[name] = int(values[name])
            else:
                errors[name] = MESSAGES.get(lang, "bad_number")
    body["online"] = values.get("online") == "1"
    body["requires_approval"] = values.get("requires_approval") == "1"
    return body, errors


@router.post("/staff/sessions/new", response_class=HTMLResponse)
async def schedule(request: Request) -> Response:
    if not secretariat(require_user(request)):
        raise NotAllowed()
    form = await request.form()
    names = TEXTS + MOMENTS + MONEY + INTEGERS + ("online", "requires_approval", "proposal")
    values = {name: text(form, name) for name in names}
    proposal = await _proposal(request, values["proposal"])
    body, errors = session_body(values, lang_of(request))
    if proposal is not None:
        errors.pop("title", None)
    if errors:
        return _form_page(request, values, errors, None, proposal)
    api = api_of(request)
    try:
        if proposal is not None:
            created = await api.post(request, f"{TRAINING}/proposals/{proposal['id']}/schedule", body)
        else:
            created = await api.post(request, f"{TRAINING}/sessions", body)
    except ApiProblem as problem:
        return _form_page(request, values, field_errors(problem), problem, proposal)
    session_id = created.get("session_id") or created.get("id")
    return redirect(f"/staff/sessions/{session_id}?done=scheduled")


async def _org_names(request: Request, registrations: list[dict[str, Any]]) -> dict[str, str]:
    """The organisations' names (staff read every organisation); an id stays when it is not found."""
    ids = sorted({r["organisation_id"] for r in registrations if r.get("organisation_id")})
    api = api_of(request)

    async def name_of(org_id: str) -> str:
        try:
            org = await api.get(request, f"/api/v1/membership/organisations/{org_id}")
        except (PageNotFound, NotAllowed):
            return org_id
        return str(org.get("name") or org_id)

    names = await asyncio.gather(*(name_of(i) for i in ids))
    return dict(zip(ids, names, strict=True))


async def _session_page(
    request: Request,
    session_id: str,
    *,
    closed: dict[str, Any] | None = None,
    form: str = "",
    errors: dict[str, str] | None = None,
    problem: ApiProblem | None = None,
) -> HTMLResponse:
    require_staff(request)
    api = api_of(request)
    session = await api.get(request, f"{TRAINING}/sessions/{session_id}")
    status = request.query_params.get("status", "")
    status = status if status in REGISTRATION_STATUSES else ""
    params = {"session_id": session_id, "status": status, "cursor": request.query_params.get("cursor")}
    page = await api.get(request, f"{TRAINING}/registrations", params)
    registrations = page.get("items", [])
    done = request.query_params.get("done", "")
    return render(
        request,
        "sessions_admin/session.html",
        MESSAGES,
        status_code=422 if problem is not None else 200,
        session=session,
        registrations=registrations,
        org_names=await _org_names(request, registrations),
        statuses=REGISTRATION_STATUSES,
        status=status,
        pages=pager(request, page.get("next_cursor")),
        may_close=secretariat(require_user(request)) and not session.get("attendance_closed_at"),
        closed=closed,
        done=done if done in ("scheduled", "approve", "reject", "check-in") else "",
        form=form,
        errors=errors or {},
        problem=problem,
    )


@router.get("/staff/sessions/{session_id}", response_class=HTMLResponse)
async def session_page(request: Request, session_id: str) -> HTMLResponse:
    return await _session_page(request, session_id)


@router.post("/staff/sessions/{session_id}/registrations/{registration_id}/{action}", response_class=HTMLResponse)
async def registration_action(request: Request, session_id: str, registration_id: str, action: str) -> Response:
    require_staff(request)
    if action not in ("approve", "reject", "check-in"):
        raise PageNotFound()
    form = await request.form()
    body: dict[str, Any] = {}
    if action == "reject":
        body["reason"] = text(form, "reason")
    if action == "check-in" and text(form, "day"):
        body["day"] = text(form, "day")
    path = f"{TRAINING}/sessions/{session_id}/registrations/{registration_id}/{action}"
    try:
        await api_of(request).post(request, path, body)
    except ApiProblem as problem:
        return await _session_page(
            request, session_id, form=f"{action}:{registration_id}", errors=field_errors(problem), problem=problem
        )
    return redirect(f"/staff/sessions/{session_id}?done={action}")


@router.post("/staff/sessions/{session_id}/certificates", response_class=HTMLResponse)
async def close_attendance(request: Request, session_id: str) -> Response:
    if not secretariat(require_user(request)):
        raise NotAllowed()
    try:
        closed = await api_of(request).post(request, f"{TRAINING}/sessions/{session_id}/certificates", {})
    except ApiProblem as problem:
        return await _session_page(request, session_id, form="close", errors=field_errors(problem), problem=problem)
    return await _session_page(request, session_id, closed=closed)
