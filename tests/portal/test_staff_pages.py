"""The secretariat's and the council's pages in the browser: an application through review and
decision, a training session scheduled and someone checked in, an expert assigned to a submission."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from playwright.sync_api import Browser, Page, expect

from alliance_local.infra import Keycloak
from alliance_local.stack import Stack
from membership.domain.credit_code import with_check_characters
from tests.portal.flows import api_call, person_token, sign_in, subject_of
from tests.portal.harness import DESKTOP, PHONE, Portal

pytestmark = pytest.mark.infra
CHINA = timezone(timedelta(hours=8))


def _new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": DESKTOP["width"], "height": DESKTOP["height"]}, locale="en-GB")
    context.set_default_timeout(30_000)
    return context.new_page()


def test_an_application_is_reviewed_by_the_secretariat_and_admitted_by_the_council(
    page: Page,
    browser: Browser,
    portal: Portal,
    portal_stack: Stack,
    keycloak: Keycloak,
    screenshot: Callable[[Page, str], None],
) -> None:
    name = f"Jiangxi Lattice Power {uuid.uuid4().hex[:6]}"
    code = with_check_characters("91360100" + uuid.uuid4().hex[:8].upper().replace("I", "1").replace("O", "0"))
    application = {
        "name": name,
        "credit_code": code,
        "org_type": "enterprise",
        "segments": ["chip", "epitaxy"],
        "region": "CN-JX",
        "contact": {"name": "Wang Min", "email": "wang.min@lattice.example"},
    }
    org = api_call(portal_stack, keycloak, "licensee", "POST", "/api/v1/membership/applications", application)

    # The secretariat finds it in the queue of submitted applications and reviews it.
    sign_in(page, portal, "secretariat")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Applications").click()
    page.get_by_label("Status").select_option("submitted")
    page.get_by_role("button", name="Show").click()
    row = page.get_by_role("row", name=re.compile(re.escape(name)))
    expect(row).to_contain_text("Submitted")
    expect(row).to_contain_text(code)
    screenshot(page, "staff-applications")
    row.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Council decision")).to_have_count(0)  # not the secretariat's

    review = page.locator("section", has=page.get_by_role("heading", name="Secretariat review"))
    review.get_by_label("Request changes").check()
    review.get_by_role("button", name="Record the review").click()
    # The API wants a reason to ask for changes: shown next to the reason field.
    review = page.locator("section", has=page.get_by_role("heading", name="Secretariat review"))
    expect(review.locator(".field.invalid", has=page.get_by_label("Reason"))).to_contain_text("reason")
    review.get_by_label("Accept for the council's decision").check()
    review.get_by_label("Reason").fill("documents complete; credit code verified")
    review.get_by_role("button", name="Record the review").click()
    expect(page.get_by_role("status")).to_contain_text("The review was recorded.")
    expect(page.locator(".facts")).to_contain_text("Awaiting the council's decision")
    expect(page.get_by_role("table")).to_contain_text("Accepted for the council's decision")
    screenshot(page, "staff-application-reviewed")

    # The council decides, from its own session.
    council = _new_page(browser)
    try:
        sign_in(council, portal, "council")
        council.goto(f"{portal.url}/staff/applications/{org['id']}")
        expect(council.get_by_role("heading", name="Secretariat review")).to_have_count(0)
        decision = council.locator("section", has=council.get_by_role("heading", name="Council decision"))
        decision.get_by_label("Admit").check()
        decision.get_by_label("Reason").fill("approved at the council meeting")
        decision.get_by_role("button", name="Record the decision").click()
        expect(council.get_by_role("status")).to_contain_text("The decision was recorded.")
        facts = council.locator(".facts")
        expect(facts).to_contain_text("Admitted")
        expect(facts).to_contain_text("Membership number")
        # The council may expel; suspending and renewing are the secretariat's.
        expect(council.get_by_role("button", name="Expel")).to_be_visible()
        expect(council.get_by_role("button", name="Suspend")).to_have_count(0)
        council.get_by_role("link", name="中文").click()
        expect(council.locator(".facts")).to_contain_text("已入会")
        expect(council.get_by_role("table")).to_contain_text("理事会批准入会")
        screenshot(council, "staff-application-admitted-zh")
    finally:
        council.context.close()

    found = api_call(portal_stack, keycloak, "secretariat", "GET", f"/api/v1/membership/organisations/{org['id']}")
    assert found["status"] == "admitted" and found["membership_number"]


def test_the_secretariat_schedules_a_session_and_checks_someone_in(
    page: Page, portal: Portal, portal_stack: Stack, keycloak: Keycloak, screenshot: Callable[[Page, str], None]
) -> None:
    title = f"Mini-LED backlight reliability {uuid.uuid4().hex[:6]}"
    sign_in(page, portal, "secretariat")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Sessions and attendance").click()
    expect(page.get_by_role("heading", name="Proposed on newly published standards")).to_be_visible()
    screenshot(page, "staff-sessions")
    page.get_by_role("link", name="Schedule a session").click()

    # Check-in opens when the session starts: at the first whole minute (the form's resolution) at
    # least 45 s away, which leaves the steps before it (scheduling, a registration) time on a loaded
    # machine and the test 45-105 s to wait; it lasts ten minutes.
    starts = (datetime.now(CHINA) + timedelta(seconds=45 + 59)).replace(second=0, microsecond=0)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Audience").select_option("engineers")
    page.get_by_label("Format").select_option("salon")
    page.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends").fill((starts + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Venue").fill("Shenzhen, Nanshan")
    page.get_by_label("Capacity").fill("")
    page.get_by_label("Member price", exact=True).fill("300.00")
    page.get_by_label("Non-member price", exact=True).fill("500.00")
    page.get_by_role("button", name="Schedule the session").click()
    expect(page.locator(".field.invalid", has=page.get_by_label("Capacity"))).to_contain_text("required")
    page.get_by_label("Capacity").fill("20")
    screenshot(page, "staff-session-form")
    page.get_by_role("button", name="Schedule the session").click()
    expect(page.get_by_role("status")).to_contain_text("The session was scheduled.")
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    session_id = page.url.split("/staff/sessions/")[1].split("?")[0]
    session = api_call(portal_stack, keycloak, "secretariat", "GET", f"/api/v1/training/sessions/{session_id}")
    assert datetime.fromisoformat(session["starts_at"].replace("Z", "+00:00")) == starts.astimezone(UTC)

    attendee = "Zhou Xiaomei"
    api_call(
        portal_stack,
        keycloak,
        "licensee",
        "POST",
        f"/api/v1/training/sessions/{session_id}/registrations",
        {"attendee_name": attendee, "attendee_email": "zhou.xiaomei@licensee.example"},
    )
    while datetime.now(UTC) < starts.astimezone(UTC) + timedelta(seconds=2):
        time.sleep(2)
    page.reload()
    row = page.get_by_role("row", name=re.compile(attendee))
    expect(row).to_contain_text("Confirmed")
    day = row.get_by_label("Day").input_value()
    row.get_by_role("button", name=f"Check in: {attendee}").click()
    expect(page.get_by_role("status")).to_contain_text("The attendance was recorded.")
    expect(page.get_by_role("row", name=re.compile(attendee))).to_contain_text(day)
    screenshot(page, "staff-session-checked-in")
    # At desktop width the registrations are a table, each cell under its heading (the home page's
    # card grid once made every staff table a grid); on a phone, each row is a card.
    table = page.locator("table.registrations")
    assert table.evaluate("t => getComputedStyle(t).display") == "table"
    heading = page.get_by_role("columnheader", name="Attendee").bounding_box()
    cell = page.get_by_role("cell", name=re.compile(attendee)).first.bounding_box()
    assert heading is not None and cell is not None and abs(heading["x"] - cell["x"]) < 1, (heading, cell)
    page.set_viewport_size(PHONE)
    assert table.evaluate("t => getComputedStyle(t).display") == "block"
    page.set_viewport_size(DESKTOP)

    page.get_by_role("button", name="Close attendance").click()
    expect(page.locator("#h-closed")).to_contain_text("1 attendees credited")
    expect(page.get_by_role("button", name="Close attendance")).to_have_count(0)
    registrations = api_call(
        portal_stack, keycloak, "secretariat", "GET", f"/api/v1/training/registrations?session_id={session_id}"
    )
    assert [r["days_attended"] for r in registrations["items"]] == [[day]]


def test_the_secretariat_creates_a_programme_and_assigns_an_independent_expert(
    page: Page, portal: Portal, portal_stack: Stack, keycloak: Keycloak, screenshot: Callable[[Page, str], None]
) -> None:
    programme_name = f"Micro-LED chip pool {uuid.uuid4().hex[:6]}"
    sign_in(page, portal, "secretariat")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Patent pool").click()
    form = page.locator("section", has=page.get_by_role("heading", name="Create a programme"))
    form.get_by_label("Name").fill(programme_name)
    form.get_by_label("Standard").fill("T/LEDA 001—2026")
    form.get_by_label("Description").fill("Essential patents of the micro-LED chip standard.")
    form.get_by_role("button", name="Create the programme").click()
    expect(page.get_by_role("status")).to_contain_text("The programme was created.")
    expect(page.get_by_role("heading", name=programme_name, level=1)).to_be_visible()
    programme_id = page.url.split("/staff/pool/programmes/")[1].split("?")[0]

    expert = subject_of(person_token(keycloak, "expert"))
    number = f"CN{uuid.uuid4().int % 10**9}B"
    patent = api_call(
        portal_stack,
        keycloak,
        "secretariat",
        "POST",
        "/api/v1/licensing/patents",
        {
            "office": "CN",
            "number": number,
            "family_id": f"F-{number}",
            "title": "Micro-LED mass transfer head",
            "filing_date": "2019-03-01",
            "grant_date": "2021-05-10",
            "expiry_date": "2039-03-01",
            "segment": "chip",
            "owner_id": "org-demo-huaxin",
        },
    )
    api_call(
        portal_stack,
        keycloak,
        "secretariat",
        "POST",
        f"/api/v1/licensing/programmes/{programme_id}/submissions",
        {"patent_id": patent["id"]},
    )

    page.get_by_role("navigation", name="Pool sections").get_by_role("link", name="Evaluations").click()
    page.get_by_label("Programme").select_option(programme_id)
    page.get_by_label("Only those awaiting an expert").check()
    page.get_by_role("button", name="Show").click()
    card = page.locator("li.card", has=page.get_by_role("heading", name=re.compile(number)))
    expect(card).to_contain_text("Awaiting an expert")
    expect(card).to_contain_text(programme_name)
    screenshot(page, "staff-pool-submissions")
    card.get_by_role("button", name="Assign").click()  # no expert named: the API's reason by the field
    card = page.locator("li.card", has=page.get_by_role("heading", name=re.compile(number)))
    expect(card.locator(".field.invalid")).to_have_count(1)
    card.get_by_label("Expert's e-mail (their sign-in)").fill(expert)
    card.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("The expert was assigned.")

    page.goto(f"{portal.url}/staff/pool/submissions?programme_id={programme_id}")
    card = page.locator("li.card", has=page.get_by_role("heading", name=re.compile(number)))
    expect(card).to_contain_text("Under evaluation")
    expect(card).to_contain_text(expert)
    expect(card.get_by_role("button", name="Assign")).to_have_count(0)
    submissions = api_call(
        portal_stack, keycloak, "secretariat", "GET", f"/api/v1/licensing/submissions?programme_id={programme_id}"
    )
    assert [(s["status"], s["evaluator_id"]) for s in submissions["items"]] == [("under_evaluation", expert)]
    assigned = api_call(portal_stack, keycloak, "expert", "GET", "/api/v1/licensing/submissions")
    assert patent["id"] in [s["patent_id"] for s in assigned["items"]]  # the expert sees it assigned

    # The programme's rate schedule, an outside licensee's licence, and a distribution the API refuses.
    page.goto(f"{portal.url}/staff/pool/programmes/{programme_id}")
    schedule = page.locator("section", has=page.get_by_role("heading", name="Rate schedule"))
    schedule.get_by_role("button", name="Publish the schedule").click()
    schedule = page.locator("section", has=page.get_by_role("heading", name="Rate schedule"))
    expect(schedule).to_contain_text("enter at least one tier")
    schedule.get_by_label("Product category 1").fill("led_package")
    schedule.get_by_label("Up to (units a year) 1").fill("1000000")
    schedule.get_by_label("Standard rate 1").fill("0.0100")
    schedule.get_by_label("Compliant rate 1").fill("0.0080")
    schedule.get_by_label("Product category 2").fill("led_package")
    schedule.get_by_label("Standard rate 2").fill("0.0060")
    schedule.get_by_label("Compliant rate 2").fill("0.0050")
    schedule.get_by_role("button", name="Publish the schedule").click()
    expect(page.get_by_role("status")).to_contain_text("The rate schedule was published.")
    # The form shows the published schedule (the API reads it back), to change rather than retype.
    schedule = page.locator("section", has=page.get_by_role("heading", name="Rate schedule"))
    expect(schedule.get_by_label("Up to (units a year) 1")).to_have_value("1000000")
    expect(schedule.get_by_label("Standard rate 2")).to_have_value("0.0060")
    expect(schedule.get_by_label("Up to (units a year) 2")).to_have_value("")
    expect(schedule.get_by_label("Late interest %")).to_have_value("6")

    licensee = f"Guangzhou Outside Lighting {uuid.uuid4().hex[:6]}"
    licence = page.locator("section", has=page.get_by_role("heading", name="Sign a licence"))
    licence.get_by_label("Licensee's name").fill(licensee)
    licence.get_by_label("Licensee's organisation id").fill(f"org-{uuid.uuid4().hex[:8]}")
    licence.get_by_label("Start date").fill("2027-01-01")
    licence.get_by_label("Territory").fill("CN, VN")
    licence.get_by_role("button", name="Sign the licence").click()
    expect(page.get_by_role("status")).to_contain_text("The licence was signed.")

    distribution = page.locator("section", has=page.get_by_role("heading", name="Distribute a period"))
    distribution.get_by_label("Period").fill("2026-Q3")
    distribution.get_by_role("button", name="Run the distribution").click()
    distribution = page.locator("section", has=page.get_by_role("heading", name="Distribute a period"))
    expect(distribution.locator(".field.invalid")).to_contain_text("nothing was collected")
    screenshot(page, "staff-pool-programme")

    page.get_by_role("navigation", name="Pool sections").get_by_role("link", name="Licences").click()
    row = page.get_by_role("row", name=re.compile(licensee))
    expect(row).to_contain_text(programme_name)
    expect(row).to_contain_text("CN, VN")
