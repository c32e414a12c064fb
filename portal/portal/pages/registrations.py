"""Training for a member company's people: register one person or a group for a session (all or
none, or onto the waiting list), the organisation's registrations with their status history,
cancelling, accepting a place offered from the waiting list before the offer expires, and the
certificates and credit hours earned.

The public calendar (``/training``) links here with ``/registrations/new?session=<id>``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal import member
from portal.api import api_of
from portal.beijing_time import beijing
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
ROWS = 5  # attendee rows on the form (the API takes up to its own maximum; more rows: register again)
STATUSES = ("confirmed", "pending", "waitlisted", "offered", "cancelled", "rejected", "offer_expired")
CANCELLABLE = ("confirmed", "pending", "waitlisted", "offered")
MESSAGES = member.catalogue(
    {
        "en": {
            "title": "Training registrations",
            "intro": "Your organisation's registrations for the alliance's training, and what they earned.",
            "all_intro": "Every organisation's registrations (staff view).",
            "calendar_link": "The training calendar",
            "register_link": "Register for a session",
            "other_sessions": "Other sessions",
            "session": "Session",
            "attendee": "Attendee",
            "status": "Status",
            "price": "Price",
            "details": "Details",
            "open": "Open",
            "none": "No registrations yet. Choose a session on the training calendar to register.",
            "filter_status": "Status",
            "any_status": "Any status",
            "show": "Show",
            "waitlist_position": "No. {n} on the waiting list",
            "offer_until": "Place offered until {at} (Beijing time, UTC+8)",
            "offer_title": "A place is offered to you",
            "offer_text": (
                "A place for {name} at “{session}” is free. Accept it before {at} (Beijing time, UTC+8), or it goes "
                "to the next person waiting."
            ),
            "accept": "Accept the place",
            "accept_for": "Accept the place for {name}",
            "accepted": "The place is confirmed.",
            "cancel": "Cancel the registration",
            "cancel_for": "Cancel the registration of {name}",
            "cancel_reason": "Reason (optional)",
            "cancel_fee_note": (
                "Free until {at} (Beijing time, UTC+8); after that the cancellation fee of {fee} {currency} is charged."
            ),
            "cancelled": "The registration was cancelled.",
            "cancel_free": "Cancelling is free of charge; the place goes to the next person waiting.",
            "registered": "{placed} registered, {waitlisted} on the waiting list.",
            "history": "Status history",
            "by": "by {who}",
            "certificate": "Certificate",
            "certificate_check": "Check the certificate",
            "credit_hours": "Credit hours",
            "credit_title": "Certificates and credit hours",
            "credit_total": "{hours} hours over {sessions} sessions",
            "credit_none": "No credit hours earned yet.",
            "credit_choose": "Choose an organisation to see its credit hours.",
            "person_hours": "Hours",
            "person_sessions": "Sessions",
            "email": "E-mail",
            "certificates": "Certificates",
            "no_certificates": "No certificates yet.",
            "days_attended": "Days attended",
            "registered_at": "Registered",
            "fee": "Cancellation fee",
            "new_title": "Register for a session",
            "new_intro": "Register one person, or several at once: all of them get a place, or none does.",
            "when": "When",
            "where": "Where",
            "online": "Online",
            "seats": "Seats left",
            "waiting": "{n} waiting",
            "your_price": "Your price",
            "member_price": "member price",
            "early_bird": "early bird",
            "closes": "Registration closes (Beijing time)",
            "approval": "Registrations wait for the secretariat's approval.",
            "attendees": "Attendees",
            "person_n": "Person {n}",
            "name": "Name",
            "rows_hint": "Fill in one row per person; empty rows are left out.",
            "waitlist": "If there are not enough seats, put everyone on the waiting list",
            "waitlist_hint": "Without this, a group that does not fit is not registered at all.",
            "submit": "Register",
            "one_person": "Please fill in at least one person.",
            "no_session": "Choose the session to register for.",
            "no_sessions": "No sessions are scheduled.",
            "register_for": "Register for {title}",
            "back": "Back to the registrations",
            "status.pending": "Awaiting approval",
            "status.confirmed": "Confirmed",
            "status.waitlisted": "Waiting list",
            "status.offered": "Place offered",
            "status.rejected": "Rejected",
            "status.cancelled": "Cancelled",
            "status.offer_expired": "Offer expired",
            "format.salon": "Salon",
            "format.seminar": "Seminar",
            "format.course": "Course",
            "detail_title": "Registration of {name}",
        },
        "zh": {
            "title": "培训报名",
            "intro": "本单位的培训报名及所获学时与证书。",
            "all_intro": "所有单位的报名（工作人员视图）。",
            "calendar_link": "培训日历",
            "register_link": "报名参加课程",
            "other_sessions": "其他课程",
            "session": "课程",
            "attendee": "学员",
            "status": "状态",
            "price": "费用",
            "details": "详情",
            "open": "查看",
            "none": "尚无报名。请在培训日历中选择课程报名。",
            "filter_status": "状态",
            "any_status": "全部状态",
            "show": "显示",
            "waitlist_position": "候补第 {n} 位",
            "offer_until": "名额保留至 {at}（北京时间）",
            "offer_title": "有名额可以接受",
            "offer_text": "“{session}”为 {name} 空出一个名额。请在 {at}（北京时间）前接受，否则将转给下一位候补。",
            "accept": "接受名额",
            "accept_for": "为 {name} 接受名额",
            "accepted": "名额已确认。",
            "cancel": "取消报名",
            "cancel_for": "取消 {name} 的报名",
            "cancel_reason": "原因（可选）",
            "cancel_fee_note": "{at}（北京时间）前取消免费；之后收取取消费 {fee} {currency}。",
            "cancelled": "报名已取消。",
            "cancel_free": "取消免费；名额将转给下一位候补。",
            "registered": "已报名 {placed} 人，候补 {waitlisted} 人。",
            "history": "状态记录",
            "by": "操作人：{who}",
            "certificate": "证书",
            "certificate_check": "查验证书",
            "credit_hours": "学时",
            "credit_title": "证书与学时",
            "credit_total": "共 {hours} 学时，{sessions} 门课程",
            "credit_none": "尚未获得学时。",
            "credit_choose": "请选择单位以查看其学时。",
            "person_hours": "学时",
            "person_sessions": "课程数",
            "email": "电子邮箱",
            "certificates": "证书",
            "no_certificates": "尚无证书。",
            "days_attended": "出勤日期",
            "registered_at": "报名时间",
            "fee": "取消费",
            "new_title": "报名参加课程",
            "new_intro": "可为一人报名，也可一次为多人报名：要么全部获得名额，要么都不报名。",
            "when": "时间",
            "where": "地点",
            "online": "线上",
            "seats": "剩余名额",
            "waiting": "{n} 人候补",
            "your_price": "您的价格",
            "member_price": "会员价",
            "early_bird": "早鸟价",
            "closes": "报名截止（北京时间）",
            "approval": "报名须经秘书处审批。",
            "attendees": "学员",
            "person_n": "第 {n} 人",
            "name": "姓名",
            "rows_hint": "每行填写一人；空行不计。",
            "waitlist": "名额不足时，全部进入候补名单",
            "waitlist_hint": "不勾选时，名额不足的团体报名将全部不予登记。",
            "submit": "报名",
            "one_person": "请至少填写一人。",
            "no_session": "请选择要报名的课程。",
            "no_sessions": "暂无排期。",
            "register_for": "报名：{title}",
            "back": "返回报名列表",
            "status.pending": "待审批",
            "status.confirmed": "已确认",
            "status.waitlisted": "候补中",
            "status.offered": "名额待接受",
            "status.rejected": "已拒绝",
            "status.cancelled": "已取消",
            "status.offer_expired": "名额已过期",
            "format.salon": "沙龙",
            "format.seminar": "研讨会",
            "format.course": "课程",
            "detail_title": "{name} 的报名",
        },
    }
)
register_nav("/registrations", "My training", "我的培训", member.member_or_staff, order=23)


def moment(value: Any) -> str:
    """An API timestamp as people read it: ``2026-12-01 17:30`` in Beijing time (the messages say so),
    as the notification mails write it."""
    return beijing(value)


async def _sessions(request: Request, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The sessions the registrations belong to, by id (one read each; a page names a few)."""
    found: dict[str, dict[str, Any]] = {}
    api = api_of(request)
    for session_id in dict.fromkeys(ids):
        try:
            found[session_id] = await api.get(request, f"/api/v1/training/sessions/{quote(session_id, safe='')}")
        except (NotAllowed, PageNotFound):
            continue
    return found


