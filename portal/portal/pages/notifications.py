"""A person's e-mail notifications: which kinds they receive and in which language, and the
notifications sent to them (the notifications service's own records, newest first)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal.api import api_of
from portal.i18n import Catalogue
from portal.web import ApiProblem, page_router, pager, redirect, register_nav, render, require_user, signed_in

router = page_router()
KINDS = ("application_decision", "dues_reminder", "ipr_call", "ballot", "waiting_list_offer", "certificate")
LANGUAGES = ("zh-en", "zh", "en")
PATH = "/api/v1/notifications"
MESSAGES = Catalogue(
    {
        "en": {
            "title": "E-mail notifications",
            "intro": "Choose what the alliance e-mails you about. Each is sent once, to your sign-in address.",
            "kinds": "Send me",
            "language": "Language of the mails",
            "save": "Save",
            "saved": "Your choices are saved.",
            "sent": "Notifications sent to you",
            "none_sent": "Nothing has been sent to you yet.",
            "when": "When",
            "about": "About",
            "status": "Status",
            "k.application_decision": "Decisions on my organisation's application",
            "k.dues_reminder": "Dues reminders",
            "k.ipr_call": "Calls for IPR declarations and their deadlines",
            "k.ballot": "Ballots opening and closing",
            "k.waiting_list_offer": "Places offered from a training waiting list (they expire)",
            "k.certificate": "Training certificates",
            "l.zh-en": "Chinese and English in one mail",
            "l.zh": "Chinese",
            "l.en": "English",
            "s.pending": "Being sent",
            "s.sent": "Sent",
            "nav": "Notifications",
        },
        "zh": {
            "title": "邮件通知",
            "intro": "选择联盟通过邮件通知您的事项。每条通知只发送一次，发往您的登录邮箱。",
            "kinds": "通知我",
            "language": "邮件语言",
            "save": "保存",
            "saved": "已保存您的选择。",
            "sent": "已发送给您的通知",
            "none_sent": "尚未向您发送任何通知。",
            "when": "时间",
            "about": "事项",
            "status": "状态",
            "k.application_decision": "本单位入会申请的决定",
            "k.dues_reminder": "会费提醒",
            "k.ipr_call": "知识产权披露征集及截止日期",
            "k.ballot": "投票开始与结束",
            "k.waiting_list_offer": "培训候补名额（有期限）",
            "k.certificate": "培训证书",
            "l.zh-en": "中英文同一封邮件",
            "l.zh": "中文",
            "l.en": "英文",
            "s.pending": "发送中",
            "s.sent": "已发送",
            "nav": "通知",
        },
    }
)
register_nav("/notifications", "Notifications", "通知", signed_in, order=90)


async def _page(
    request: Request, preferences: dict[str, Any] | None = None, problem: ApiProblem | None = None, saved: bool = False
) -> HTMLResponse:
    api = api_of(request)
    if preferences is None:
        preferences = await api.get(request, f"{PATH}/preferences")
    sent = await api.get(request, f"{PATH}/sent", {"cursor": request.query_params.get("cursor"), "limit": 20})
    return render(
        request,
        "notifications/index.html",
        MESSAGES,
        kinds=KINDS,
        languages=LANGUAGES,
        preferences=preferences,
        sent=sent.get("items", []),
        pages=pager(request, sent.get("next_cursor")),
        problem=problem,
        saved=saved,
        status_code=422 if problem else 200,
    )


@router.get("/notifications", response_class=HTMLResponse)
async def notifications(request: Request) -> HTMLResponse:
    require_user(request)
    return await _page(request, saved=request.query_params.get("saved") == "1")


@router.post("/notifications", response_class=HTMLResponse)
async def save(request: Request) -> Response:
    require_user(request)
    form = await request.form()
    language = str(form.get("language", "zh-en"))
    body = {"kinds": {kind: form.get(f"kind-{kind}") == "on" for kind in KINDS}, "language": language}
    try:
        await api_of(request).call(request, "PUT", f"{PATH}/preferences", json=body)
    except ApiProblem as problem:
        chosen = {"kinds": body["kinds"], "language": language if language in LANGUAGES else "zh-en"}
        return await _page(request, chosen, problem)
    return redirect("/notifications?saved=1")
