"""Signing in through Keycloak's real form, the signed-in page, signing out (ends the provider's session too)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.portal.flows import sign_in
from tests.portal.harness import Portal

pytestmark = pytest.mark.infra


def test_a_member_signs_in_sees_their_organisation_page_and_signs_out(
    page: Page, portal: Portal, screenshot: Callable[[Page, str], None]
) -> None:
    page.goto(portal.url + "/organisation")  # not signed in: off to the provider's form, then back here
    expect(page.locator("#username")).to_be_visible()
    page.locator("#username").fill("member-admin@alliance.example")  # the realm's logins are e-mails
    page.locator("#password").fill("member-admin-demo")
    page.locator("#kc-login").click()
    page.wait_for_url(portal.url + "/organisation")
    expect(page.get_by_role("heading", level=1)).to_have_text("My organisation")
    expect(page.get_by_text("Signed in as Wang Guanli")).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies(portal.url)}
    session = cookies["portal_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert not any("token" in name.lower() for name in cookies)  # tokens never reach the browser
    screenshot(page, "organisation")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(portal.url + "/")
    expect(page.get_by_role("link", name=re.compile("^Sign in$")).first).to_be_visible()
    # The provider's session ended too: signing in again asks for the password.
    page.goto(portal.url + "/organisation")
    expect(page.locator("#password")).to_be_visible()


def test_signed_in_pages_follow_the_language_switch(page: Page, portal: Portal) -> None:
    sign_in(page, portal, "member-staff")
    page.goto(portal.url + "/organisation")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的单位")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