@router.get("/registrations", response_class=HTMLResponse)
async def registrations(request: Request) -> HTMLResponse:
    user = require_user(request)
    api = api_of(request)
    chosen_status = request.query_params.get("status", "")
    chosen_status = chosen_status if chosen_status in STATUSES else ""
    params = {"cursor": request.query_params.get("cursor"), "status": chosen_status}
    page = await api.get(request, "/api/v1/training/registrations", params)
    items: list[dict[str, Any]] = page.get("items", [])
    sessions = await _sessions(request, [r["session_id"] for r in items])
    org_id = member.org_id_in_view(request, user)
    choice = await member.org_choice(request) if user.is_staff else None
    hours = org = None
    if org_id is not None:
        org = await member.organisation(request, org_id)
        hours = await api.get(request, f"/api/v1/membership/organisations/{org_id}/credit-hours")
    return render(
        request,
        "registrations/index.html",
        MESSAGES,
        registrations=items,
        sessions=sessions,
        pages=pager(request, page.get("next_cursor")),
        statuses=STATUSES,
        chosen_status=chosen_status,
        cancellable=CANCELLABLE,
        hours=hours,
        org=org,
        choice=choice,
        chosen=org_id or "",
        moment=moment,
        notice=_notice(request),
    )


def _notice(request: Request) -> str:
    lang = lang_of(request)
    query = request.query_params
    if query.get("placed") is not None:
        return MESSAGES.get(lang, "registered").format(placed=query["placed"], waitlisted=query.get("waitlisted", "0"))
    for key in ("accepted", "cancelled"):
        if query.get(key) == "1":
            return MESSAGES.get(lang, key)
    return ""


