"""The annual report through the gateway, on the real platform: the year's events travel from the
services through Kafka into the integration service's archive; the report counts them, every figure
lists exactly the events it counts (their number, or for sums the sum over them), and the printable
page opens in a real browser (Debian's Chromium) with its figures, its charts and its own styles
allowed by the gateway's CSP. Screenshots: .cache/screenshots/integration/."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alliance_local.infra import ensure_chromium
from alliance_local.pytest_plugin import eventually
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, Stack

pytestmark = pytest.mark.infra

YEAR = datetime.now(UTC).year
BASE = f"/api/v1/integration/annual-reports/{YEAR}"
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".cache" / "screenshots" / "integration"


async def agency(portal: Any, scope: str = "statistics:read") -> dict[str, str]:
    granted = await portal.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_AGENCY_CLIENT,
            "client_secret": DEMO_AGENCY_SECRET,
            "scope": scope,
        },
    )
    assert granted.status_code == 200, granted.text
    return {"Authorization": f"Bearer {granted.json()['access_token']}"}


async def ok(portal: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    response = await portal.client.request(method, path, headers=headers, json=body)
    assert response.status_code in (200, 201), f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


async def figure_events(portal: Any, headers: dict[str, str], key: str, limit: int = 50) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await portal.client.get(f"{BASE}/figures/{key}/events", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def the_years_story(portal: Any) -> dict[str, str]:
    """Three admissions, a withdrawal, an expulsion, dues invoiced and paid, a project proposed and
    approved by the council: the ids the report must link."""
    today = date.today()
    staff, council = await portal.secretariat(), await portal.council()
    stays = await portal.admit("Annual Report Phosphor Co., Ltd.", start_date=(today - timedelta(days=330)).isoformat())
    leaves = await portal.admit("Annual Report Departing Driver Co., Ltd.")
    expelled = await portal.admit("Annual Report Expelled Lens Co., Ltd.")
    await ok(portal, "POST", f"/api/v1/membership/organisations/{leaves['id']}/withdrawal", staff, {"reason": "merger"})
    await ok(
        portal,
        "POST",
        f"/api/v1/membership/organisations/{expelled['id']}/expulsion",
        council,
        {"reason": "breach of the IPR policy"},
    )
    invoices = f"/api/v1/membership/organisations/{stays['id']}/invoices"
    invoice = await ok(portal, "POST", invoices, staff, {"period": "next"})
    await ok(
        portal,
        "POST",
        f"{invoices}/{invoice['id']}/payments",
        staff,
        {"amount": "1234.56", "received_on": today.isoformat()},
    )

    async def proposed() -> Any:  # the proposer's standing reaches standards by events: 403 until then
        response = await portal.client.post(
            "/api/v1/standards/projects",
            headers=await portal.member(stays["id"]),
            json={"title": "Annual report: colour rendering of LED modules", "scope": "Test method for CRI."},
        )
        assert response.status_code in (201, 403), response.text
        return response.json() if response.status_code == 201 else None

    project = await eventually(proposed, timeout=30, interval=0.3)
    await ok(
        portal,
        "POST",
        f"/api/v1/standards/projects/{project['id']}/transitions",
        council,
        {"action": "approve_proposal"},
    )
    return {"stays": stays["id"], "leaves": leaves["id"], "expelled": expelled["id"], "project": project["id"]}


def about(events: list[dict[str, Any]], field: str) -> set[str]:
    return {str(e["data"].get(field)) for e in events}


async def test_every_figure_lists_exactly_the_events_it_counts(portal: Any) -> None:
    ids = await the_years_story(portal)
    headers = await agency(portal)

    async def archived() -> dict[str, Any] | None:
        """The report once every event of the story is in the archive (they travel by Kafka)."""
        report = await ok(portal, "GET", BASE, headers)
        figures = {f["key"]: f for f in report["figures"]}
        wanted = {
            "members_admitted": ("member_id", {ids["stays"], ids["leaves"], ids["expelled"]}),
            "members_withdrawn": ("member_id", {ids["leaves"]}),
            "members_expelled": ("member_id", {ids["expelled"]}),
            "dues_paid": ("member_id", {ids["stays"]}),
            "council_standards_decisions": ("project_id", {ids["project"]}),
        }
        for key, (field, expected) in wanted.items():
            if figures[key]["events"] == 0:
                return None
            if not expected <= about(await figure_events(portal, headers, key, limit=200), field):
                return None
        return report

    report = await eventually(archived, timeout=60, interval=1.0)
    assert report["year"] == YEAR and report["complete"] is False
    figures = {f["key"]: f for f in report["figures"]}
    # Members now: the one that stays is there, by its admission; the two that left are not.
    members_end = about(await figure_events(portal, headers, "members_end", limit=200), "member_id")
    assert ids["stays"] in members_end and not {ids["leaves"], ids["expelled"]} & members_end
    assert figures["council_expulsions"]["events"] >= 1 and figures["council_admissions"]["events"] >= 3
    # Every figure: the number of its events, or the sum over them; money as decimal strings.
    for figure in report["figures"]:
        key = figure["key"]
        events = await figure_events(portal, headers, key)
        assert len(events) == figure["events"] == len({e["id"] for e in events}), key
        assert [e["seq"] for e in events] == sorted(e["seq"] for e in events), key
        assert all(
            e["time"].startswith(str(YEAR))
            for e in events
            if not key.startswith(("members_", "standards_stage", "standards_under", "training_held"))
        ), key
        if figure["kind"] == "count":
            assert figure["value"] == len(events), key
        elif key.startswith("declared_patents"):
            commitment = key.partition(".")[2]
            total = sum(
                1 for e in events for d in e["data"]["declarations"] if not commitment or d["commitment"] == commitment
            )
            assert figure["value"] == str(total) or Decimal(figure["value"]) == total, key
        else:
            field = {"royalties_distributed": "distributed", "royalties_admin_fee": "admin_fee"}.get(key.split(".")[0])
            field = field or ("hours" if figure["unit"] == "hours" else "amount")
            assert isinstance(figure["value"], str), key
            assert Decimal(figure["value"]) == sum((Decimal(e["data"][field]) for e in events), Decimal(0)), key
    dues = await figure_events(portal, headers, "dues_paid")
    assert Decimal("1234.56") in {Decimal(e["data"]["amount"]) for e in dues if e["data"]["member_id"] == ids["stays"]}


async def test_who_may_read_the_report_and_bad_years(portal: Any) -> None:
    headers = await agency(portal)
    assert (await portal.client.get(BASE, headers=await portal.council())).status_code == 200
    member = await portal.admit("Annual Report Curious Member Co., Ltd.")
    refused = await portal.client.get(BASE, headers=await portal.member(member["id"]))
    assert refused.status_code == 403
    assert (await portal.client.get(BASE, headers=await agency(portal, "standards:read"))).status_code == 403
    for year in ("1999", str(YEAR + 1), "next"):
        bad = await portal.client.get(f"/api/v1/integration/annual-reports/{year}", headers=headers)
        assert bad.status_code == 422 and "year" in bad.text, (year, bad.text)
        assert bad.headers["content-type"] == "application/problem+json"
    unknown = await portal.client.get(f"{BASE}/figures/members_on_mars/events", headers=headers)
    assert unknown.status_code == 404 and "figure" in unknown.text
    wrong_lang = await portal.client.get(f"{BASE}/page", params={"lang": "fr"}, headers=headers)
    assert wrong_lang.status_code == 422 and "lang" in wrong_lang.text


async def test_the_printable_page_in_a_browser(portal: Any, platform: Stack) -> None:
    from playwright.async_api import async_playwright

    await the_years_story(portal)
    headers = await agency(portal)
    report = await eventually(lambda: _report_with(portal, headers, "members_withdrawn"), timeout=60, interval=1.0)
    values = {f["key"]: f for f in report["figures"]}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(ensure_chromium()), headless=True)
        try:
            context = await browser.new_context(
                viewport={"width": 1100, "height": 900}, extra_http_headers=headers, locale="zh-CN"
            )
            page = await context.new_page()
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
            for lang in ("en", "zh"):
                response = await page.goto(f"{platform.gateway_url}{BASE}/page?lang={lang}")
                assert response is not None and response.status == 200
                csp = response.headers["content-security-policy"]
                assert "style-src 'sha256-" in csp and "script-src" not in csp and "unsafe-inline" not in csp
                title = "Annual report" if lang == "en" else "年度工作报告"
                assert title in await page.locator("h1").inner_text()
                # The page's own styles applied (the gateway's CSP let them through), no script ran.
                assert await page.locator("h1").evaluate("e => getComputedStyle(e).fontSize") == "28px"
                assert await page.locator("script").count() == 0
                for key in ("members_start", "members_end", "members_admitted", "dues_paid", "council_decisions"):
                    shown = (await page.locator(f"#f-{key} td.value").inner_text()).replace(",", "")
                    expected = values[key]["value"]
                    assert shown.endswith(str(expected)), (key, shown, expected)
                for chart in ("chart-members", "chart-stages", "chart-royalties"):
                    assert await page.locator(f"#{chart} svg").count() == 1, chart
                assert await page.locator("#chart-members svg rect").count() >= 1
                assert await page.locator("#chart-stages svg rect").count() >= 1  # the story's project at least
                await page.screenshot(path=str(SCREENSHOTS / f"annual-report-{lang}.png"), full_page=True)
            await page.emulate_media(media="print")
            await page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
            await page.screenshot(path=str(SCREENSHOTS / "annual-report-zh-print.png"), full_page=True)
            assert await page.locator(".tools").is_hidden()  # the print styles hide the language switch
            # No language asked: the browser's Accept-Language (zh-CN) chooses.
            await page.emulate_media(media="screen")
            await page.goto(f"{platform.gateway_url}{BASE}/page")
            assert "年度工作报告" in await page.locator("h1").inner_text()
            assert not blocked, blocked
        finally:
            await browser.close()


async def _report_with(portal: Any, headers: dict[str, str], key: str) -> dict[str, Any] | None:
    report = await ok(portal, "GET", BASE, headers)
    return report if any(f["key"] == key and f["events"] for f in report["figures"]) else None
