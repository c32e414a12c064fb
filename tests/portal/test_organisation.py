"""'My organisation' of an admitted member: status, standing, membership number, people and roles."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from alliance_local.infra import Keycloak
from alliance_local.stack import Stack
from membership.domain.credit_code import with_check_characters
from tests.portal.flows import api_call, sign_in
from tests.portal.harness import Portal

pytestmark = pytest.mark.infra
ORGS = "/api/v1/membership/organisations"


def test_an_admitted_member_sees_its_standing_and_people(
    page: Page, portal: Portal, portal_stack: Stack, keycloak: Keycloak, screenshot: Callable[[Page, str], None]
) -> None:
    name = f"Foshan Nationstar Optoelectronics {uuid.uuid4().hex[:6]}"
    code = with_check_characters("91440600" + uuid.uuid4().hex[:8].upper().replace("I", "1").replace("O", "0"))
    application = {
        "name": name,
        "credit_code": code,
        "org_type": "enterprise",
        "segments": ["packaging"],
        "region": "CN-GD",
        "contact": {"name": "Chen Li", "email": "chen.li@nationstar.example"},
    }
    org = api_call(portal_stack, keycloak, "licensee", "POST", "/api/v1/membership/applications", application)
    api_call(portal_stack, keycloak, "secretariat", "POST", f"{ORGS}/{org['id']}/review", {"decision": "accept"})
    api_call(portal_stack, keycloak, "council", "POST", f"{ORGS}/{org['id']}/decision", {"decision": "admit"})
    for subject, person, role in (("licensee", "Xu Kezheng", "member_admin"), ("li.ming", "Li Ming", "member_staff")):
        user = {"subject": subject, "name": person, "email": f"{subject}@nationstar.example", "role": role}
        api_call(portal_stack, keycloak, "secretariat", "POST", f"{ORGS}/{org['id']}/users", user)

    sign_in(page, portal, "licensee")
    page.get_by_role("navigation").get_by_role("link", name="My organisation").click()
    card = page.locator("section.card", has=page.get_by_role("heading", name=name))
    expect(card).to_contain_text("Admitted")
    expect(card).to_contain_text("In good standing")
    people = card.get_by_role("table")
    expect(people.get_by_role("row", name="Li Ming")).to_contain_text("Staff")
    expect(people.get_by_role("row", name="Xu Kezheng")).to_contain_text("Member administrator")
    screenshot(page, "organisation-member")
    page.get_by_role("link", name="中文").click()
    expect(card).to_contain_text("已入会")
    expect(card.get_by_role("table")).to_contain_text("会员管理员")
    screenshot(page, "organisation-member-zh")
