"""A standard's whole life through the gateway on real Kafka and the real store: proposal to
publication with declarations reaching licensing, a member losing standing during the ballot,
the agency reading the filing record, and bad inputs refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from alliance_local.pytest_plugin import eventually
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET

pytestmark = pytest.mark.infra

API = "/api/v1/standards"


async def call(
    portal: Any, method: str, path: str, headers: dict[str, str], body: Any = None, expect: int = 200
) -> Any:
    response = await portal.client.request(method, path, headers=headers, json=body)
    assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


async def step(portal: Any, project_id: str, action: str, headers: dict[str, str], **extra: Any) -> Any:
    body = {"action": action, "reason": f"{action}: decided in the meeting", **extra}
    return await call(portal, "POST", f"{API}/projects/{project_id}/transitions", headers, body)


async def until_ok(
    portal: Any,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any,
    retry_on: tuple[int, ...],
    timeout: float = 30,
) -> Any:
    """Retry while the answer is one of ``retry_on`` (standing or a period still travelling/running)."""

    async def attempt() -> Any:
        response = await portal.client.request(method, path, headers=headers, json=body)
        assert response.status_code in (200, 201, *retry_on), f"{path}: {response.status_code} {response.text}"
        return response.json() if response.status_code in (200, 201) else None

    return await eventually(attempt, timeout=timeout, interval=0.3)


async def agency_headers(portal: Any) -> dict[str, str]:
    granted = await portal.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_AGENCY_CLIENT,
            "client_secret": DEMO_AGENCY_SECRET,
            "scope": "standards:read",
        },
    )
    assert granted.status_code == 200, granted.text
    return {"Authorization": f"Bearer {granted.json()['access_token']}"}


async def register_patent(portal: Any, owner_id: str) -> dict[str, Any]:
    number = f"CN{uuid.uuid4().int % 10**9}B"
    return dict(
        await call(
            portal,
            "POST",
            "/api/v1/licensing/patents",
            await portal.member(owner_id),
            {
                "office": "CN",
                "number": number,
                "family_id": f"F-{number}",
                "title": "LED package lumen fixture",
                "filing_date": "2016-03-01",
                "grant_date": "2019-05-10",
                "expiry_date": "2036-03-01",
                "segment": "packaging",
            },
            expect=201,
        )
    )


async def test_a_standard_from_proposal_to_filing_with_declarations_and_a_voided_vote(portal: Any) -> None:
    names = ["Chair", "Editor", "Holder", "Voter One", "Voter Two", "Voter Three"]
    orgs = await asyncio.gather(*(portal.admit(f"Standards {n} LED Co., Ltd.") for n in names))
    chair, editor, holder, v1, v2, v3 = (o["id"] for o in orgs)
    staff, council = await portal.secretariat(), await portal.council()

    # Proposal (standing arrives by events: 403 until it has), council approval, working group.
    project = await until_ok(
        portal,
        "POST",
        f"{API}/projects",
        await portal.member(chair),
        {
            "title": "Lumen maintenance of white LED packages",
            "scope": "Test conditions and method for lumen maintenance of white LED packages.",
        },
        retry_on=(403,),
    )
    pid = project["id"]
    refused = await portal.client.post(
        f"{API}/projects/{pid}/transitions", headers=staff, json={"action": "approve_proposal"}
    )
    assert refused.status_code == 403  # council approval, not the secretariat's
    wrong_stage = await portal.client.post(
        f"{API}/projects/{pid}/transitions", headers=staff, json={"action": "publish"}
    )
    assert wrong_stage.status_code == 409 and "stage 'proposed'" in wrong_stage.json()["detail"]
    await step(portal, pid, "approve_proposal", council)
    members = [
        {"org_id": chair, "role": "chair", "person": "Dr. Chen Li"},
        {"org_id": editor, "role": "editor"},
        {"org_id": holder, "role": "participant"},
    ]
    await until_ok(portal, "PUT", f"{API}/projects/{pid}/working-group", staff, {"members": members}, retry_on=(422,))
    await step(portal, pid, "form_working_group", staff)
    await step(portal, pid, "start_drafting", await portal.member(chair))
    draft = await call(
        portal,
        "POST",
        f"{API}/projects/{pid}/drafts",
        await portal.member(editor),
        {"uri": "https://docs.example/wd1.pdf", "notes": "first working draft"},
        expect=201,
    )
    assert draft["version"] == 1
    await step(portal, pid, "submit_committee_draft", await portal.member(chair))

    # Declarations: the holder's patent, registered in licensing by its holder, declared on draft 1.
    patent = await register_patent(portal, holder)
    holder_headers = await portal.member(holder)
    no_such_version = await portal.client.post(
        f"{API}/projects/{pid}/declarations",
        headers=holder_headers,
        json={
            "draft_version": 7,
            "office": "CN",
            "number": patent["number"],
            "title": "LED fixture",
            "commitment": "frand",
        },
    )
    assert no_such_version.status_code == 422
    assert no_such_version.json()["errors"][0]["field"] == "draft_version"
    declaration = await call(
        portal,
        "POST",
        f"{API}/projects/{pid}/declarations",
        holder_headers,
        {
            "draft_version": 1,
            "office": "CN",
            "number": patent["number"],
            "title": patent["title"],
            "family_id": patent["family_id"],
            "commitment": "frand",
        },
        expect=201,
    )
    assert [
        d["id"] for d in (await call(portal, "GET", f"{API}/projects/{pid}/declarations", holder_headers))["items"]
    ] == [declaration["id"]]
    assert (await call(portal, "GET", f"{API}/projects/{pid}/declarations", await portal.member(editor)))["items"] == []

    # Public comment: a comment, its disposition; after the period, a comment is refused.
    closes = datetime.now(UTC) + timedelta(seconds=4)
    await step(portal, pid, "open_public_comment", staff, comment_closes_at=closes.isoformat())
    comment = await call(
        portal,
        "POST",
        f"{API}/projects/{pid}/comments",
        await portal.member(v1),
        {"clause": "6.2", "text": "6,000 h is too short to extrapolate."},
        expect=201,
    )
    await call(
        portal,
        "POST",
        f"{API}/projects/{pid}/comments/{comment['id']}/disposition",
        await portal.member(chair),
        {"disposition": "rejected", "reason": "Extrapolation is out of scope."},
    )
    ballot_body = {
        "action": "open_ballot",
        "ballot_quorum": 2,
        "ballot_closes_at": (datetime.now(UTC) + timedelta(seconds=25)).isoformat(),
    }
    await until_ok(portal, "POST", f"{API}/projects/{pid}/transitions", staff, ballot_body, retry_on=(409,))
    late = await portal.client.post(
        f"{API}/projects/{pid}/comments", headers=await portal.member(v2), json={"clause": "7", "text": "Too late?"}
    )
    assert late.status_code == 409 and late.json()["errors"][0]["field"] == "comment_period"

    # Ballot: a drafter may not vote; v1 votes and then loses its standing: its vote is voided.
    drafter = await portal.client.post(
        f"{API}/projects/{pid}/ballot/votes", headers=await portal.member(editor), json={"position": "approve"}
    )
    assert drafter.status_code == 403
    await call(
        portal,
        "POST",
        f"{API}/projects/{pid}/ballot/votes",
        await portal.member(v1),
        {"position": "approve"},
        expect=201,
    )
    twice = await portal.client.post(
        f"{API}/projects/{pid}/ballot/votes", headers=await portal.member(v1), json={"position": "abstain"}
    )
    assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "organisation_id"
    no_reason = await portal.client.post(
        f"{API}/projects/{pid}/ballot/votes", headers=await portal.member(v2), json={"position": "disapprove"}
    )
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    suspended = await portal.client.post(
        f"/api/v1/membership/organisations/{v1}/suspension",
        headers=staff,
        json={"reason": "dues unpaid after the grace period"},
    )
    assert suspended.status_code == 200, suspended.text

    async def voided() -> Any:
        ballot = await call(portal, "GET", f"{API}/projects/{pid}/ballot", await portal.member(v1))
        return ballot if ballot["tally"]["voided"] == 1 else None

    ballot = await eventually(voided, timeout=20)
    assert ballot["own_vote"]["void_reason"] and ballot["tally"]["approve"] == 0
    for voter in (v2, v3):
        await call(
            portal,
            "POST",
            f"{API}/projects/{pid}/ballot/votes",
            await portal.member(voter),
            {"position": "approve"},
            expect=201,
        )
    seen_by_v2 = await call(portal, "GET", f"{API}/projects/{pid}/ballot", await portal.member(v2))
    assert seen_by_v2["tally"]["can_pass"] is True and seen_by_v2["own_vote"]["position"] == "approve"
    others = await call(portal, "GET", f"{API}/projects/{pid}/ballot/votes", await portal.member(v2))
    assert [v["organisation_id"] for v in others["items"]] == [v2]  # others' votes hidden while open
    assert len((await call(portal, "GET", f"{API}/projects/{pid}/ballot/votes", staff))["items"]) == 3

    await until_ok(
        portal,
        "POST",
        f"{API}/projects/{pid}/transitions",
        staff,
        {"action": "close_ballot_approved"},
        retry_on=(409,),
        timeout=40,
    )

    # Publication needs every IPR call answered once past its deadline.
    calls = await call(portal, "GET", f"{API}/projects/{pid}/ipr-calls", staff)
    assert [c["reason"] for c in calls["items"]] == ["committee_draft", "pre_ballot"]
    for org in (chair, editor):
        for c in calls["items"]:
            await call(
                portal,
                "POST",
                f"{API}/projects/{pid}/ipr-calls/{c['id']}/answer",
                await portal.member(org),
                {"no_patents_known": True},
            )
    # The holder's declaration answered the first call; the pre-ballot call asks again.
    assert holder not in calls["items"][0]["unanswered"] and holder in calls["items"][1]["unanswered"]
    await call(
        portal,
        "POST",
        f"{API}/projects/{pid}/ipr-calls/{calls['items'][1]['id']}/answer",
        holder_headers,
        {"no_patents_known": False},
    )
    published = await until_ok(
        portal, "POST", f"{API}/projects/{pid}/transitions", staff, {"action": "publish"}, retry_on=(409,)
    )
    number = published["standard_number"]
    assert published["status"] == "published" and number.startswith("T/LEDA ")

    # Licensing reacts: programme PRG-<project id> with the declared patent submitted.
    async def submitted() -> Any:
        response = await portal.client.get(
            "/api/v1/licensing/submissions", headers=staff, params={"programme_id": f"PRG-{pid}"}
        )
        items = response.json().get("items", []) if response.status_code == 200 else []
        return [s for s in items if s["patent_id"] == patent["id"]]

    assert await eventually(submitted, timeout=30)
    programme = await call(portal, "GET", f"/api/v1/licensing/programmes/PRG-{pid}", staff)
    assert programme["standard_ref"] == number

    # Filing, read by the agency with machine credentials (read-only).
    await step(portal, pid, "file", staff, registry_reference=f"REG-440300-{uuid.uuid4().hex[:6]}")
    agency = await agency_headers(portal)
    filing = await call(portal, "GET", f"{API}/filings/{quote(number)}", agency)
    assert filing["project_id"] == pid and filing["status"] == "filed" and filing["patents_declared"] == 1
    assert filing["patent_information"][0]["number"] == patent["number"]
    assert {d["org_id"] for d in filing["drafting_organisations"]} == {chair, editor}
    assert (await call(portal, "GET", f"{API}/filings/{pid}", agency))["number"] == number
    assert any(f["project_id"] == pid for f in await all_filings(portal, agency))
    hidden = await portal.client.get(f"{API}/projects/{pid}/ballot/votes", headers=agency)
    assert hidden.status_code == 403
    write = await portal.client.post(f"{API}/projects/{pid}/transitions", headers=agency, json={"action": "file"})
    assert write.status_code in (401, 403)


async def all_filings(portal: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(50):
        page = (
            await call(portal, "GET", f"{API}/filings", headers)
            if cursor is None
            else await call(portal, "GET", f"{API}/filings?cursor={cursor}", headers)
        )
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return items


async def test_the_transition_table_is_published(portal: Any) -> None:
    table = await call(portal, "GET", f"{API}/lifecycle", await portal.secretariat())
    moves = {(r["from_stage"], r["action"]): r["to_stage"] for r in table}
    assert moves[("ballot", "close_ballot_approved")] == "approved"
    assert moves[("under_review", "withdraw")] == "withdrawn"
