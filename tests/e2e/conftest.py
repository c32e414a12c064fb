"""End-to-end fixtures: the platform's processes on real infrastructure, and a portal client."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx
import pytest

from alliance_local.stack import Stack
from membership.domain.credit_code import ALPHABET, with_check_characters

_codes = itertools.count(1)


def fresh_credit_code() -> str:
    """A valid, unused unified social credit code."""
    n = next(_codes) * 7919 + uuid.uuid4().int % 1_000_000
    body = "".join(ALPHABET[(n // 31**i) % 31] for i in range(8))
    return with_check_characters(f"914403{n % 100:02d}{body}")


class Portal:
    """What the member portal does: get tokens, call the gateway."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def token(self, subject: str, *roles: str, org_id: str | None = None) -> dict[str, str]:
        body: dict[str, Any] = {"subject": subject, "roles": list(roles)}
        if org_id:
            body["org_id"] = org_id
        response = await self.client.post("/auth/dev-login", json=body)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def secretariat(self) -> dict[str, str]:
        return await self.token("secretariat@alliance.example", "secretariat")

    async def council(self) -> dict[str, str]:
        return await self.token("council@alliance.example", "council")

    def application(self, name: str = "Changzhou MOCVD Equipment Co., Ltd.") -> dict[str, Any]:
        return {
            "name": name,
            "credit_code": fresh_credit_code(),
            "org_type": "enterprise",
            "segments": ["equipment"],
            "region": "CN-JS",
            "contact": {"name": "Zhou Jie", "email": "zhou.jie@example.com"},
        }

    async def apply(self, name: str = "Changzhou MOCVD Equipment Co., Ltd.") -> dict[str, Any]:
        applicant = await self.token(f"applicant-{uuid.uuid4().hex[:6]}@example.com", "member_admin", org_id="pending")
        response = await self.client.post(
            "/api/v1/membership/applications", json=self.application(name), headers=applicant
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def admit(self, name: str = "Changzhou MOCVD Equipment Co., Ltd.", **decision: Any) -> dict[str, Any]:
        org = await self.apply(name)
        reviewed = await self.client.post(
            f"/api/v1/membership/organisations/{org['id']}/review",
            json={"decision": "accept"},
            headers=await self.secretariat(),
        )
        assert reviewed.status_code == 200, reviewed.text
        admitted = await self.client.post(
            f"/api/v1/membership/organisations/{org['id']}/decision",
            json={"decision": "admit", **decision},
            headers=await self.council(),
        )
        assert admitted.status_code == 200, admitted.text
        return dict(admitted.json())

    async def member(self, org_id: str, role: str = "member_admin") -> dict[str, str]:
        return await self.token(f"{role}@{org_id[:8]}.example", role, org_id=org_id)

    async def licence(self, member_id: str, headers: dict[str, str] | None = None) -> dict[str, Any] | None:
        response = await self.client.get(
            f"/api/v1/licensing/licences/XL-{member_id}", headers=headers or await self.secretariat()
        )
        return response.json() if response.status_code == 200 else None


@pytest.fixture
async def portal(platform: Stack) -> Any:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=20) as client:
        yield Portal(client)
