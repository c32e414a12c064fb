"""The platform (gateway and four services as processes) verifying Keycloak's tokens against its JWKS
(OIDC_ISSUER/OIDC_JWKS_URL set, which is not yet the default): a call through the gateway with a
person's token and with the agency's, and the gateway's own tokens refused in this mode."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from alliance_common.auth import INVALID_TOKEN
from alliance_local.infra import Infra, Keycloak
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, SERVICES, Stack

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def oidc_platform(infra: Infra, keycloak: Keycloak, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    oidc = {"OIDC_ISSUER": keycloak.issuer, "OIDC_JWKS_URL": keycloak.jwks_url}
    stack = Stack(
        tmp_path_factory.mktemp("oidc-platform"),
        infra=infra,
        env_overrides=dict.fromkeys((*SERVICES, "gateway"), oidc),
    )
    try:
        stack.start(start_infra=False)
        yield stack
    finally:
        stack.stop(stop_infra=False)


def keycloak_token(keycloak: Keycloak, form: dict[str, str]) -> dict[str, str]:
    response = httpx.post(keycloak.token_endpoint, data=form, timeout=30)
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


def person(keycloak: Keycloak, username: str) -> dict[str, str]:
    form = {
        "grant_type": "password",
        "client_id": "alliance-local-test",
        "username": f"{username}@alliance.example",
        "password": f"{username}-demo",
    }
    return keycloak_token(keycloak, form)


def call(stack: Stack, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
    return httpx.request(method, stack.gateway_url + path, headers=headers, timeout=30, **kwargs)


def test_people_call_through_the_gateway_with_keycloak_tokens(oidc_platform: Stack, keycloak: Keycloak) -> None:
    for username in ("secretariat", "member-admin"):
        response = call(oidc_platform, "GET", "/api/v1/membership/organisations", person(keycloak, username))
        assert response.status_code == 200, (username, response.text)
        assert "items" in response.json()


def test_the_agency_reads_with_its_scope_and_may_not_write(oidc_platform: Stack, keycloak: Keycloak) -> None:
    agency = keycloak_token(
        keycloak,
        {"grant_type": "client_credentials", "client_id": DEMO_AGENCY_CLIENT, "client_secret": DEMO_AGENCY_SECRET},
    )
    assert call(oidc_platform, "GET", "/api/v1/training/sessions", agency).status_code == 200
    # The service itself tells a machine from a person by the verified token: portal users only.
    assert call(oidc_platform, "GET", "/api/v1/membership/organisations", agency).status_code == 403
    # The gateway refuses a machine's write before proxying.
    refused = call(oidc_platform, "POST", "/api/v1/training/sessions", agency, json={})
    assert refused.status_code == 403
    assert "read-only" in refused.json()["detail"]


def test_other_tokens_are_refused_with_the_fixed_text(oidc_platform: Stack) -> None:
    # The gateway still issues its own tokens to its machine clients, but nothing verifies them in this mode.
    issued = httpx.post(
        oidc_platform.gateway_url + "/auth/token",
        data={"grant_type": "client_credentials", "client_id": DEMO_AGENCY_CLIENT, "client_secret": DEMO_AGENCY_SECRET},
        timeout=30,
    )
    assert issued.status_code == 200, issued.text
    headers = [{"authorization": f"Bearer {issued.json()['access_token']}"}, {"authorization": "Bearer not-a-token"}]
    for h in headers:
        response = call(oidc_platform, "GET", "/api/v1/training/sessions", h)
        assert response.status_code == 401
        assert response.json()["detail"] == INVALID_TOKEN
