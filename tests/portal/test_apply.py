"""Applying for membership: the credit code checked in the form as the API checks it, the API's own
field errors next to their fields, then the application on "my organisation"; and the CSRF check."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from membership.domain.credit_code import with_check_characters
from tests.portal.flows import login_name, sign_in
from tests.portal.harness import Portal

pytestmark = pytest.mark.infra


def test_apply_shows_field_errors_then_files_the_application(
    page: Page, portal: Portal, screenshot: Callable[[Page, str], None]
) -> None:
    page.goto(portal.url + "/apply")  # needs a person: the provider's form first
    page.locator("#username").fill(login_name("expert"))
    page.locator("#password").fill("expert-demo")
    page.locator("#kc-login").click()
    page.wait_for_url(portal.url + "/apply")
    name = f"Xiamen Bright Epitaxy {uuid.uuid4().hex[:6]}"
    page.get_by_label("Organisation name").fill(name)
    page.get_by_label("Unified social credit code").fill("91350100M000100Y44")  # a wrong check character
    page.get_by_label("Epitaxy").check()
    page.get_by_label("Region").fill("CN-FJ")
    page.get_by_label("E-mail").fill("chen.li@example.com")
    page.get_by_role("button", name="Send the application").click()
    expect(page.locator("#e-credit_code")).to_have_text("check character is 4, expected 3")
    expect(page.get_by_label("Unified social credit code")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Organisation name")).to_have_value(name)  # what was typed stays
    screenshot(page, "apply-errors")

    code = with_check_characters("91350100" + uuid.uuid4().hex[:8].upper().replace("I", "1").replace("O", "0"))
    page.get_by_label("Unified social credit code").fill(code)
    page.get_by_label("Region").fill("Fujian")  # passes the form, the API names the field
    page.get_by_role("button", name="Send the application").click()
    expect(page.locator("#e-region")).to_be_visible()
    expect(page.get_by_label("Region")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Region").fill("CN-FJ")
    page.get_by_role("button", name="Send the application").click()
    page.wait_for_url(re.compile(re.escape(portal.url) + r"/organisation\?applied=1"))
    expect(page.get_by_role("status")).to_contain_text("Your application has been sent")
    card = page.locator("section.card", has=page.get_by_role("heading", name=name))
    expect(card).to_contain_text("Submitted")
    expect(card).to_contain_text(code)
    screenshot(page, "organisation-applied")


def test_a_post_without_the_sessions_csrf_token_is_refused(page: Page, portal: Portal) -> None:
    sign_in(page, portal, "member-staff")
    forged = page.request.post(
        portal.url + "/auth/sign-out", form={"csrf_token": "not-the-token"}, headers={"origin": portal.url}
    )
    assert forged.status == 403
    other_site = page.request.post(
        portal.url + "/apply", form={"csrf_token": "x"}, headers={"origin": "http://evil.example"}
    )
    assert other_site.status == 403
    page.goto(portal.url + "/organisation")  # still signed in: the forged sign-out did nothing
    expect(page.get_by_role("button", name=re.compile("^Sign out$"))).to_be_visible()


def test_apply_is_on_the_menu_for_visitors_only_not_for_members_licensees_or_experts(
    page: Page, portal: Portal
) -> None:
    menu = page.get_by_role("navigation", name="Main menu")
    page.goto(portal.url + "/")
    expect(menu.get_by_role("link", name="Apply")).to_be_visible()
    for person in ("member-staff", "licensee", "expert"):
        sign_in(page, portal, person)
        expect(menu.get_by_role("link", name="My organisation")).to_be_visible()
        expect(menu.get_by_role("link", name="Apply")).to_have_count(0)
        page.goto(portal.url + "/organisation")
        expect(page.get_by_role("link", name="Apply for membership")).to_have_count(0)
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(portal.url + "/")


def test_the_apis_refusals_are_shown_in_chinese_on_a_chinese_page(page: Page, portal: Portal) -> None:
    sign_in(page, portal, "expert")
    page.goto(portal.url + "/apply")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申请入会")
    code = with_check_characters("91350100" + uuid.uuid4().hex[:8].upper().replace("I", "1").replace("O", "0"))
    page.locator('[id="f-name"]').fill(f"厦门明亮外延 {uuid.uuid4().hex[:6]}")
    page.locator('[id="f-credit_code"]').fill(code)
    page.locator('input[name="segments"][value="epitaxy"]').check()
    page.locator('[id="f-region"]').fill("Fujian")  # both pass the form's own checks; the API refuses them
    page.locator('[id="f-contact.email"]').fill("chen.li-at-example.com")
    page.locator("form[action='/apply'] button[type=submit]").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("请求有误")
    expect(alert).not_to_contain_text("Invalid request")
    expect(page.locator('[id="e-region"]')).to_have_text("须为 ISO 3166 地区代码，例如 CN-GD")
    expect(page.locator('[id="e-contact.email"]')).to_have_text("不是有效的电子邮箱地址")
