"""The e-mail journey of a new member company on the real stack (gateway, services, Kafka, store,
Keycloak, Mailpit), read the way its people read it: in Mailpit's inbox, through its API.

A visitor without an account follows "Apply" to the provider, registers there (Keycloak's own
registration page) and applies through the portal; the secretariat accepts and the council admits
the application; the decision reaches the applicant by e-mail and their next sign-in carries the
organisation and the member admin's role (membership provisions the account from its events). The
applicant already has a password, so the provider sends them no set-password mail (by design: see
membership's identity adapter); the second administrator they add in the portal has none, gets the
provider's "set your password" e-mail, sets it on the provider's page through the mail's link and
signs in. They register two people for a full course with the waiting list; a place frees, the
offer arrives by e-mail, and they accept it in the portal.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from alliance_local.infra import Keycloak
from alliance_local.stack import Stack
from membership.domain.credit_code import with_check_characters
from tests.portal.flows import api_call, call, person_token, sign_in
from tests.portal.harness import DESKTOP, Portal

pytestmark = pytest.mark.infra

ORGS = "/api/v1/membership/organisations"


def until(probe: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """``probe()`` again until it returns something truthy (a bounded wait for another process)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)


def inbox(stack: Stack, address: str) -> list[dict[str, Any]]:
    """The mails to ``address`` in the stack's Mailpit, newest first (its HTTP API)."""
    with urllib.request.urlopen(f"{stack.mailpit.url}/api/v1/messages?limit=1000", timeout=10) as response:
        listing = json.loads(response.read())
    return [m for m in listing["messages"] if any(t["Address"].lower() == address.lower() for t in m["To"])]


