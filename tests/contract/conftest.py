"""Contract tests: the gateway's published OpenAPI document against the real platform.

The platform is the session's ``platform`` (see ``alliance_local.pytest_plugin``). The fuzzer
writes whatever the document allows, so these tests run after every other test of the session
(and before the ``faults`` tests, which stop infrastructure), leaving the end-to-end tests a
platform that no fuzzer has touched.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, Stack
from membership.domain.credit_code import ALPHABET, with_check_characters

HERE = Path(__file__).parent

# Every role a token can carry: the six portal roles and an agency's machine client.
ROLES = ("secretariat", "council", "member_admin", "member_staff", "licensee", "expert", "agency")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def order(item: pytest.Item) -> tuple[bool, bool]:
        return item.get_closest_marker("faults") is not None, HERE in Path(str(item.path)).parents

    items.sort(key=order)


def credit_code() -> str:
    n = uuid.uuid4().int
    body = "".join(ALPHABET[(n // 31**i) % 31] for i in range(8))
    return with_check_characters(f"914403{n % 100:02d}{body}")


def dev_token(client: httpx.Client, subject: str, role: str, org_id: str | None = None) -> str:
    body: dict[str, object] = {"subject": subject, "roles": [role]}
    if org_id:
        body["org_id"] = org_id
    response = client.post("/auth/dev-login", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def admitted_member(client: httpx.Client) -> str:
    """A member organisation (applied, reviewed, admitted), for the member roles' tokens."""
    applicant = dev_token(client, f"applicant-{uuid.uuid4().hex[:6]}@contract.example", "member_admin", "pending")
    applied = client.post(
        "/api/v1/membership/applications",
        headers={"Authorization": f"Bearer {applicant}"},
        json={
            "name": "Contract Test Optoelectronics Co., Ltd.",
            "credit_code": credit_code(),
            "org_type": "enterprise",
            "segments": ["equipment"],
            "region": "CN-GD",
            "contact": {"name": "Lin Yue", "email": "lin.yue@contract.example"},
        },
    )
    assert applied.status_code == 201, applied.text
    org_id = str(applied.json()["id"])
    secretariat = dev_token(client, "secretariat@alliance.example", "secretariat")
    council = dev_token(client, "council@alliance.example", "council")
    reviewed = client.post(
        f"/api/v1/membership/organisations/{org_id}/review",
        json={"decision": "accept"},
        headers={"Authorization": f"Bearer {secretariat}"},
    )
    assert reviewed.status_code == 200, reviewed.text
    admitted = client.post(
        f"/api/v1/membership/organisations/{org_id}/decision",
        json={"decision": "admit"},
        headers={"Authorization": f"Bearer {council}"},
    )
    assert admitted.status_code == 200, admitted.text
    return org_id


@pytest.fixture(scope="session")
def contract_tokens(platform: Stack) -> dict[str, str]:
    """One bearer token per role (``ROLES``); the member roles belong to a freshly admitted member."""
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as client:
        org_id = admitted_member(client)
        tokens = {
            "secretariat": dev_token(client, "secretariat@alliance.example", "secretariat"),
            "council": dev_token(client, "council@alliance.example", "council"),
            "member_admin": dev_token(client, "admin@contract.example", "member_admin", org_id),
            "member_staff": dev_token(client, "staff@contract.example", "member_staff", org_id),
            "licensee": dev_token(client, "licensee@outside.example", "licensee"),
            "expert": dev_token(client, "expert@alliance.example", "expert"),
        }
        granted = client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEMO_AGENCY_CLIENT,
                "client_secret": DEMO_AGENCY_SECRET,
            },
        )
        assert granted.status_code == 200, granted.text
        tokens["agency"] = str(granted.json()["access_token"])
    assert set(tokens) == set(ROLES)
    return tokens
