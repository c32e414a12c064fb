"""Published standards (anyone): the filing records of the alliance's group standards."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from portal.api import api_of
from portal.i18n import Catalogue
from portal.web import page_router, pager, register_nav, render

router = page_router()
MESSAGES = Catalogue(
    {
        "en": {
            "title": "Published standards",
            "intro": "The alliance's group standards and their filing records.",
            "number": "Number",
            "name": "Title",
            "status": "Stage",
            "published": "Published",
            "implementation": "In force from",
            "patents": "Patents declared",
            "none": "No standard has been published yet.",
            "none_value": "—",
        },
        "zh": {
            "title": "已发布标准",
            "intro": "联盟团体标准及其备案信息。",
            "number": "标准编号",
            "name": "标准名称",
            "status": "阶段",
            "published": "发布日期",
            "implementation": "实施日期",
            "patents": "披露专利数",
            "none": "尚无已发布的标准。",
            "none_value": "—",
        },
    }
)
register_nav("/standards", "Standards", "标准", order=30)


@router.get("/standards", response_class=HTMLResponse)
async def standards(request: Request) -> HTMLResponse:
    page = await api_of(request).get(
        request, "/api/v1/standards/filings", {"cursor": request.query_params.get("cursor")}, public=True
    )
    return render(
        request,
        "standards/index.html",
        MESSAGES,
        filings=page.get("items", []),
        pages=pager(request, page.get("next_cursor")),
    )