def message(stack: Stack, message_id: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{stack.mailpit.url}/api/v1/message/{message_id}", timeout=10) as response:
        found: dict[str, Any] = json.loads(response.read())
        return found


def claims_of(keycloak: Keycloak, username: str, password: str) -> dict[str, Any]:
    token = person_token(keycloak, username, password)
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def test_a_company_applies_is_admitted_and_its_people_follow_their_mail(
    browser: Browser,
    page: Page,
    portal: Portal,
    portal_stack: Stack,
    keycloak: Keycloak,
    screenshot: Callable[[Page, str], None],
) -> None:
    run = uuid.uuid4().hex[:6]
    applicant, applicant_password = f"zhao.min.{run}@guangming.example", f"Applicant-{run}-pw"
    second_admin, second_password = f"qian.hui.{run}@guangming.example", f"Admin2-{run}-pw"
    company = f"Guangming Micro-LED {run} Co., Ltd."

    # A visitor: "Apply" is on the menu; it asks them to sign in, and they register at the provider.
    page.goto(portal.url + "/")
    page.get_by_role("navigation").get_by_role("link", name="Apply").click()
    page.get_by_role("link", name=re.compile("^(Register|注册)$")).click()
    page.locator("#email").fill(applicant)
    page.locator("#firstName").fill("Zhao")
    page.locator("#lastName").fill("Min")
    page.locator("#password").fill(applicant_password)
    page.locator("#password-confirm").fill(applicant_password)
    page.locator("#kc-form-buttons [type=submit], #kc-register-form [type=submit]").first.click()
    page.wait_for_url(portal.url + "/apply")
    expect(page.get_by_role("heading", level=1)).to_have_text("Apply for membership")

    code = with_check_characters("91440600" + uuid.uuid4().hex[:8].upper().replace("I", "1").replace("O", "0"))
    page.get_by_label("Organisation name").fill(company)
    page.get_by_label("Unified social credit code").fill(code)
    page.get_by_label("Chip").check()
    page.get_by_label("Region").fill("CN-GD")
    page.get_by_label("E-mail").fill(applicant)
    page.get_by_role("button", name="Send the application").click()
    page.wait_for_url(re.compile(re.escape(portal.url) + r"/organisation\?applied=1"))
    card = page.locator("section.card", has=page.get_by_role("heading", name=company))
    expect(card).to_contain_text("Submitted")
    applied = call(portal_stack, person_token(keycloak, applicant, applicant_password), "GET", ORGS)["items"]
    org_id = str(next(o["id"] for o in applied if o["name"] == company))
    screenshot(page, "journey-applied")

    # The secretariat accepts it, the council admits it (their pages are tested in test_staff_pages).
    api_call(portal_stack, keycloak, "secretariat", "POST", f"{ORGS}/{org_id}/review", {"decision": "accept"})
    api_call(portal_stack, keycloak, "council", "POST", f"{ORGS}/{org_id}/decision", {"decision": "admit"})

    # The decision reaches the applicant by e-mail, once; their account now carries the organisation.
    [decided] = until(lambda: inbox(portal_stack, applicant), 90, "the admission mail")
    assert company in decided["Subject"] and "admitted" in decided["Subject"]
    until(
        lambda: claims_of(keycloak, applicant, applicant_password).get("org") == org_id,
        90,
        "the applicant's account provisioned with the organisation",
    )
    assert "member_admin" in claims_of(keycloak, applicant, applicant_password)["roles"]
    assert len(inbox(portal_stack, applicant)) == 1  # no set-password mail: they chose a password

    # Signed in again, the applicant is the member admin and adds a second administrator.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, portal, applicant, applicant_password)
    page.goto(portal.url + "/people")
    expect(page.get_by_text(f"For {company}")).to_be_visible()
    page.get_by_label("Name").fill("Qian Hui")
    page.get_by_label("E-mail").fill(second_admin)
    page.get_by_label("Member administrator").check()
    page.get_by_role("button", name="Add the person").click()
    expect(page.get_by_role("status")).to_have_text("Qian Hui was added.")

    # The provider mails them a link to set their password; they follow it in their own browser.
    [invitation] = until(lambda: inbox(portal_stack, second_admin), 120, "the set-password mail")
    text = message(portal_stack, invitation["ID"])["Text"]
    link = re.search(r"https?://\S+action-token\S+", text)
    assert link is not None, text
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    context.set_default_timeout(30_000)
    try:
        admin = context.new_page()
        admin.goto(link.group(0))
        proceed = admin.get_by_role("link", name=re.compile("proceed|继续", re.IGNORECASE))
        expect(admin.locator("#password-new").or_(proceed)).to_be_visible()
        if proceed.is_visible():
            proceed.click()
        admin.locator("#password-new").fill(second_password)
        admin.locator("#password-confirm").fill(second_password)
        screenshot(admin, "journey-set-password")
        admin.locator("#kc-form-buttons [type=submit], form [type=submit]").first.click()
        expect(admin.locator("#password-new")).to_have_count(0)
        screenshot(admin, "journey-password-set")

        # The provider's page leads back to the portal (membership asked for the portal's sign-in as
        # the way back): its "Back to application" link, or straight there. The portal's sign-in
        # asks the provider, which signs them in with the new password (unless still signed in).
        back = admin.get_by_role("link", name=re.compile("back to application|返回应用", re.IGNORECASE))
        at_portal = re.compile(re.escape(portal.url) + ".*")
        expect(back.or_(admin.locator("#username"))).to_be_visible()
        if back.is_visible():
            href = back.get_attribute("href") or ""
            assert href.startswith(f"{portal.url}/auth/sign-in"), href
            back.click()
        expect(admin.locator("#username").or_(admin.get_by_role("button", name="Sign out"))).to_be_visible()
        if admin.locator("#username").is_visible():
            screenshot(admin, "journey-back-sign-in")
            admin.locator("#username").fill(second_admin)
            admin.locator("#password").fill(second_password)
            admin.locator("#kc-login").click()
        admin.wait_for_url(at_portal)
        expect(admin.get_by_text("Signed in as Qian Hui")).to_be_visible()
        screenshot(admin, "journey-back-at-portal")
        _register_and_accept_an_offer(admin, portal, portal_stack, keycloak, second_admin, screenshot)
    finally:
        context.close()


def _register_and_accept_an_offer(
    page: Page,
    portal: Portal,
    stack: Stack,
    keycloak: Keycloak,
    admin: str,
    screenshot: Callable[[Page, str], None],
) -> None:
    """A full course (another member holds its one seat): two people onto the waiting list; the seat
    frees, the first of them (the admin) is offered it by e-mail and accepts it in the portal."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=21)
    title = f"Micro-LED mass transfer {uuid.uuid4().hex[:4]}"
    session = api_call(
        stack,
        keycloak,
        "secretariat",
        "POST",
        "/api/v1/training/sessions",
        {
            "title": title,
            "audience": "engineers",
            "format": "course",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=7)).isoformat(),
            "venue": "Foshan",
            "capacity": 1,
            "member_price": "900.00",
            "non_member_price": "1800.00",
        },
    )
    base = f"/api/v1/training/sessions/{session['id']}/registrations"
    seat = api_call(
        stack,
        keycloak,
        "member-admin",
        "POST",
        base,
        {"attendee_name": "Wang Zhanwei", "attendee_email": f"wang.zhanwei.{uuid.uuid4().hex[:6]}@example.com"},
    )

    page.goto(f"{portal.url}/registrations/new?session={session['id']}")
    rows = page.locator("fieldset", has=page.locator("legend", has_text=re.compile(r"^Person \d$")))
    rows.nth(0).get_by_label("Name").fill("Qian Hui")
    rows.nth(0).get_by_label("E-mail").fill(admin)
    rows.nth(1).get_by_label("Name").fill("Sun Gongcheng")
    rows.nth(1).get_by_label("E-mail").fill(f"sun.gongcheng.{uuid.uuid4().hex[:6]}@guangming.example")
    page.get_by_label("If there are not enough seats, put everyone on the waiting list").check()
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("0 registered, 2 on the waiting list.")
    expect(page.get_by_role("row", name=re.compile("Qian Hui"))).to_contain_text("No. 1 on the waiting list")
    expect(page.get_by_role("row", name=re.compile("Sun Gongcheng"))).to_contain_text("No. 2 on the waiting list")
    screenshot(page, "journey-waiting-list")

    # The other member cancels: the seat is offered to the first person waiting, by e-mail.
    api_call(stack, keycloak, "member-admin", "POST", f"{base}/{seat['id']}/cancel", {})
    offers = until(lambda: [m for m in inbox(stack, admin) if title in m["Subject"]], 90, "the waiting-list offer mail")
    assert len(offers) == 1
    offer_mail = message(stack, offers[0]["ID"])
    assert "accept" in offer_mail["Subject"].lower() and "候补" in offer_mail["Subject"]
    # It links to the portal's registrations page, and says its deadline in Beijing time, as the page does.
    assert f"On the portal: {portal.url}/registrations" in offer_mail["Text"], offer_mail["Text"]
    assert f"在门户中查看：{portal.url}/registrations" in offer_mail["Text"]
    deadline = re.search(r"accept by (\d{4}-\d\d-\d\d \d\d:\d\d) \(Beijing time, UTC\+8\)", offer_mail["Subject"])
    assert deadline is not None, offer_mail["Subject"]
    page.goto(f"{stack.mailpit.url}/view/{offers[0]['ID']}")
    expect(page.get_by_text(title).first).to_be_visible()
    screenshot(page, "journey-offer-mail")

    link = re.search(r"On the portal: (\S+)", offer_mail["Text"])
    assert link is not None
    page.goto(link.group(1))  # the mail's link
    offer = page.locator("section.offer")
    expect(offer).to_contain_text("A place for Qian Hui")
    expect(offer).to_contain_text(f"Accept it before {deadline.group(1)} (Beijing time, UTC+8)")
    screenshot(page, "journey-offer")
    offer.get_by_role("button", name="Accept the place for Qian Hui").click()
    expect(page.get_by_role("status")).to_have_text("The place is confirmed.")
    expect(page.get_by_role("row", name=re.compile("Qian Hui"))).to_contain_text("Confirmed")
    expect(page.get_by_role("row", name=re.compile("Sun Gongcheng"))).to_contain_text("No. 1 on the waiting list")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("row", name=re.compile("Qian Hui"))).to_contain_text("已确认")
    screenshot(page, "journey-accepted-zh")
