"""A licensee's licences (the secretariat and council: everybody's, filtered by licensee), and one
licence with its programme and its terms.

The API lists a person's own organisation's licences, or all of them for staff (``licensee_id``
filters them, staff only); a member's internal cross-licence is among them.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from portal.api import api_of
from portal.i18n import Catalogue
from portal.sessions import User
from portal.web import PageNotFound, page_router, pager, register_nav, render, require_user

router = page_router()
INTERNAL_PROGRAMME = "alliance-internal"  # the programme of members' internal cross-licences
LICENSING_ROLES = ("licensee", "member_admin", "member_staff", "secretariat", "council")

MESSAGES = Catalogue(
    {
        "en": {
            "title": "Licences",
            "intro_own": "The licences your organisation holds, and their terms.",
            "intro_staff": "Every licence. Filter by the licensee's organisation id.",
            "filter": "Licensee organisation id",
            "filter_button": "Filter",
            "filter_clear": "Show all",
            "none": "Your organisation holds no licence yet.",
            "none_staff": "No licences match.",
            "licensee": "Licensee",
            "programme": "Programme",
            "kind": "Kind",
            "status": "Status",
            "start": "From",
            "territory": "Territory (countries of sale)",
            "worldwide": "Worldwide",
            "granted": "Granted",
            "open": "Details",
            "kind.internal_cross_licence": "Members' cross-licence",
            "kind.programme_licence": "Programme licence",
            "status.active": "Active",
            "status.suspended": "Suspended",
            "in_force": "In force",
            "not_in_force": "Not in force",
            "internal": "All the alliance's programmes (members' cross-licence)",
            "licence_title": "Licence to {programme}",
            "terms": "Terms",
            "standard": "Standard",
            "programme_since": "Programme created",
            "description": "About the programme",
            "history": "History",
            "when": "When",
            "action": "What",
            "by": "By",
            "reason": "Reason",
            "file_report": "File a royalty report for this programme",
            "reports": "Royalty reports",
            "back": "All licences",
            "none_value": "—",
            "schedule": "Rate schedule",
            "schedule_intro": "Royalties per unit sold, in {currency}, by product category and yearly volume.",
            "no_schedule": "No rate schedule has been published for this programme yet.",
            "category": "Product category",
            "tier": "Units in the year",
            "tier_from_to": "{first}–{last}",
            "tier_from": "{first} and more",
            "standard_rate": "Standard rate",
            "compliant_rate": "Compliant rate",
            "compliant_hint": "The compliant rate applies while reports are filed and paid on time.",
            "free_units": "Free units a year",
            "annual_cap": "Annual cap",
            "no_cap": "None",
            "member_discount": "Member discount",
            "regional_discount": "Regional discount",
            "regional_markets": "in {markets}",
            "late_interest": "Late-payment interest",
            "per_year": "{percent} % a year",
            "percent": "{percent} %",
        },
        "zh": {
            "title": "许可",
            "intro_own": "贵单位持有的许可及其条款。",
            "intro_staff": "全部许可。可按被许可单位编号筛选。",
            "filter": "被许可单位编号",
            "filter_button": "筛选",
            "filter_clear": "显示全部",
            "none": "贵单位尚未持有任何许可。",
            "none_staff": "没有符合条件的许可。",
            "licensee": "被许可方",
            "programme": "许可计划",
            "kind": "类型",
            "status": "状态",
            "start": "起始日期",
            "territory": "许可地域（销售国家）",
            "worldwide": "全球",
            "granted": "授予时间",
            "open": "详情",
            "kind.internal_cross_licence": "会员交叉许可",
            "kind.programme_licence": "计划许可",
            "status.active": "有效",
            "status.suspended": "已暂停",
            "in_force": "生效中",
            "not_in_force": "未生效",
            "internal": "联盟全部许可计划（会员交叉许可）",
            "licence_title": "{programme} 许可",
            "terms": "条款",
            "standard": "标准",
            "programme_since": "计划设立日期",
            "description": "计划简介",
            "history": "记录",
            "when": "时间",
            "action": "事项",
            "by": "操作人",
            "reason": "原因",
            "file_report": "为此计划提交许可费报告",
            "reports": "许可费报告",
            "back": "全部许可",
            "none_value": "—",
            "schedule": "费率表",
            "schedule_intro": "每售出一件产品的许可费（{currency}），按产品类别和年度销量分档。",
            "no_schedule": "该计划尚未公布费率表。",
            "category": "产品类别",
            "tier": "年度销量（件）",
            "tier_from_to": "{first}–{last}",
            "tier_from": "{first} 及以上",
            "standard_rate": "标准费率",
            "compliant_rate": "合规费率",
            "compliant_hint": "按时提交报告并付款期间适用合规费率。",
            "free_units": "每年免费件数",
            "annual_cap": "年度上限",
            "no_cap": "无",
            "member_discount": "会员折扣",
            "regional_discount": "区域折扣",
            "regional_markets": "适用于 {markets}",
            "late_interest": "逾期付款利息",
            "per_year": "年利率 {percent}%",
            "percent": "{percent}%",
        },
    }
)


def tiers(schedule: dict[str, Any]) -> list[dict[str, Any]]:
    """The schedule's rows: each category's tiers with the yearly unit range each covers."""
    rows: list[dict[str, Any]] = []
    for category, steps in sorted((schedule.get("categories") or {}).items()):
        first = 1
        for step in steps:
            rows.append({"category": category, "first": first, "last": step.get("up_to"), **step})
            first = int(step["up_to"]) + 1 if step.get("up_to") else first
    return rows


def number(value: Any) -> str:
    """A decimal or count as people read it: thousands separated, no trailing zeros past the cents."""
    text = str(value)
    whole, _, fraction = text.partition(".")
    grouped = f"{int(whole):,}" if whole.lstrip("-").isdigit() else whole
    fraction = fraction.rstrip("0")
    return f"{grouped}.{fraction.ljust(2, '0')}" if fraction else grouped


def licensing_person(user: User | None) -> bool:
    return user is not None and user.has_any(*LICENSING_ROLES)


def may_file(user: User | None) -> bool:
    """Licensees and members file their own organisation's reports (the API's rule)."""
    return user is not None and user.org_id is not None and user.has_any("licensee", "member_admin", "member_staff")


register_nav("/licences", "Licences", "许可", licensing_person, order=40)


async def programme_names(request: Request, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The programmes named by ``ids`` (an unknown one is left out; the page shows its id)."""
    api = api_of(request)
    found: dict[str, dict[str, Any]] = {}
    for programme_id in sorted(ids - {INTERNAL_PROGRAMME}):
        try:
            found[programme_id] = await api.get(request, f"/api/v1/licensing/programmes/{programme_id}")
        except PageNotFound:
            continue
    return found


