"""Issue 9's authorisation findings, end to end: through the gateway (and straight to a service
where the rule must hold without it), on the real processes and infrastructure."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, Stack

pytestmark = pytest.mark.infra

SERVICES = ("membership", "licensing", "standards", "training", "integration")


async def machine_token(portal: Any, scope: str) -> dict[str, str]:
    granted = await portal.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_AGENCY_CLIENT,
            "client_secret": DEMO_AGENCY_SECRET,
            "scope": scope,
        },
    )
    assert granted.status_code == 200, granted.text
    return {"Authorization": f"Bearer {granted.json()['access_token']}"}


def patent(number: str) -> dict[str, Any]:
    return {
        "office": "CN",
        "number": number,
        "family_id": f"F-{number}",
        "title": "Flip-chip LED electrode layout",
        "filing_date": "2014-03-01",
        "grant_date": "2017-05-10",
        "expiry_date": "2034-03-01",
        "segment": "chip",
    }


async def test_a_machine_token_reads_only_what_its_scope_names(portal: Any, platform: Stack) -> None:
    standards = await machine_token(portal, "standards:read")
    licensing = await machine_token(portal, "licensing:read")
    # The finding: a client-credentials token with any scope read these.
    for path in ("/api/v1/licensing/programmes", "/api/v1/standards/lifecycle"):
        assert (
            await portal.client.get(path, headers=licensing if "standards" in path else standards)
        ).status_code == 403
    assert (await portal.client.get("/api/v1/licensing/programmes", headers=licensing)).status_code == 200
    assert (await portal.client.get("/api/v1/standards/projects", headers=standards)).status_code == 200
    training = await portal.client.get("/api/v1/training/sessions", headers=standards)
    assert training.status_code == 403 and "training:read" in training.json()["detail"]
    every = await machine_token(portal, "licensing:read standards:read statistics:read training:read")
    assert (await portal.client.get("/api/v1/training/sessions", headers=every)).status_code == 200
    # Portal-user routes stay closed to machines, whatever their scopes.
    assert (await portal.client.get("/api/v1/membership/organisations", headers=every)).status_code == 403
    assert (await portal.client.get("/api/v1/licensing/statements", headers=every)).status_code == 403

    # Read-only in each service itself, not only in the gateway: straight to the services.
    async with httpx.AsyncClient(timeout=10) as direct:
        writes = {
            "membership": ("/api/v1/membership/applications", {}),
            "licensing": ("/api/v1/licensing/patents", patent("CN1B")),
            "standards": ("/api/v1/standards/projects", {"title": "Agency draft", "scope": "none"}),
            "training": ("/api/v1/training/sessions", {}),
        }
        for name, (path, body) in writes.items():
            refused = await direct.post(f"{platform.url(name)}{path}", json=body, headers=every)
            assert refused.status_code == 403, (name, refused.text)
        scoped = await direct.get(f"{platform.url('licensing')}/api/v1/licensing/programmes", headers=standards)
        assert scoped.status_code == 403


# The routes anyone may call without a token: a certificate check, and the open data.
ANONYMOUS = {
    "/api/v1/training/certificates/verify/{code}",
    "/api/v1/integration/opendata",
    "/api/v1/integration/opendata/{dataset}",
}


async def test_each_service_documents_each_operations_security(platform: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as direct:
        for name in SERVICES:
            doc = (await direct.get(f"{platform.url(name)}/openapi.json")).json()
            if name != "membership":  # membership has no machine-readable route yet: bearer only
                flow = doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
                assert flow["tokenUrl"] == "/auth/token"
            for path, item in doc["paths"].items():
                if not path.startswith("/api/"):
                    continue  # health and readiness: not published through the gateway
                for method, operation in item.items():
                    security = operation.get("security")
                    if path in ANONYMOUS:
                        assert security == [], path  # anyone, no token
                        continue
                    assert security and security[0] == {"bearer": []}, (name, method, path)
                    if method != "get":  # machines never write, but where the route states a write scope
                        assert security[1:] in ([], [{"oauth2": ["webhooks:manage"]}]), (name, method, path)
    async with httpx.AsyncClient(timeout=10) as direct:
        doc = (await direct.get(f"{platform.url('licensing')}/openapi.json")).json()
    programmes = doc["paths"]["/api/v1/licensing/programmes"]["get"]["security"]
    assert programmes == [{"bearer": []}, {"oauth2": ["licensing:read"]}]


async def test_the_owner_cannot_undo_the_secretariats_invalidation(portal: Any) -> None:
    member = await portal.admit("Invalidated Patents Co., Ltd.")
    owner = await portal.member(member["id"])
    created = await portal.client.post(
        "/api/v1/licensing/patents", headers=owner, json=patent(f"CN{uuid.uuid4().int % 10**9}B")
    )
    assert created.status_code == 201, created.text
    patent_id = created.json()["id"]
    staff = await portal.secretariat()
    invalidated = await portal.client.post(
        f"/api/v1/licensing/patents/{patent_id}/legal-status",
        headers=staff,
        json={"status": "invalidated", "ended_on": "2025-01-15"},
    )
    assert invalidated.status_code == 200, invalidated.text
    # The finding: the owner's member_staff set granted → 200.
    undo = await portal.client.post(
        f"/api/v1/licensing/patents/{patent_id}/legal-status",
        headers=await portal.member(member["id"], "member_staff"),
        json={"status": "granted"},
    )
    assert undo.status_code == 403
    asked = await portal.client.post(
        f"/api/v1/licensing/patents/{patent_id}/legal-status-review",
        headers=owner,
        json={"status": "granted", "evidence": "Appeal decision (2025) reverses the invalidation"},
    )
    assert asked.status_code == 200 and asked.json()["status"] == "invalidated", asked.text
    reviews = await portal.client.get("/api/v1/licensing/patent-reviews", headers=staff)
    assert patent_id in {p["id"] for p in reviews.json()["items"]}
    approved = await portal.client.post(
        f"/api/v1/licensing/patents/{patent_id}/legal-status-review/decision", headers=staff, json={"approve": True}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "granted", approved.text


async def test_claims_by_a_non_owner_go_to_review_and_never_lock_the_owner_out(portal: Any) -> None:
    real = await portal.admit("Real Owner Lighting Co., Ltd.")
    squatter = await portal.admit("Squatter Trading Co., Ltd.")
    number = f"CN{uuid.uuid4().int % 10**9}B"
    first = await portal.client.post(
        "/api/v1/licensing/patents", headers=await portal.member(squatter["id"]), json=patent(number)
    )
    assert first.status_code == 201 and first.json()["claim"] == "undisputed"
    # The finding: the real owner's registration answered 409.
    owner = await portal.client.post(
        "/api/v1/licensing/patents", headers=await portal.member(real["id"]), json=patent(number)
    )
    assert owner.status_code == 201 and owner.json()["claim"] == "disputed", owner.text
    staff = await portal.secretariat()
    reviews = await portal.client.get("/api/v1/licensing/patent-reviews", headers=staff)
    assert {first.json()["id"], owner.json()["id"]} <= {p["id"] for p in reviews.json()["items"]}
    settled = await portal.client.post(
        f"/api/v1/licensing/patents/{owner.json()['id']}/claim", headers=staff, json={"decision": "confirm"}
    )
    assert settled.status_code == 200 and settled.json()["claim"] == "confirmed"
    rejected = await portal.client.get(f"/api/v1/licensing/patents/{first.json()['id']}", headers=staff)
    assert rejected.json()["claim"] == "rejected"

    # Membership: an application with another company's credit code no longer blocks the company.
    application = portal.application("Genuine Chip Co., Ltd.")
    impostor = await portal.token(f"impostor-{uuid.uuid4().hex[:6]}@example.com", "member_admin", org_id="pending")
    company = await portal.token(f"ip-{uuid.uuid4().hex[:6]}@genuine.example", "member_admin", org_id="pending")
    filed = await portal.client.post("/api/v1/membership/applications", json=application, headers=impostor)
    assert filed.status_code == 201
    genuine = await portal.client.post("/api/v1/membership/applications", json=application, headers=company)
    assert genuine.status_code == 201 and genuine.json()["credit_code_conflict"] is True, genuine.text
    conflicts = await portal.client.get(
        "/api/v1/membership/organisations", params={"credit_code_conflict": "true"}, headers=staff
    )
    assert {filed.json()["id"], genuine.json()["id"]} <= {o["id"] for o in conflicts.json()["items"]}


async def test_the_council_decides_but_does_not_run_an_organisations_users(portal: Any) -> None:
    member = await portal.admit("Council Test Packaging Co., Ltd.")
    council = await portal.council()
    user = {
        "subject": "intruder@example.com",
        "name": "Intruder",
        "email": "intruder@example.com",
        "role": "member_admin",
    }
    added = await portal.client.post(
        f"/api/v1/membership/organisations/{member['id']}/users", json=user, headers=council
    )
    assert added.status_code == 403  # the finding: the council could manage any organisation's users
    users = await portal.client.get(f"/api/v1/membership/organisations/{member['id']}/users", headers=council)
    assert "intruder@example.com" not in {u["subject"] for u in users.json()}
