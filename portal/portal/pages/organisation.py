"""The first member page, "my organisation": its status, standing, people and roles.

The API lists a person's own organisation (their token's ``org``) and those they applied for; the
people list is for the organisation's members (an applicant not yet admitted does not see it).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from portal import member
from portal.api import api_of
from portal.i18n import Catalogue
from portal.terms import with_terms
from portal.web import NotAllowed, PageNotFound, page_router, pager, register_nav, render, require_user, signed_in

router = page_router()
MESSAGES = Catalogue(
    with_terms(
        {
            "en": {
                "title": "My organisation",
                "none": "You are not linked to an organisation yet.",
                "apply_hint": "Apply for membership for your organisation.",
                "apply_link": "Apply for membership",
                "status": "Application",
                "standing": "Standing",
                "good_standing": "In good standing",
                "not_good_standing": "Not in good standing",
                "tier": "Tier",
                "number": "Membership number",
                "credit_code": "Credit code",
                "period": "Current period",
                "people": "People and roles",
                "people_hidden": "The people of an organisation are shown once it is admitted.",
                "person": "Name",
                "email": "E-mail",
                "role": "Role",
                "no_people": "No people are registered yet.",
                "role.member_admin": "Member administrator",
                "role.member_staff": "Staff",
                "none_value": "—",
                "applied": "Your application has been sent. The secretariat will review it.",
            },
            "zh": {
                "title": "我的单位",
                "none": "您的账号尚未关联任何单位。",
                "apply_hint": "为您的单位申请入会。",
                "apply_link": "申请入会",
                "status": "申请状态",
                "standing": "会籍状态",
                "good_standing": "会籍良好",
                "not_good_standing": "会籍不良",
                "tier": "会员级别",
                "number": "会员编号",
                "credit_code": "统一社会信用代码",
                "period": "当前会籍期",
                "people": "人员与角色",
                "people_hidden": "单位获准入会后显示其人员。",
                "person": "姓名",
                "email": "电子邮箱",
                "role": "角色",
                "no_people": "尚未登记人员。",
                "role.member_admin": "会员管理员",
                "role.member_staff": "员工",
                "none_value": "—",
                "applied": "您的申请已提交，秘书处将进行审核。",
            },
        }
    )
)
register_nav("/organisation", "My organisation", "我的单位", signed_in, order=20)


@router.get("/organisation", response_class=HTMLResponse)
async def my_organisation(request: Request) -> HTMLResponse:
    user = require_user(request)
    api = api_of(request)
    page = await api.get(request, "/api/v1/membership/organisations", {"cursor": request.query_params.get("cursor")})
    organisations: list[dict[str, Any]] = page.get("items", [])
    people: dict[str, list[dict[str, Any]] | None] = {}
    for org in organisations:
        try:
            people[org["id"]] = await api.get(request, f"/api/v1/membership/organisations/{org['id']}/users")
        except (NotAllowed, PageNotFound):
            people[org["id"]] = None
    return render(
        request,
        "organisation/index.html",
        MESSAGES,
        organisations=organisations,
        people=people,
        pages=pager(request, page.get("next_cursor")),
        applied=request.query_params.get("applied") == "1",
        may_apply=member.may_apply(user),
    )
