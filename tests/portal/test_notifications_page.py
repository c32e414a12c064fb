"""A person chooses which e-mails they receive: the portal's page over the notifications service."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from alliance_local.infra import Keycloak
from alliance_local.stack import Stack
from tests.portal.flows import person_token, sign_in
from tests.portal.harness import Portal

pytestmark = pytest.mark.infra


def test_a_person_turns_ballot_mails_off_and_reads_english(
    page: Page, portal: Portal, portal_stack: Stack, keycloak: Keycloak, screenshot: Callable[[Page, str], None]
) -> None:
    sign_in(page, portal, "council")
    page.goto(portal.url + "/notifications")
    ballots = page.get_by_label("Ballots opening and closing")
    expect(ballots).to_be_checked()  # every kind is on until the person turns it off
    ballots.uncheck()
    page.get_by_label("English", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Your choices are saved.")
    expect(page.get_by_label("Ballots opening and closing")).not_to_be_checked()
    expect(page.get_by_label("Training certificates")).to_be_checked()
    expect(page.get_by_label("English", exact=True)).to_be_checked()
    screenshot(page, "notifications")

    # the service holds the choice (what the consumer reads before it sends a mail)
    token = person_token(keycloak, "council")
    response = httpx.get(
        f"{portal_stack.gateway_url}/api/v1/notifications/preferences",
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject"] == "council@alliance.example"
    assert body["kinds"]["ballot"] is False and body["kinds"]["certificate"] is True
    assert body["language"] == "en"
