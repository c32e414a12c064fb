"""Distribution statements: the organisation's share, as a licensor, of each period's royalties
a pool programme collected (the pool's published totals, its share, the exact fraction and the
rounding). The secretariat sees every licensor's statement with the sales lines behind it; a
member only its own share (as the API decides).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from portal import member
from portal.api import api_of
from portal.web import page_router, pager, register_nav, render, require_user

router = page_router()
MESSAGES = member.catalogue(
    {
        "en": {
            "title": "Distribution statements",
            "intro": "Your organisation's share of the royalties each pool programme collected, period by period.",
            "all_intro": "Every licensor's statement (staff view).",
            "currency_note": "Amounts are in the currency of the programme's rate schedule.",
            "programme": "Programme",
            "all_programmes": "All programmes",
            "show": "Show",
            "none": "No distribution statements yet: they appear once a period's royalties are distributed.",
            "period": "Period",
            "collected": "Collected",
            "admin_fee": "Administration fee ({percent} %)",
            "distributable": "Distributed to licensors",
            "your_share": "Your share",
            "share": "Share",
            "licensor": "Licensor",
            "exact": "Share of the pool",
            "exact_hint": "The exact share before rounding to the cent, as a part of the amount distributed.",
            "extra_cent": "+1 cent from rounding",
            "no_share": "Your organisation had no share in this distribution.",
            "lines": "Sales lines",
            "line_ref": "Line",
            "countries": "Made in → sold in",
            "dated": "Dated",
            "patents": "Patents counted",
        },
        "zh": {
            "title": "分配明细",
            "intro": "每个专利池项目各期所收许可费中本单位所得的份额。",
            "all_intro": "所有许可方的分配明细（工作人员视图）。",
            "currency_note": "金额以项目费率表的币种计。",
            "programme": "项目",
            "all_programmes": "全部项目",
            "show": "显示",
            "none": "尚无分配明细：某期许可费分配后在此显示。",
            "period": "期间",
            "collected": "收取总额",
            "admin_fee": "管理费（{percent}%）",
            "distributable": "分配给许可方",
            "your_share": "本单位份额",
            "share": "份额",
            "licensor": "许可方",
            "exact": "占分配总额",
            "exact_hint": "取整到分之前的精确份额占分配总额的比例。",
            "extra_cent": "取整多得 1 分",
            "no_share": "本单位在此次分配中没有份额。",
            "lines": "销售明细",
            "line_ref": "明细",
            "countries": "制造地 → 销售地",
            "dated": "日期",
            "patents": "计入专利数",
        },
    }
)
register_nav("/statements", "Statements", "分配明细", member.member_or_staff, order=25)


def share_percent(exact: Any, distributable: Any) -> str | None:
    """A licensor's exact share (the API's fraction before rounding to the cent) as a percentage of
    the distributable amount, to four places: what a reader compares, unlike a 30-digit fraction."""
    try:
        whole = Fraction(str(distributable))
        if not whole:
            return None
        percent = Fraction(str(exact)) / whole * 100
    except (ValueError, ZeroDivisionError, TypeError):
        return None
    return f"{Decimal(percent.numerator) / Decimal(percent.denominator):.4f} %"


@router.get("/statements", response_class=HTMLResponse)
async def statements(request: Request) -> HTMLResponse:
    user = require_user(request)
    api = api_of(request)
    programme_id = request.query_params.get("programme", "").strip()
    params = {"cursor": request.query_params.get("cursor"), "programme_id": programme_id}
    page = await api.get(request, "/api/v1/licensing/statements", params)
    items: list[dict[str, Any]] = page.get("items", [])
    programmes_page = await api.get(request, "/api/v1/licensing/programmes", {"limit": 50})
    programmes = {p["id"]: p for p in programmes_page.get("items", [])}
    staff = user.has_any("secretariat")
    licensors = [s["licensor_id"] for d in items for s in d.get("statements", [])] if staff else []
    names = await member.names(request, licensors)
    for d in items:
        for st in d.get("statements", []):
            st["percent"] = share_percent(st.get("exact"), d.get("distributable"))
    return render(
        request,
        "statements/index.html",
        MESSAGES,
        distributions=items,
        programmes=programmes,
        chosen=programme_id,
        names=names,
        staff=staff,
        pages=pager(request, page.get("next_cursor")),
    )
