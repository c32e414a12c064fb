"""A licensee files a royalty report by uploading a CSV file (a bad line is named and nothing is
filed, then a good file is filed and its invoice shown); an expert records a finding with its reason.

The secretariat sets up each test's programme, rates, licence and submissions through the API."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from alliance_local.infra import Keycloak
from alliance_local.stack import Stack
from tests.portal.flows import api_call, person_token, sign_in, subject_of
from tests.portal.harness import Portal

pytestmark = pytest.mark.infra
API = "/api/v1/licensing"
LICENSEE_ORG = "org-demo-licensee"  # the demo licensee's organisation (the realm file's `org`)
PATENT_OWNER = "org-demo-huaxin"
SCHEDULE = {
    "currency": "USD",
    "categories": {
        "led_package": [{"standard_rate": "0.0100", "compliant_rate": "0.0100"}],
        "luminaire": [{"standard_rate": "0.2000", "compliant_rate": "0.2000"}],
    },
}
HEADER = "product_category,units,country_of_manufacture,country_of_sale,period,sold_on\n"


def previous_quarter() -> str:
    end = date(date.today().year, 3 * ((date.today().month - 1) // 3) + 1, 1) - timedelta(days=1)
    return f"{end.year}-Q{(end.month - 1) // 3 + 1}"


def programme(stack: Stack, keycloak: Keycloak, name: str) -> dict[str, Any]:
    body = {"name": name, "standard_ref": f"T/LEDA {uuid.uuid4().hex[:4]}—2026", "description": "Mini-LED backlights"}
    created: dict[str, Any] = api_call(stack, keycloak, "secretariat", "POST", f"{API}/programmes", body)
    api_call(stack, keycloak, "secretariat", "PUT", f"{API}/programmes/{created['id']}/schedule", SCHEDULE)
    return created


def submission(stack: Stack, keycloak: Keycloak, programme_id: str, title: str) -> tuple[dict[str, Any], str]:
    """A CN patent of the demo member submitted to the programme and assigned to the demo expert."""
    number = f"CN{uuid.uuid4().int % 10**9}B"
    patent = {
        "office": "CN",
        "number": number,
        "family_id": f"F-{number}",
        "title": title,
        "filing_date": "2016-03-01",
        "grant_date": "2019-05-10",
        "expiry_date": "2036-03-01",
        "segment": "packaging",
        "owner_id": PATENT_OWNER,
    }
    created = api_call(stack, keycloak, "secretariat", "POST", f"{API}/patents", patent)
    submitted = api_call(
        stack,
        keycloak,
        "secretariat",
        "POST",
        f"{API}/programmes/{programme_id}/submissions",
        {"patent_id": created["id"]},
    )
    assignment = {"evaluator_id": subject_of(person_token(keycloak, "expert"))}
    api_call(stack, keycloak, "secretariat", "POST", f"{API}/submissions/{submitted['id']}/assignment", assignment)
    return submitted, number


def test_a_licensee_uploads_a_report_with_a_bad_line_then_a_good_one(
    page: Page, portal: Portal, portal_stack: Stack, keycloak: Keycloak, screenshot: Callable[[Page, str], None]
) -> None:
    name = f"Mini-LED pool {uuid.uuid4().hex[:6]}"
    pool = programme(portal_stack, keycloak, name)
    sub, _ = submission(portal_stack, keycloak, pool["id"], "Mini-LED backlight dimming zones")
    finding = {"result": "essential", "reason": "Claim 1 reads on clause 5.2 (local dimming)."}
    api_call(portal_stack, keycloak, "expert", "POST", f"{API}/submissions/{sub['id']}/evaluation", finding)
    licence = {
        "licensee_id": LICENSEE_ORG,
        "licensee_name": "Shenzhen Kezheng Lighting Co., Ltd.",
        "start_date": "2024-01-01",
        "territory": ["CN", "US", "DE"],
    }
    api_call(portal_stack, keycloak, "secretariat", "POST", f"{API}/programmes/{pool['id']}/licences", licence)
    period = previous_quarter()

    sign_in(page, portal, "licensee")
    page.get_by_role("navigation").get_by_role("link", name="Licences").click()
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Licence to {name}")
    expect(page.locator("section.card").first).to_contain_text("CN, DE, US")
    # The programme's published rate schedule, as the licensing API gives it back.
    rates = page.get_by_role("table", name="Rate schedule")
    expect(rates.get_by_role("row", name=re.compile("led_package"))).to_contain_text("0.01 USD")
    expect(rates.get_by_role("row", name=re.compile("luminaire"))).to_contain_text("0.20 USD")
    expect(rates.get_by_role("row", name=re.compile("luminaire"))).to_contain_text("1 and more")
    screenshot(page, "licence")
    page.get_by_role("link", name="File a royalty report for this programme").click()
    expect(page.get_by_label("Programme")).to_have_value(pool["id"])
    expect(page.get_by_label("Quarter")).to_have_value(period)
    page.get_by_role("button", name="Add a line").click()  # a plain form post: works without script
    expect(page.locator("fieldset.report-line")).to_have_count(4)
    screenshot(page, "report-new")

    bad = HEADER + 'led_package,"120,000",CN,US,,\nluminaire,15OO,CN,DE,,\nled_package,800,CN,CN,,\n'
    page.locator("#f-file").set_input_files(files=[{"name": "q.csv", "mimeType": "text/csv", "buffer": bad.encode()}])
    page.get_by_role("button", name="Check the file and file the report").click()
    expect(page.get_by_role("heading", name=re.compile("Nothing was filed"))).to_be_visible()
    rows = page.locator("table.problems tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("3")  # the header is line 1: the luminaire line is line 3
    expect(rows.first).to_contain_text("units")
    expect(rows.first).to_contain_text("“15OO” is not a whole number of units")
    screenshot(page, "report-upload-problems")
    filed = api_call(portal_stack, keycloak, "licensee", "GET", f"{API}/reports?programme_id={pool['id']}")
    assert filed["items"] == []  # nothing was sent

    # A category the rate schedule lacks passes the portal's checks; the API's refusal comes back to its line.
    unknown = bad.replace("15OO", "1500") + "lamp,10,CN,US,,\n"
    page.locator("#f-file").set_input_files(
        files=[{"name": "q.csv", "mimeType": "text/csv", "buffer": unknown.encode()}]
    )
    page.get_by_role("button", name="Check the file and file the report").click()
    expect(page.get_by_role("alert")).to_contain_text("The licensing service refused the report. Nothing was filed.")
    rows = page.locator("table.problems tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("5")
    expect(rows.first).to_contain_text("“lamp” is not a product category of this programme (led_package, luminaire)")
    screenshot(page, "report-upload-refused")
    filed = api_call(portal_stack, keycloak, "licensee", "GET", f"{API}/reports?programme_id={pool['id']}")
    assert filed["items"] == []
    page.get_by_role("link", name="Upload a corrected file").click()

    good = bad.replace("15OO", "1500")
    page.locator("#f-file").set_input_files(files=[{"name": "q.csv", "mimeType": "text/csv", "buffer": good.encode()}])
    page.get_by_role("button", name="Check the file and file the report").click()
    page.wait_for_url(re.compile(re.escape(portal.url) + r"/reports/[^/]+\?filed=1$"))
    expect(page.get_by_role("status")).to_contain_text("The report was filed")
    # 120,000 + 800 LED packages at 0.01 and 1,500 luminaires at 0.20, all made in CN where the patent is in force.
    invoice = page.locator("section.card", has=page.get_by_role("heading", name="Invoice"))
    expect(invoice).to_contain_text("1508.00")
    expect(page.locator("ol.report-lines > li")).to_have_count(3)
    screenshot(page, "report-filed")
    filed = api_call(portal_stack, keycloak, "licensee", "GET", f"{API}/reports?programme_id={pool['id']}")
    assert [r["period"] for r in filed["items"]] == [period]
    assert filed["items"][0]["total"] == "1508.00"

    page.get_by_role("link", name="All reports").click()
    row = page.get_by_role("row", name=re.compile(re.escape(name)))
    expect(row).to_contain_text(period)
    expect(row).to_contain_text("1508.00")
    screenshot(page, "reports")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("许可费报告")
    screenshot(page, "reports-zh")


def test_an_expert_records_a_finding_with_its_reason(
    page: Page, portal: Portal, portal_stack: Stack, keycloak: Keycloak, screenshot: Callable[[Page, str], None]
) -> None:
    pool = programme(portal_stack, keycloak, f"Phosphor pool {uuid.uuid4().hex[:6]}")
    sub, number = submission(portal_stack, keycloak, pool["id"], "Narrow-band red phosphor coating")

    sign_in(page, portal, "expert")
    page.get_by_role("navigation").get_by_role("link", name="Evaluations").click()
    expect(page.get_by_role("row", name=re.compile(number))).to_contain_text("To evaluate")
    screenshot(page, "evaluations")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Evaluation of {number}")
    expect(page.locator("main")).to_contain_text(pool["standard_ref"])
    page.get_by_label("Not essential").check()
    page.get_by_label("Written reason").fill("too short")
    page.get_by_role("button", name="Record the finding").click()
    expect(page.locator("#e-reason")).to_have_text("Write at least 10 characters.")
    reason = "Claim 1 requires a KSF coating; clause 6.3 allows any red phosphor, so no claim reads on it."
    page.get_by_label("Written reason").fill(reason)
    screenshot(page, "evaluation-form")
    page.get_by_role("button", name="Record the finding").click()
    page.wait_for_url(re.compile(r".*\?recorded=1$"))
    expect(page.get_by_role("status")).to_contain_text("Your finding is recorded.")
    expect(page.get_by_role("heading", name="The finding: Not essential")).to_be_visible()
    expect(page.locator(".reason")).to_have_text(reason)
    expect(page.get_by_role("button", name="Record the finding")).to_have_count(0)
    screenshot(page, "evaluation-recorded")
    recorded = api_call(portal_stack, keycloak, "expert", "GET", f"{API}/submissions/{sub['id']}")
    assert (recorded["status"], recorded["reason"]) == ("not_essential", reason)


def test_a_licensee_types_a_reports_lines_in_the_form(
    page: Page, portal: Portal, portal_stack: Stack, keycloak: Keycloak, screenshot: Callable[[Page, str], None]
) -> None:
    pool = programme(portal_stack, keycloak, f"Driver IC pool {uuid.uuid4().hex[:6]}")
    licence = {
        "licensee_id": LICENSEE_ORG,
        "licensee_name": "Shenzhen Kezheng Lighting Co., Ltd.",
        "start_date": "2024-01-01",
    }
    api_call(portal_stack, keycloak, "secretariat", "POST", f"{API}/programmes/{pool['id']}/licences", licence)

    sign_in(page, portal, "licensee")
    page.goto(f"{portal.url}/reports/new?programme_id={pool['id']}")
    page.locator("#f-lines\\.0\\.product_category").fill("led_package")
    page.locator("#f-lines\\.0\\.units").fill("2000")
    page.locator("#f-lines\\.0\\.country_of_manufacture").fill("CN")
    page.locator("#f-lines\\.0\\.country_of_sale").fill("USA")
    page.get_by_role("button", name="File the report", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was filed.")
    expect(page.locator("#e-lines\\.0\\.country_of_sale")).to_have_text(
        "“USA” is not a two-letter country code such as CN"
    )
    screenshot(page, "report-form-problems")
    page.locator("#f-lines\\.0\\.country_of_sale").fill("US")
    page.get_by_role("button", name="File the report", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The report was filed")
    expect(page.locator("ol.report-lines > li")).to_have_count(1)
    expect(page.locator("ol.report-lines > li").first).to_contain_text("2,000")
