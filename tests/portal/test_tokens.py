"""Tokens stay on the server and are refreshed there; once the provider refuses the refresh (the
person's provider session ended) the next page sends them to sign in again."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pymongo import MongoClient

from alliance_local.infra import Infra, Keycloak
from tests.portal.flows import sign_in
from tests.portal.harness import Portal, admin_call, set_portal_token_lifespan

pytestmark = pytest.mark.infra
LIFESPAN_S = 40  # the portal refreshes 30 s before expiry: 10 s after sign-in


@pytest.fixture
def short_tokens(keycloak: Keycloak) -> Iterator[None]:
    set_portal_token_lifespan(keycloak, LIFESPAN_S)
    try:
        yield
    finally:
        set_portal_token_lifespan(keycloak, None)


def stored_session(page: Page, portal: Portal, infra: Infra) -> dict[str, Any]:
    cookie = next(c for c in page.context.cookies(portal.url) if c["name"] == "portal_session")
    with MongoClient(infra.store.url) as client:
        doc = client[portal.database]["sessions"].find_one(
            {"_id": hashlib.sha256(cookie["value"].encode()).hexdigest()}
        )
    assert doc is not None
    return doc


def test_the_portal_refreshes_tokens_and_sends_a_refused_person_to_sign_in(
    page: Page, portal: Portal, infra: Infra, keycloak: Keycloak, short_tokens: None
) -> None:
    sign_in(page, portal, "member-admin")
    before = stored_session(page, portal, infra)["tokens"]
    assert before["refresh_token"] and before["expires_at"] - time.time() <= LIFESPAN_S
    time.sleep(LIFESPAN_S - 30 + 1)
    page.goto(portal.url + "/organisation")
    expect(page.get_by_role("heading", level=1)).to_have_text("My organisation")
    after = stored_session(page, portal, infra)["tokens"]
    assert after["access_token"] != before["access_token"] and after["expires_at"] > before["expires_at"]

    # The provider ends the person's sessions (an administrator signs them out everywhere).
    (user,) = admin_call(keycloak, "GET", "/users?username=member-admin@alliance.example&exact=true")
    admin_call(keycloak, "POST", f"/users/{user['id']}/logout")
    time.sleep(LIFESPAN_S - 30 + 1)
    page.goto(portal.url + "/organisation")
    expect(page.locator("#password")).to_be_visible()  # the provider's form: sign in again
    assert page.url.startswith(keycloak.url)