@router.get("/licences", response_class=HTMLResponse)
async def licences(request: Request) -> HTMLResponse:
    user = require_user(request)
    licensee = request.query_params.get("licensee_id", "").strip() if user.is_staff else ""
    page = await api_of(request).get(
        request,
        "/api/v1/licensing/licences",
        {"cursor": request.query_params.get("cursor"), "licensee_id": licensee or None},
    )
    items: list[dict[str, Any]] = page.get("items", [])
    return render(
        request,
        "licences/index.html",
        MESSAGES,
        licences=items,
        programmes=await programme_names(request, {x["programme"] for x in items}),
        licensee_id=licensee,
        staff=user.is_staff,
        pages=pager(request, page.get("next_cursor")),
        internal=INTERNAL_PROGRAMME,
    )


@router.get("/licences/{licence_id}", response_class=HTMLResponse)
async def licence(request: Request, licence_id: str) -> HTMLResponse:
    user = require_user(request)
    found: dict[str, Any] = await api_of(request).get(request, f"/api/v1/licensing/licences/{licence_id}")
    programmes = await programme_names(request, {found["programme"]})
    return render(
        request,
        "licences/licence.html",
        MESSAGES,
        licence=found,
        programme=programmes.get(found["programme"]),
        internal=INTERNAL_PROGRAMME,
        may_file=may_file(user) and found["programme"] != INTERNAL_PROGRAMME,
        tiers=tiers,
        number=number,
    )
