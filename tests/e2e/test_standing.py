"""Standing over time: the status rules, the daily job, renewal, and licensing following them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from alliance_local.pytest_plugin import eventually

pytestmark = pytest.mark.infra


async def test_a_lapsed_member_loses_its_cross_licence_and_regains_it_on_renewal(portal: Any) -> None:
    today = date.today()
    # An existing member brought onto the platform, whose twelve months began 400 days ago.
    member = await portal.admit("Lapsed Lighting Co., Ltd.", start_date=(today - timedelta(days=400)).isoformat())
    assert member["standing"] == "expired" and member["in_good_standing"] is False
    staff = await portal.secretariat()

    async def licence_is(status: str) -> dict[str, Any] | None:
        licence = await portal.licence(member["id"])
        return licence if licence and licence["status"] == status else None

    await eventually(lambda: licence_is("suspended"))

    # The daily job, caught up for a day inside the member's first months: back in standing.
    back_then = (today - timedelta(days=380)).isoformat()
    job = await portal.client.post("/api/v1/membership/standing/recalculation", json={"on": back_then}, headers=staff)
    assert job.status_code == 200 and job.json()["changed"] >= 1
    await eventually(lambda: licence_is("active"))

    # Today's run: the period has lapsed, the status becomes expired and licensing suspends.
    job = await portal.client.post("/api/v1/membership/standing/recalculation", json={}, headers=staff)
    assert job.status_code == 200 and job.json()["changed"] >= 1
    suspended = await eventually(lambda: licence_is("suspended"))
    assert suspended["history"][-1]["reason"] == "member status expired"
    again = await portal.client.post("/api/v1/membership/standing/recalculation", json={}, headers=staff)
    assert again.json()["changed"] == 0  # idempotent

    renewed = await portal.client.post(
        f"/api/v1/membership/organisations/{member['id']}/renewal", json={}, headers=staff
    )
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["in_good_standing"] is True and body["membership"]["start_date"] == today.isoformat()
    restored = await eventually(lambda: licence_is("active"))
    assert [h["action"] for h in restored["history"]] == ["granted", "suspended", "restored", "suspended", "restored"]


async def test_the_job_refuses_a_future_date_and_members_cannot_run_it(portal: Any) -> None:
    staff = await portal.secretariat()
    future = await portal.client.post(
        "/api/v1/membership/standing/recalculation",
        json={"on": (date.today() + timedelta(days=1)).isoformat()},
        headers=staff,
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "on"
    member = await portal.admit("Curious Member Co., Ltd.")
    refused = await portal.client.post(
        "/api/v1/membership/standing/recalculation", json={}, headers=await portal.member(member["id"])
    )
    assert refused.status_code == 403


async def test_an_expelled_member_loses_standing_everywhere(portal: Any) -> None:
    member = await portal.admit("Expelled Optics Co., Ltd.")
    await eventually(lambda: portal.licence(member["id"]))
    expelled = await portal.client.post(
        f"/api/v1/membership/organisations/{member['id']}/expulsion",
        json={"reason": "breach of the IPR policy"},
        headers=await portal.council(),
    )
    assert expelled.status_code == 200 and expelled.json()["standing"] == "expelled"

    async def suspended() -> bool:
        licence = await portal.licence(member["id"])
        return bool(licence and licence["status"] == "suspended")

    await eventually(suspended)
    proposal = {"title": "A proposal from an expelled member", "scope": "This must be refused by standards."}
    headers = await portal.member(member["id"])

    async def refused() -> bool:
        response = await portal.client.post("/api/v1/standards/projects", json=proposal, headers=headers)
        return response.status_code == 403

    await eventually(refused)
    reinstate = await portal.client.post(
        f"/api/v1/membership/organisations/{member['id']}/reinstatement", json={}, headers=await portal.secretariat()
    )
    assert reinstate.status_code == 409  # expulsion is final
