"""Who may see what, and bad input: through the gateway, on the real services."""

from __future__ import annotations

from typing import Any

import pytest

from alliance_local.pytest_plugin import eventually
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET

pytestmark = pytest.mark.infra


async def test_a_member_is_denied_another_members_records(portal: Any) -> None:
    mine = await portal.admit("Shenzhen Radiant Packaging Co., Ltd.")
    theirs = await portal.admit("Fujian Sapphire Substrate Co., Ltd.")
    me = await portal.member(mine["id"])
    assert await eventually(lambda: portal.licence(mine["id"], me))  # granted by event, soon after admission
    await eventually(lambda: portal.licence(theirs["id"]))

    other_org = await portal.client.get(f"/api/v1/membership/organisations/{theirs['id']}", headers=me)
    assert other_org.status_code == 404  # not even its existence is disclosed
    other_licence = await portal.client.get(f"/api/v1/licensing/licences/XL-{theirs['id']}", headers=me)
    assert other_licence.status_code == 404

    listed = await portal.client.get("/api/v1/membership/organisations", headers=me)
    assert [o["id"] for o in listed.json()["items"]] == [mine["id"]]
    licences = await portal.client.get(f"/api/v1/licensing/licences?licensee_id={theirs['id']}", headers=me)
    assert {x["licensee_id"] for x in licences.json()["items"]} <= {mine["id"]}

    # A member cannot take staff decisions, on its own record or another's.
    for org_id in (mine["id"], theirs["id"]):
        suspend = await portal.client.post(
            f"/api/v1/membership/organisations/{org_id}/suspension", json={"reason": "trying my luck"}, headers=me
        )
        assert suspend.status_code == 403
    assert (
        await portal.client.get(f"/api/v1/membership/organisations/{theirs['id']}", headers=await portal.secretariat())
    ).json()["in_good_standing"] is True


async def test_requests_without_a_valid_token_are_refused(portal: Any) -> None:
    missing = await portal.client.get("/api/v1/membership/organisations")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.headers["content-type"] == "application/problem+json"
    forged = await portal.client.get(
        "/api/v1/membership/organisations", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"}
    )
    assert forged.status_code == 401


async def test_invalid_credit_code_is_a_422_naming_the_field_and_writes_nothing(portal: Any) -> None:
    application = portal.application("Invalid Code Optoelectronics Co., Ltd.")
    code = application["credit_code"]
    application["credit_code"] = code[:-1] + ("0" if code[-1] != "0" else "1")  # break the check character
    applicant = await portal.token("bad-input@example.com", "member_admin", org_id="pending")
    response = await portal.client.post("/api/v1/membership/applications", json=application, headers=applicant)
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "credit_code" and "check character" in problem["errors"][0]["reason"]

    unknown = await portal.client.post(
        "/api/v1/membership/applications", headers=applicant, json={**portal.application(), "discount": "100%"}
    )
    assert unknown.status_code == 422
    assert {"field": "discount", "reason": "unknown field"} in unknown.json()["errors"]

    wrong_type = await portal.client.post(
        "/api/v1/membership/applications", headers=applicant, json={**portal.application(), "segments": ["lasers"]}
    )
    assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["field"] == "segments.0"

    staff = await portal.secretariat()
    names = set()
    cursor = None
    while True:  # walk every page: nothing with these names was stored
        page = await portal.client.get(
            "/api/v1/membership/organisations",
            headers=staff,
            params={"limit": 200, **({"cursor": cursor} if cursor else {})},
        )
        body = page.json()
        names.update(o["name"] for o in body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    assert "Invalid Code Optoelectronics Co., Ltd." not in names


async def test_training_rejects_bad_sessions_with_the_field_named(portal: Any) -> None:
    response = await portal.client.post(
        "/api/v1/training/sessions",
        headers=await portal.secretariat(),
        json={
            "title": "Negative capacity",
            "audience": "engineers",
            "format": "course",
            "starts_at": "2030-01-01T00:00:00Z",
            "ends_at": "2029-12-31T00:00:00Z",
            "venue": "Wuhan",
            "capacity": 0,
            "member_price": "1.005",
            "non_member_price": "10",
        },
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"capacity", "member_price"} <= fields
    backwards = await portal.client.post(
        "/api/v1/training/sessions",
        headers=await portal.secretariat(),
        json={
            "title": "Ends before it starts",
            "audience": "engineers",
            "format": "course",
            "starts_at": "2030-01-02T00:00:00Z",
            "ends_at": "2030-01-01T00:00:00Z",
            "venue": "Wuhan",
            "capacity": 10,
            "member_price": "5.00",
            "non_member_price": "10.00",
        },
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "ends_at"


async def test_gateway_limits_body_size_and_unknown_services(portal: Any) -> None:
    applicant = await portal.token("big@example.com", "member_admin", org_id="pending")
    huge = {**portal.application(), "name": "x" * 2_000_000}
    response = await portal.client.post("/api/v1/membership/applications", json=huge, headers=applicant)
    assert response.status_code == 413
    unknown = await portal.client.get("/api/v1/payroll/anything", headers=applicant)
    assert unknown.status_code == 404
    assert response.headers.get("content-type") == "application/problem+json"


async def test_agency_machine_credentials_are_read_only(portal: Any) -> None:
    wrong = await portal.client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": DEMO_AGENCY_CLIENT, "client_secret": "guess"},
    )
    assert wrong.status_code == 401
    granted = await portal.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_AGENCY_CLIENT,
            "client_secret": DEMO_AGENCY_SECRET,
            "scope": "standards:read",
        },
    )
    assert granted.status_code == 200 and granted.json()["scope"] == "standards:read"
    headers = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    assert (await portal.client.get("/api/v1/standards/projects", headers=headers)).status_code == 200
    write = await portal.client.post(
        "/api/v1/standards/projects",
        headers=headers,
        json={"title": "Agency draft", "scope": "Agencies do not draft standards."},
    )
    assert write.status_code == 403
    too_much = await portal.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_AGENCY_CLIENT,
            "client_secret": DEMO_AGENCY_SECRET,
            "scope": "membership:write",
        },
    )
    assert too_much.status_code == 403


async def test_every_process_reports_health_and_readiness(platform: Any, portal: Any) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=5) as client:
        for name in ("membership", "licensing", "standards", "training", "gateway"):
            assert (await client.get(f"{platform.url(name)}/healthz")).json() == {"status": "ok"}
            ready = await client.get(f"{platform.url(name)}/readyz")
            assert ready.status_code == 200, (name, ready.text)
        detail = (await client.get(f"{platform.url('licensing')}/readyz")).json()
        assert detail["checks"]["store"]["status"] == "ok" and detail["checks"]["kafka"]["status"] == "ok"
        consumer = detail["checks"]["kafka"]["detail"]["consumers"]["licensing.main"]
        assert consumer["connected"] is True and consumer["processed"] >= 1 and consumer["lag"] == 0
    docs = await portal.client.get("/openapi.json")
    assert {
        "/api/v1/membership/applications",
        "/api/v1/licensing/licences",
        "/api/v1/standards/projects",
        "/api/v1/training/sessions",
    } <= set(docs.json()["paths"])
    catalogue = await portal.client.get("/events/asyncapi.json")
    assert "alliance.membership.member.admitted.v1" in catalogue.text
