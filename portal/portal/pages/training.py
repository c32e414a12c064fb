"""The training calendar (anyone): the alliance's scheduled sessions, by audience."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from portal.api import api_of
from portal.i18n import Catalogue
from portal.web import page_router, pager, register_nav, render

router = page_router()
AUDIENCES = ("executives", "ip_managers", "engineers")
MESSAGES = Catalogue(
    {
        "en": {
            "title": "Training calendar",
            "intro": "Salons, seminars and courses of the alliance.",
            "audience": "Audience",
            "all": "Everyone",
            "show": "Show",
            "when": "When",
            "session": "Session",
            "where": "Where",
            "online": "Online",
            "seats": "Seats left",
            "price": "Price (member / other)",
            "waiting": "{n} waiting",
            "none": "No sessions are scheduled.",
            "audience.executives": "Executives",
            "audience.ip_managers": "IP managers",
            "audience.engineers": "Engineers",
            "format.salon": "Salon",
            "format.seminar": "Seminar",
            "format.course": "Course",
        },
        "zh": {
            "title": "培训日历",
            "intro": "联盟的沙龙、研讨会与课程。",
            "audience": "对象",
            "all": "全部",
            "show": "显示",
            "when": "时间",
            "session": "课程",
            "where": "地点",
            "online": "线上",
            "seats": "剩余名额",
            "price": "价格（会员／非会员）",
            "waiting": "{n} 人候补",
            "none": "暂无排期。",
            "audience.executives": "企业高管",
            "audience.ip_managers": "知识产权经理",
            "audience.engineers": "工程师",
            "format.salon": "沙龙",
            "format.seminar": "研讨会",
            "format.course": "课程",
        },
    }
)
register_nav("/training", "Training", "培训", order=40)


@router.get("/training", response_class=HTMLResponse)
async def calendar(request: Request, audience: str = "") -> HTMLResponse:
    chosen = audience if audience in AUDIENCES else ""
    params = {"cursor": request.query_params.get("cursor"), "audience": chosen}
    page = await api_of(request).get(request, "/api/v1/training/sessions", params, public=True)
    return render(
        request,
        "training/index.html",
        MESSAGES,
        sessions=page.get("items", []),
        audiences=AUDIENCES,
        audience=chosen,
        pages=pager(request, page.get("next_cursor")),
    )
