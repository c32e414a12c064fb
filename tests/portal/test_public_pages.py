"""The pages for anyone, read without signing in: home, training calendar (with the portal's own
client-credentials token), published standards, certificate check (the public API), in both languages."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from alliance_local.infra import Keycloak
from alliance_local.stack import Stack
from tests.portal.flows import api_call
from tests.portal.harness import DESKTOP, Portal
from training.entrypoints.schemas import SESSION_EXAMPLE

pytestmark = pytest.mark.infra


def test_the_home_page_and_its_keyboard_path(
    page: Page, portal: Portal, screenshot: Callable[[Page, str], None]
) -> None:
    response = page.goto(portal.url + "/")
    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome")
    page.keyboard.press("Tab")  # the first stop is the skip link, shown when focused
    skip = page.get_by_role("link", name="Skip to the main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    screenshot(page, "home")


def test_the_training_calendar_lists_scheduled_sessions_without_signing_in(
    page: Page, portal: Portal, portal_stack: Stack, keycloak: Keycloak, screenshot: Callable[[Page, str], None]
) -> None:
    title = f"Patent pools for LED engineers {uuid.uuid4().hex[:6]}"
    api_call(
        portal_stack, keycloak, "secretariat", "POST", "/api/v1/training/sessions", {**SESSION_EXAMPLE, "title": title}
    )
    page.goto(portal.url + "/training")
    expect(page.get_by_role("heading", level=1)).to_have_text("Training calendar")
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    page.get_by_label("Audience").select_option("executives")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name=title)).to_have_count(0)
    page.get_by_label("Audience").select_option("engineers")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    screenshot(page, "training")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("培训日历")
    expect(page.get_by_role("definition").filter(has_text="工程师").first).to_be_visible()
    screenshot(page, "training-zh")


def test_published_standards_read_without_signing_in(
    page: Page, portal: Portal, screenshot: Callable[[Page, str], None]
) -> None:
    response = page.goto(portal.url + "/standards")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Published standards")
    screenshot(page, "standards")


def test_the_certificate_check_names_a_bad_or_unknown_code(
    page: Page, portal: Portal, screenshot: Callable[[Page, str], None]
) -> None:
    page.goto(portal.url + "/certificates")
    page.get_by_label("Verification code").fill("AB-12")
    page.get_by_role("button", name="Check").click()
    field = page.get_by_label("Verification code")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-code")).to_have_text("A code is 6 to 32 letters and digits.")
    page.get_by_label("Verification code").fill("ZZZZ9999ZZZZ")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("alert")).to_have_text("No certificate has this code.")
    screenshot(page, "certificate-check")


def test_the_language_follows_the_browser_until_switched(browser: Browser, portal: Portal) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(portal.url + "/")
        expect(page.get_by_role("heading", level=1)).to_have_text("欢迎")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        page.get_by_role("link", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Welcome")
        page.goto(portal.url + "/certificates")  # the choice is kept (a cookie)
        expect(page.get_by_role("heading", level=1)).to_have_text("Certificate check")
    finally:
        context.close()


def test_an_unknown_address_is_a_plain_page_not_a_trace(page: Page, portal: Portal) -> None:
    response = page.goto(portal.url + "/no/such/page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert "Traceback" not in page.content()
