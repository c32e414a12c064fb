"""Steps the portal's browser tests share: signing in through Keycloak's real login form."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from alliance_local.infra import Keycloak
from alliance_local.stack import Stack
from tests.portal.harness import Portal

DEMO_PASSWORDS = {
    "secretariat": "secretariat-demo",
    "council": "council-demo",
    "expert": "expert-demo",
    "member-admin": "member-admin-demo",
    "member-staff": "member-staff-demo",
    "licensee": "licensee-demo",
}


def login_name(username: str) -> str:
    """The realm's login of a demo person: their e-mail (``registrationEmailAsUsername``); the tests
    name the six demo people by the part before the ``@``."""
    return username if "@" in username else f"{username}@alliance.example"


def sign_in(page: Page, portal: Portal, username: str, password: str | None = None, start: str = "/") -> None:
    """From ``start``, follow the portal's sign-in link, fill in Keycloak's form, come back signed in."""
    page.goto(portal.url + start)
    page.locator("header").get_by_role("link", name=re.compile("^(Sign in|登录)$")).click()
    page.locator("#username").fill(login_name(username))
    page.locator("#password").fill(password or DEMO_PASSWORDS[username])
    page.locator("#kc-login").click()
    page.wait_for_url(re.compile(re.escape(portal.url) + ".*"))
    expect(page.get_by_role("button", name=re.compile("^(Sign out|退出)$"))).to_be_visible()


def person_token(keycloak: Keycloak, username: str, password: str | None = None) -> str:
    """A person's access token (the realm's test-only password-grant client), to set up data: a
    demo person by short name (``"secretariat"``), or anyone by e-mail login and password."""
    form = {
        "grant_type": "password",
        "client_id": "alliance-local-test",
        "username": login_name(username),
        "password": password or DEMO_PASSWORDS[username],
    }
    response = httpx.post(keycloak.token_endpoint, data=form, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def subject_of(token: str) -> str:
    """Who the token's person is to the platform: ``preferred_username``, their e-mail login (as the
    gateway and the services read it; Keycloak's ``sub`` is its own user id)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["preferred_username"])


def call(stack: Stack, bearer: str, method: str, path: str, body: Any = None) -> Any:
    """One API call through the gateway with ``bearer``; fails the test unless it succeeds."""
    headers = {"authorization": f"Bearer {bearer}"}
    response = httpx.request(method, stack.gateway_url + path, json=body, headers=headers, timeout=30)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def api_call(stack: Stack, keycloak: Keycloak, username: str, method: str, path: str, body: Any = None) -> Any:
    """``call`` as a demo person (short name) or anyone by e-mail login (demo password)."""
    return call(stack, person_token(keycloak, username), method, path, body)
