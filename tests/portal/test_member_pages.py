"""A member company's pages in the browser: its member admin adds a colleague; registers two people
for a session and accepts a place offered from the waiting list; contributes a patent, submits it
to a programme and sees the expert's finding. Plus invoices (the secretariat records a payment) and
statements. Everything is set up through the API and Keycloak's admin API, never in a database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from alliance_local.infra import Keycloak
from alliance_local.stack import Stack
from membership.domain.credit_code import with_check_characters
from portal.pages.statements import share_percent
from tests.portal.flows import call, login_name, person_token, sign_in
from tests.portal.harness import Portal, admin_call, client_uuid

pytestmark = pytest.mark.infra

PASSWORD = "member-pages-test-1"  # noqa: S105 - a test person made for this run


def as_demo(stack: Stack, keycloak: Keycloak, username: str, method: str, path: str, body: Any = None) -> Any:
    return call(stack, person_token(keycloak, username), method, path, body)


def keycloak_user_id(keycloak: Keycloak, username: str) -> str:
    found = admin_call(keycloak, "GET", f"/users?username={username}&exact=true")
    assert found, username
    return str(found[0]["id"])


def person(keycloak: Keycloak, first: str, last: str) -> dict[str, str]:
    """A new person in the realm (e-mail username, a password), no organisation or role yet."""
    username = f"{first.lower()}.{last.lower()}.{uuid.uuid4().hex[:6]}@example.com"
    admin_call(
        keycloak,
        "POST",
        "/users",
        {
            "username": username,
            "email": username,
            "firstName": first,
            "lastName": last,
            "enabled": True,
            "emailVerified": True,
            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        },
    )
    return {"username": username, "id": keycloak_user_id(keycloak, username), "name": f"{first} {last}"}


def make_member(keycloak: Keycloak, user_id: str, org_id: str, role: str) -> None:
    """The person belongs to the organisation (the ``org`` claim) with a client role of the platform."""
    account = admin_call(keycloak, "GET", f"/users/{user_id}")
    account["attributes"] = {**(account.get("attributes") or {}), "org": [org_id]}
    admin_call(keycloak, "PUT", f"/users/{user_id}", account)
    platform = client_uuid(keycloak, "alliance-platform")
    granted = admin_call(keycloak, "GET", f"/clients/{platform}/roles/{role}")
    admin_call(keycloak, "POST", f"/users/{user_id}/role-mappings/clients/{platform}", [granted])


@pytest.fixture(scope="module")
def member_org(portal: Portal, portal_stack: Stack, keycloak: Keycloak) -> Iterator[dict[str, str]]:
    """An organisation that applied, was admitted by the council, and whose applicant (its member
    admin) signs in to the portal with the organisation in their token."""
    admin = person(keycloak, "Chen", "Guanli")
    code = with_check_characters("91440300" + uuid.uuid4().hex[:8].upper().replace("I", "1").replace("O", "0"))
    name = f"Shenzhen Lumen Chips {uuid.uuid4().hex[:4]}"
    org = call(
        portal_stack,
        person_token(keycloak, admin["username"], PASSWORD),
        "POST",
        "/api/v1/membership/applications",
        {
            "name": name,
            "credit_code": code,
            "org_type": "enterprise",
            "segments": ["chip"],
            "region": "CN-GD",
            "tier": "ordinary_member",
            "contact": {"name": admin["name"], "email": admin["username"]},
        },
    )
    org_id = str(org["id"])
    as_demo(
        portal_stack,
        keycloak,
        "secretariat",
        "POST",
        f"/api/v1/membership/organisations/{org_id}/review",
        {"decision": "accept"},
    )
    as_demo(
        portal_stack,
        keycloak,
        "council",
        "POST",
        f"/api/v1/membership/organisations/{org_id}/decision",
        {"decision": "admit"},
    )
    make_member(keycloak, admin["id"], org_id, "member_admin")
    yield {**admin, "org_id": org_id, "org_name": name}


def sign_in_as(page: Page, portal: Portal, who: dict[str, str], then: str) -> None:
    sign_in(page, portal, who["username"], PASSWORD)
    page.goto(portal.url + then)


def test_the_member_admin_adds_a_colleague(
    page: Page, portal: Portal, member_org: dict[str, str], screenshot: Callable[[Page, str], None]
) -> None:
    sign_in_as(page, portal, member_org, "/people")
    page.goto(portal.url + "/people")
    expect(page.get_by_role("heading", level=1)).to_have_text("People and roles")
    expect(page.get_by_text(f"For {member_org['org_name']}")).to_be_visible()
    me = page.get_by_role("row", name=re.compile(re.escape(member_org["name"])))
    expect(me).to_contain_text("Member administrator")
    expect(me.get_by_role("button")).to_have_count(0)  # the only admin: no "remove" to press

    page.get_by_label("E-mail").fill("not an address")
    page.get_by_label("Name").fill("Zhou Yuangong")
    page.get_by_role("button", name="Add the person").click()
    expect(page.locator("#e-email")).to_be_visible()  # the API's reason, by the field
    expect(page.get_by_label("Name")).to_have_value("Zhou Yuangong")

    colleague = f"zhou.{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("E-mail").fill(colleague)
    page.get_by_label("Staff").check()
    page.get_by_role("button", name="Add the person").click()
    expect(page.get_by_role("status")).to_have_text("Zhou Yuangong was added.")
    row = page.get_by_role("row", name=re.compile(re.escape(colleague)))
    expect(row).to_contain_text("Staff")
    screenshot(page, "member-people")

    row.get_by_role("button", name="Remove Zhou Yuangong").click()
    expect(page.get_by_role("status")).to_have_text("The person was removed.")
    expect(page.get_by_role("row", name=re.compile(re.escape(colleague)))).to_have_count(0)

    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("人员与角色")
    screenshot(page, "member-people-zh")


def test_the_member_registers_two_people_and_accepts_a_waiting_list_offer(
    page: Page,
    portal: Portal,
    portal_stack: Stack,
    keycloak: Keycloak,
    member_org: dict[str, str],
    screenshot: Callable[[Page, str], None],
) -> None:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=14)
    session = as_demo(
        portal_stack,
        keycloak,
        "secretariat",
        "POST",
        "/api/v1/training/sessions",
        {
            "title": f"Mini-LED chip reliability {uuid.uuid4().hex[:4]}",
            "audience": "engineers",
            "format": "course",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=7)).isoformat(),
            "venue": "Shenzhen",
            "capacity": 2,
            "member_price": "800.00",
            "non_member_price": "1600.00",
        },
    )
    sign_in_as(page, portal, member_org, "/registrations")
    page.get_by_role("link", name="Register for a session").click()
    page.get_by_role("link", name=f"Register for {session['title']}").click()
    expect(page.get_by_role("heading", name=session["title"])).to_be_visible()
    rows = page.locator("fieldset", has=page.locator("legend", has_text=re.compile(r"^Person \d$")))
    rows.nth(0).get_by_label("Name").fill("Li Gongcheng")
    rows.nth(0).get_by_label("E-mail").fill("li.gongcheng@example.com")
    rows.nth(1).get_by_label("Name").fill("Sun Ceshi")
    rows.nth(1).get_by_label("E-mail").fill("sun.ceshi@example.com")
    screenshot(page, "member-registration-form")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("2 registered, 0 on the waiting list.")

    # The session is full: a third person without the waiting list is refused, with it waits.
    page.goto(f"{portal.url}/registrations/new?session={session['id']}")
    rows.nth(0).get_by_label("Name").fill("Wu Dengdai")
    rows.nth(0).get_by_label("E-mail").fill("wu.dengdai@example.com")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(rows.nth(0).get_by_label("Name")).to_have_value("Wu Dengdai")
    page.get_by_label("If there are not enough seats, put everyone on the waiting list").check()
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("0 registered, 1 on the waiting list.")
    waiting = page.get_by_role("row", name=re.compile("Wu Dengdai"))
    expect(waiting).to_contain_text("No. 1 on the waiting list")
    screenshot(page, "member-registrations")

    # Li cancels: the place is offered to Wu, who accepts it before the offer lapses.
    page.get_by_role("link", name="Registration of Li Gongcheng").click()
    page.get_by_role("button", name="Cancel the registration of Li Gongcheng").click()
    expect(page.get_by_role("status")).to_have_text("The registration was cancelled.")
    page.goto(portal.url + "/registrations")
    offer = page.locator("section.offer")
    expect(offer).to_contain_text("A place for Wu Dengdai")
    expect(offer).to_contain_text(re.compile(r"before \d{4}-\d\d-\d\d \d\d:\d\d \(Beijing time, UTC\+8\)"))
    offer.get_by_role("button", name="Accept the place for Wu Dengdai").click()
    expect(page.get_by_role("status")).to_have_text("The place is confirmed.")
    expect(page.get_by_role("row", name=re.compile("Wu Dengdai"))).to_contain_text("Confirmed")

    page.get_by_role("link", name="Registration of Wu Dengdai").click()
    history = page.locator("ol.history li")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("Waiting list")
    expect(history.nth(1)).to_contain_text("Place offered")
    expect(history.nth(2)).to_contain_text("Confirmed")
    screenshot(page, "member-registration-detail")


def test_the_member_contributes_a_patent_and_follows_its_submission(
    page: Page,
    portal: Portal,
    portal_stack: Stack,
    keycloak: Keycloak,
    member_org: dict[str, str],
    screenshot: Callable[[Page, str], None],
) -> None:
    programme = as_demo(
        portal_stack,
        keycloak,
        "secretariat",
        "POST",
        "/api/v1/licensing/programmes",
        {"name": f"Mini-LED pool {uuid.uuid4().hex[:4]}", "standard_ref": "T/LEDA 001—2026"},
    )
    sign_in_as(page, portal, member_org, "/patents")
    page.goto(portal.url + "/patents")
    page.get_by_role("link", name="Contribute a patent").click()
    number = f"CN{uuid.uuid4().int % 10**9:09d}B"
    page.get_by_label("Number").fill(number)
    page.get_by_label("Title").fill("Flip-chip mini-LED with a distributed Bragg reflector")
    page.get_by_label("Patent family").fill("FAM-2019-0007")
    page.get_by_label("Chain segment").select_option("chip")
    page.get_by_label("Filed").fill("2019-03-04")
    page.get_by_label("Granted").fill("2021-06-01")
    page.get_by_label("Expires").fill("2018-03-04")  # before the filing: the API names the field
    page.get_by_role("button", name="Contribute the patent").click()
    expect(page.locator("#e-expiry_date")).to_have_text("the expiry date must be after the filing date")
    expect(page.get_by_label("Number")).to_have_value(number)
    page.get_by_label("Expires").fill("2039-03-04")
    page.get_by_role("button", name="Contribute the patent").click()
    expect(page.get_by_role("status")).to_have_text("The patent was registered.")
    expect(page.get_by_role("heading", level=1)).to_have_text(number)
    card = page.locator("section.card", has=page.get_by_role("heading", name=programme["name"]))
    card.get_by_role("button", name=f"Submit to {programme['name']}").click()
    expect(page.get_by_role("status")).to_have_text("The patent was submitted for evaluation.")
    card = page.locator("section.card", has=page.get_by_role("heading", name=programme["name"]))
    expect(card).to_contain_text("Awaiting an expert")
    expect(card).to_contain_text("Not decided yet")

    # The secretariat assigns an independent expert, who finds the patent essential with a reason.
    patent_id = page.url.split("/patents/")[1].split("?")[0]
    submission_id = f"{programme['id']}:{patent_id}"
    expert = login_name("expert")  # an expert is known to the platform by their e-mail
    as_demo(
        portal_stack,
        keycloak,
        "secretariat",
        "POST",
        f"/api/v1/licensing/submissions/{submission_id}/assignment",
        {"evaluator_id": expert},
    )
    reason = "Claim 1 reads on clause 5.2 of the standard (the DBR stack is mandatory)."
    as_demo(
        portal_stack,
        keycloak,
        "expert",
        "POST",
        f"/api/v1/licensing/submissions/{submission_id}/evaluation",
        {"result": "essential", "reason": reason},
    )
    page.reload()
    card = page.locator("section.card", has=page.get_by_role("heading", name=programme["name"]))
    expect(card).to_contain_text("Essential")
    expect(card).to_contain_text(reason)
    screenshot(page, "member-patent")

    page.goto(portal.url + "/patents/submissions")
    row = page.get_by_role("row", name=re.compile(number))
    expect(row).to_contain_text(programme["name"])
    expect(row).to_contain_text(reason)
    screenshot(page, "member-submissions")
    page.goto(portal.url + "/patents")
    expect(page.get_by_role("link", name=number)).to_be_visible()
    screenshot(page, "member-patents")


def test_invoices_the_secretariat_records_a_payment_and_the_member_sees_it(
    page: Page,
    portal: Portal,
    portal_stack: Stack,
    keycloak: Keycloak,
    member_org: dict[str, str],
    screenshot: Callable[[Page, str], None],
) -> None:
    org_id = member_org["org_id"]
    invoice = as_demo(
        portal_stack,
        keycloak,
        "secretariat",
        "POST",
        f"/api/v1/membership/organisations/{org_id}/invoices",
        {"period": "current"},
    )
    sign_in(page, portal, "secretariat")
    page.goto(f"{portal.url}/invoices?org={org_id}")
    expect(page.get_by_text(f"For {member_org['org_name']}")).to_be_visible()
    page.get_by_text("Record a payment").click()
    half = (Decimal(invoice["amount"]) / 2).quantize(Decimal("0.01"))
    page.locator("#f-amount-1").fill(str(half))
    page.locator("#f-reference-1").fill("ICBC-TEST-0001")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_role("status")).to_have_text("The payment was recorded.")
    card = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^Invoice")))
    expect(card).to_contain_text("ICBC-TEST-0001")
    expect(card).to_contain_text("Partly paid")
    screenshot(page, "member-invoices-staff")
    page.get_by_role("button", name="Sign out").click()

    sign_in_as(page, portal, member_org, "/invoices")
    page.goto(portal.url + "/invoices")
    card = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^Invoice")))
    expect(card).to_contain_text(str(invoice["period_start"]))
    expect(card).to_contain_text("ICBC-TEST-0001")
    expect(card.get_by_text("Record a payment")).to_have_count(0)  # the member only reads
    screenshot(page, "member-invoices")

    page.goto(portal.url + "/statements")
    expect(page.get_by_role("heading", level=1)).to_have_text("Distribution statements")
    expect(page.get_by_text("No distribution statements yet")).to_be_visible()


def last_quarter(today: date) -> str:
    first_of_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    day = first_of_quarter - timedelta(days=1)
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def test_the_member_reads_its_distribution_statement(
    page: Page,
    portal: Portal,
    portal_stack: Stack,
    keycloak: Keycloak,
    member_org: dict[str, str],
    screenshot: Callable[[Page, str], None],
) -> None:
    """The member's essential patent earns it a share of a quarter's royalties: a licensee files
    and pays, the secretariat distributes, the member reads its statement."""
    stack = portal_stack
    member = person_token(keycloak, member_org["username"], PASSWORD)
    programme = as_demo(
        stack,
        keycloak,
        "secretariat",
        "POST",
        "/api/v1/licensing/programmes",
        {"name": f"Phosphor pool {uuid.uuid4().hex[:4]}", "standard_ref": "T/LEDA 002—2026"},
    )
    pid = programme["id"]
    schedule = {
        "currency": "USD",
        "categories": {"led_package": [{"standard_rate": "0.0100", "compliant_rate": "0.0080"}]},
    }
    as_demo(stack, keycloak, "secretariat", "PUT", f"/api/v1/licensing/programmes/{pid}/schedule", schedule)
    number = f"CN{uuid.uuid4().int % 10**9:09d}B"
    patent = call(
        stack,
        member,
        "POST",
        "/api/v1/licensing/patents",
        {
            "office": "CN",
            "number": number,
            "family_id": f"F-{number}",
            "title": "Phosphor-converted white LED",
            "filing_date": "2012-01-10",
            "grant_date": "2015-06-01",
            "expiry_date": "2032-01-10",
            "segment": "packaging",
        },
    )
    sub = call(stack, member, "POST", f"/api/v1/licensing/programmes/{pid}/submissions", {"patent_id": patent["id"]})
    as_demo(
        stack,
        keycloak,
        "secretariat",
        "POST",
        f"/api/v1/licensing/submissions/{sub['id']}/assignment",
        {"evaluator_id": login_name("expert")},
    )
    as_demo(
        stack,
        keycloak,
        "expert",
        "POST",
        f"/api/v1/licensing/submissions/{sub['id']}/evaluation",
        {"result": "essential", "reason": "Claim 1 reads on clause 4.3 of the standard."},
    )
    as_demo(
        stack,
        keycloak,
        "secretariat",
        "POST",
        f"/api/v1/licensing/programmes/{pid}/licences",
        {
            "licensee_id": "org-demo-licensee",
            "licensee_name": "Bright Lamps Inc.",
            "start_date": "2024-01-01",
            "territory": ["CN", "US"],
        },
    )
    period = last_quarter(date.today())
    line = {"product_category": "led_package", "units": 50000, "country_of_manufacture": "CN", "country_of_sale": "US"}
    report = as_demo(
        stack,
        keycloak,
        "licensee",
        "POST",
        f"/api/v1/licensing/programmes/{pid}/reports",
        {"period": period, "lines": [line]},
    )
    as_demo(
        stack,
        keycloak,
        "secretariat",
        "POST",
        f"/api/v1/licensing/reports/{report['id']}/payments",
        {"amount": report["outstanding"], "received_on": date.today().isoformat()},
    )
    distribution = as_demo(
        stack, keycloak, "secretariat", "POST", f"/api/v1/licensing/programmes/{pid}/distributions", {"period": period}
    )
    share = distribution["statements"][0]
    assert share["licensor_id"] == member_org["org_id"]  # the only essential patent is the member's

    sign_in_as(page, portal, member_org, "/statements")
    card = page.locator("section.card", has=page.get_by_role("heading", name=f"{programme['name']} · {period}"))
    yours = card.locator("div", has=page.locator("dt", has_text="Your share")).locator("dd")
    expect(yours).to_contain_text(share["amount"])
    expect(card).to_contain_text(distribution["collected"])
    # the only licensor: its exact share is the whole distributable amount
    expect(card).to_contain_text(share_percent(share["exact"], distribution["distributable"]) or "missing")
    assert share_percent(share["exact"], distribution["distributable"]) == "100.0000 %"
    screenshot(page, "member-statements")
