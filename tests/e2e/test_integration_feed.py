"""The change feed through the gateway: agencies' client credentials, a cursor followed while events are
being archived (no gap, no repeat), the type filter, what each scope shows, and the refusals."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import AsyncMongoClient

from alliance_local.infra import Infra
from alliance_local.pytest_plugin import eventually
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, Stack

FEED = "/api/v1/integration/changes"
ADMITTED = "alliance.membership.member.admitted.v1"
DUES = "alliance.membership.dues.invoiced.v1"
APPLIED = "alliance.membership.application.submitted.v1"  # an applicant's record: not public


async def machine(portal: Any, scope: str) -> dict[str, str]:
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


async def drain(
    portal: Any, headers: dict[str, str], after: str | None, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Follow the feed from ``after`` until an empty page: every item, and the cursor to poll again."""
    items: list[dict[str, Any]] = []
    while True:
        query = {**params, **({"after": after} if after else {})}
        response = await portal.client.get(FEED, params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        if not page["items"]:
            assert page["cursor"] == after or after is None and page["cursor"]
            return items, page["cursor"]
        items += page["items"]
        after = page["cursor"]


async def test_following_the_feed_while_events_are_archived_skips_and_repeats_nothing(
    portal: Any, platform: Stack, infra: Infra
) -> None:
    staff = await portal.secretariat()
    statistics = await machine(portal, "events:read statistics:read")
    _, staff_start = await drain(portal, staff, None, limit=200)
    _, stats_start = await drain(portal, statistics, None, limit=200)
    names = [f"Feed Test Photonics {i} Co., Ltd." for i in range(6)]

    async def admit_all() -> list[str]:
        members = []
        for name in names:
            members.append((await portal.admit(name))["id"])
        return members

    seen: list[dict[str, Any]] = []
    admitting = asyncio.ensure_future(admit_all())
    after = staff_start
    while not admitting.done():  # read along, a few at a time, while the admissions are archived
        response = await portal.client.get(FEED, params={"after": after, "limit": 3}, headers=staff)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["items"]
        after = page["cursor"]
        await asyncio.sleep(0.2)
    members = await admitting

    async def every_admission_seen() -> bool:
        nonlocal after
        more, after = await drain(portal, staff, after, limit=3)
        seen.extend(more)
        admitted = {e["subject"] for e in seen if e["type"] == ADMITTED}
        return set(members) <= admitted

    await eventually(every_admission_seen, timeout=60, interval=0.5)
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)), "an event was given twice"
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(seqs)
    # No gap: exactly the archive's events between where we started and where we are.
    client: AsyncMongoClient[Any] = AsyncMongoClient(infra.store.url, tz_aware=True)
    try:
        stored = (
            await client["integration"]["events"]
            .find({"seq": {"$gt": seqs[0] - 1, "$lte": seqs[-1]}}, {"_id": 1})
            .to_list()
        )
    finally:
        await client.close()
    assert {d["_id"] for d in stored} == set(ids)
    mine = [e for e in seen if e["subject"] in members]
    assert {e["type"] for e in mine} >= {ADMITTED, APPLIED}

    # The type filter: only admissions, ours among them, in archive order.
    only, _ = await drain(portal, staff, staff_start, types=ADMITTED, limit=4)
    assert {e["type"] for e in only} == {ADMITTED}
    assert [e["id"] for e in only] == [e["id"] for e in seen if e["type"] == ADMITTED]

    # statistics:read shows the public membership record: the admissions, never the applications.
    public, _ = await drain(portal, statistics, stats_start, limit=50)
    assert set(members) <= {e["subject"] for e in public if e["type"] == ADMITTED}
    assert {e["type"] for e in public} <= {
        ADMITTED,
        "alliance.membership.member.renewed.v1",
        "alliance.membership.member.withdrawn.v1",
        "alliance.membership.member.expelled.v1",
    }
    applied = next(e for e in mine if e["type"] == APPLIED)
    admission = next(e for e in mine if e["type"] == ADMITTED)
    one = await portal.client.get(f"/api/v1/integration/events/{admission['id']}", headers=statistics)
    assert one.status_code == 200 and one.json() == admission
    hidden = await portal.client.get(f"/api/v1/integration/events/{applied['id']}", headers=statistics)
    assert hidden.status_code == 404
    assert (await portal.client.get(f"/api/v1/integration/events/{applied['id']}", headers=staff)).json() == applied
    # The auditors' listing: one member's events, by subject.
    listed = await portal.client.get(
        "/api/v1/integration/events", params={"subject": admission["subject"], "limit": 200}, headers=staff
    )
    assert listed.status_code == 200
    assert [e["id"] for e in listed.json()["items"]] == [e["id"] for e in seen if e["subject"] == admission["subject"]]


async def test_what_a_token_may_not_read_is_refused(portal: Any, platform: Stack) -> None:
    no_feed = await machine(portal, "licensing:read statistics:read")
    refused = await portal.client.get(FEED, headers=no_feed)
    assert refused.status_code == 403 and "events:read" in refused.json()["detail"]
    nothing_named = await machine(portal, "events:read")
    refused = await portal.client.get(FEED, headers=nothing_named)
    assert refused.status_code == 403 and "statistics:read" in refused.json()["detail"]
    licensing = await machine(portal, "events:read licensing:read")
    refused = await portal.client.get(FEED, params={"types": DUES}, headers=licensing)
    assert refused.status_code == 403 and DUES in refused.json()["detail"]
    page = await portal.client.get(FEED, params={"limit": 200}, headers=licensing)
    assert page.status_code == 200
    assert all(e["source"] == "/alliance/licensing" for e in page.json()["items"])
    member = await portal.token("someone@member.example", "member_admin", org_id="org-1")
    assert (await portal.client.get(FEED, headers=member)).status_code == 403
    assert (await portal.client.get(FEED)).status_code == 401
    # A machine writes nowhere here (the feed is read-only, webhooks:manage or not).
    every = await machine(portal, "events:read webhooks:manage statistics:read")
    assert (await portal.client.post(FEED, headers=every)).status_code in (403, 405)


async def test_a_bad_cursor_or_type_is_a_problem_naming_the_parameter(portal: Any, platform: Stack) -> None:
    staff = await portal.secretariat()
    for after in ("not-a-cursor", "c2VxOi0x", "MTIz"):  # garbage, "seq:-1", "123"
        response = await portal.client.get(FEED, params={"after": after}, headers=staff)
        assert response.status_code == 422, (after, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == ["after"]
    response = await portal.client.get(FEED, params={"types": "admitted"}, headers=staff)
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["types"]