# --- registering ---------------------------------------------------------------------------------


async def _form(
    request: Request,
    session_id: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: ApiProblem | None = None,
) -> HTMLResponse:
    api = api_of(request)
    session = await api.get(request, f"/api/v1/training/sessions/{quote(session_id, safe='')}")
    quote_ = await api.get(request, f"/api/v1/training/sessions/{quote(session_id, safe='')}/quote")
    return render(
        request,
        "registrations/new.html",
        MESSAGES,
        status_code=422 if errors or problem else 200,
        session=session,
        price=quote_,
        rows=range(ROWS),
        values=values or {},
        errors=errors or {},
        problem=problem,
        moment=moment,
    )


@router.get("/registrations/new", response_class=HTMLResponse)
async def new_registration(request: Request) -> HTMLResponse:
    require_user(request)
    session_id = request.query_params.get("session", "").strip()
    if not session_id:  # the choice of session, as on the calendar
        params = {"cursor": request.query_params.get("cursor")}
        page = await api_of(request).get(request, "/api/v1/training/sessions", params)
        return render(
            request,
            "registrations/no_session.html",
            MESSAGES,
            sessions=page.get("items", []),
            pages=pager(request, page.get("next_cursor")),
        )
    return await _form(request, session_id)


@router.post("/registrations/new", response_class=HTMLResponse)
async def register(request: Request) -> Response:
    require_user(request)
    form = await request.form()
    session_id = member.form_text(form, "session")
    if not session_id:
        return redirect("/registrations/new")
    people = []
    for i in range(ROWS):
        name = member.form_text(form, f"attendees.{i}.attendee_name")
        email = member.form_text(form, f"attendees.{i}.attendee_email")
        if name or email:
            people.append({"attendee_name": name, "attendee_email": email})
    waitlist = form.get("waitlist") == "on"
    values = {f"attendees.{i}.{k}": v for i, p in enumerate(people) for k, v in p.items()}
    if waitlist:
        values["waitlist"] = "on"
    lang = lang_of(request)
    errors = {
        f"attendees.{i}.{k}": MESSAGES.get(lang, "m.required")
        for i, p in enumerate(people)
        for k, v in p.items()
        if not v
    }
    if not people:
        errors["attendees.0.attendee_name"] = MESSAGES.get(lang, "one_person")
    if errors:
        return await _form(request, session_id, values, errors)
    api = api_of(request)
    base = f"/api/v1/training/sessions/{quote(session_id, safe='')}"
    try:
        if len(people) == 1:
            one = await api.post(request, base + "/registrations", {**people[0], "waitlist": waitlist})
            placed = 0 if one.get("status") == "waitlisted" else 1
            waitlisted = 1 - placed
        else:
            group = await api.post(request, base + "/group-registrations", {"attendees": people, "waitlist": waitlist})
            placed, waitlisted = int(group.get("placed", 0)), int(group.get("waitlisted", 0))
    except ApiProblem as problem:
        field_errors = {k if k.startswith("attendees.") else f"attendees.0.{k}": v for k, v in problem.errors.items()}
        return await _form(request, session_id, values, field_errors, problem)
    return redirect("/registrations?" + urlencode({"placed": placed, "waitlisted": waitlisted}))


# --- one registration ------------------------------------------------------------------------------


def _path(session_id: str, registration_id: str) -> str:
    return f"/api/v1/training/sessions/{quote(session_id, safe='')}/registrations/{quote(registration_id, safe='')}"


async def _detail(
    request: Request, session_id: str, registration_id: str, problem: ApiProblem | None = None
) -> HTMLResponse:
    api = api_of(request)
    registration = await api.get(request, _path(session_id, registration_id))
    session = await api.get(request, f"/api/v1/training/sessions/{quote(session_id, safe='')}")
    return render(
        request,
        "registrations/detail.html",
        MESSAGES,
        status_code=409 if problem else 200,
        r=registration,
        session=session,
        cancellable=CANCELLABLE,
        problem=problem,
        moment=moment,
        notice=_notice(request),
    )


@router.get("/registrations/{session_id}/{registration_id}", response_class=HTMLResponse)
async def registration(request: Request, session_id: str, registration_id: str) -> HTMLResponse:
    require_user(request)
    return await _detail(request, session_id, registration_id)


async def _act(request: Request, session_id: str, registration_id: str, action: str, body: Any) -> Response:
    require_user(request)
    try:
        await api_of(request).post(request, f"{_path(session_id, registration_id)}/{action}", body)
    except ApiProblem as problem:
        return await _detail(request, session_id, registration_id, problem)
    done = "accepted" if action == "accept" else "cancelled"
    form = await request.form()
    back = member.form_text(form, "back")
    if back == "list":
        return redirect(f"/registrations?{done}=1")
    return redirect(f"/registrations/{quote(session_id, safe='')}/{quote(registration_id, safe='')}?{done}=1")


@router.post("/registrations/{session_id}/{registration_id}/accept", response_class=HTMLResponse)
async def accept(request: Request, session_id: str, registration_id: str) -> Response:
    return await _act(request, session_id, registration_id, "accept", None)


@router.post("/registrations/{session_id}/{registration_id}/cancel", response_class=HTMLResponse)
async def cancel(request: Request, session_id: str, registration_id: str) -> Response:
    form = await request.form()
    reason = member.form_text(form, "reason")
    return await _act(request, session_id, registration_id, "cancel", {"reason": reason} if reason else {})
