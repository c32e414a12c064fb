"""Filing records agencies actually file (issue 10, item 7), through the gateway on real Kafka and the store.

A standard is published with the national group-standard platform's particulars (English title,
ICS and CCS codes, drafting persons) and an agency's machine client reads its filing record, the
patent holder named from membership's events; a licence the pool signs yields a licence-contract
filing record that a client with ``licence-filings:read`` reads, the licensee sees its own, the
secretariat records the filing, and a contract past its three-month deadline is listed as overdue.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from alliance_local.pytest_plugin import eventually
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET

pytestmark = pytest.mark.infra

STD = "/api/v1/standards"
LIC = "/api/v1/licensing"


async def call(
    portal: Any, method: str, path: str, headers: dict[str, str], body: Any = None, expect: int = 200
) -> Any:
    response = await portal.client.request(method, path, headers=headers, json=body)
    assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


async def until_ok(
    portal: Any, method: str, path: str, headers: dict[str, str], body: Any, retry_on: tuple[int, ...]
) -> Any:
    """Retry while the answer is one of ``retry_on`` (standing still travelling, a period still running)."""

    async def attempt() -> Any:
        response = await portal.client.request(method, path, headers=headers, json=body)
        assert response.status_code in (200, 201, *retry_on), f"{path}: {response.status_code} {response.text}"
        return response.json() if response.status_code in (200, 201) else None

    return await eventually(attempt, timeout=60, interval=0.5)


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


def refused_fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    return {e["field"] for e in response.json()["errors"]}


async def registered_patent(portal: Any, owner_id: str, **changes: Any) -> dict[str, Any]:
    number = f"CN{uuid.uuid4().int % 10**9}B"
    body = {
        "office": "CN",
        "number": number,
        "family_id": f"F-{number}",
        "title": "Flip-chip LED electrode layout",
        "filing_date": "2016-03-01",
        "grant_date": "2019-05-10",
        "expiry_date": "2036-03-01",
        "segment": "chip",
        **changes,
    }
    return dict(await call(portal, "POST", f"{LIC}/patents", await portal.member(owner_id), body, expect=201))


# --- standards ----------------------------------------------------------------------------------------


async def test_a_standard_published_with_the_platforms_particulars_is_read_by_an_agency(portal: Any) -> None:
    names = ["Filing Chair", "Filing Editor", "Filing Holder", "Filing Voter"]
    orgs = await asyncio.gather(*(portal.admit(f"{n} Optoelectronics Co., Ltd.") for n in names))
    chair, editor, holder, voter = (o["id"] for o in orgs)
    staff, council = await portal.secretariat(), await portal.council()

    proposal = {
        "title": "白光 LED 封装光通维持率测试方法",
        "scope": "Test conditions and method for lumen maintenance of white LED packages.",
        "title_en": "Test method for lumen maintenance of white LED packages",
        "ics_codes": ["31.260"],
        "ccs_code": "L51",
    }
    bad = await portal.client.post(
        f"{STD}/projects",
        headers=await portal.member(chair),
        json={**proposal, "ics_codes": ["31.260", "31.26"], "ccs_code": "I51"},
    )
    assert refused_fields(bad) == {"ics_codes.1", "ccs_code"}
    assert "is not an ICS code" in bad.text and "is not a CCS code" in bad.text
    project = await until_ok(portal, "POST", f"{STD}/projects", await portal.member(chair), proposal, (403,))
    pid = project["id"]
    assert (project["title_en"], project["ics_codes"], project["ccs_code"]) == (
        proposal["title_en"],
        ["31.260"],
        "L51",
    )

    async def step(action: str, headers: dict[str, str], **extra: Any) -> Any:
        body = {"action": action, "reason": f"{action}: decided", **extra}
        return await until_ok(portal, "POST", f"{STD}/projects/{pid}/transitions", headers, body, (409,))

    await step("approve_proposal", council)
    members = [
        {"org_id": chair, "role": "chair", "person": "陈立"},
        {"org_id": editor, "role": "editor", "person": "Wang Fang"},
        {"org_id": holder, "role": "participant"},
    ]
    await until_ok(portal, "PUT", f"{STD}/projects/{pid}/working-group", staff, {"members": members}, (422,))
    await step("form_working_group", staff)
    await step("start_drafting", await portal.member(chair))
    draft = {"uri": "https://docs.example/wd1.pdf", "notes": "first working draft"}
    await call(portal, "POST", f"{STD}/projects/{pid}/drafts", await portal.member(editor), draft, expect=201)
    await step("submit_committee_draft", await portal.member(chair))
    patent = await registered_patent(portal, holder)
    declaration = {
        "draft_version": 1,
        "office": "CN",
        "number": patent["number"],
        "title": patent["title"],
        "commitment": "frand",
    }
    await call(portal, "POST", f"{STD}/projects/{pid}/declarations", await portal.member(holder), declaration, 201)
    await step("open_public_comment", staff, comment_closes_at=(datetime.now(UTC) + timedelta(seconds=3)).isoformat())
    closes = (datetime.now(UTC) + timedelta(seconds=12)).isoformat()
    await step("open_ballot", staff, ballot_quorum=1, ballot_closes_at=closes)
    vote = {"position": "approve"}
    await until_ok(portal, "POST", f"{STD}/projects/{pid}/ballot/votes", await portal.member(voter), vote, (403,))
    await step("close_ballot_approved", staff)
    calls = await call(portal, "GET", f"{STD}/projects/{pid}/ipr-calls", staff)
    for c in calls["items"]:
        for org in c["unanswered"]:
            answer = {"no_patents_known": org != holder}
            await call(
                portal, "POST", f"{STD}/projects/{pid}/ipr-calls/{c['id']}/answer", await portal.member(org), answer
            )

    # Publication: a drafting person of an organisation outside the working group is refused (and
    # takes no number); the particulars given now complete the ones given at proposal.
    stranger = await portal.client.post(
        f"{STD}/projects/{pid}/transitions",
        headers=staff,
        json={"action": "publish", "drafters": [{"name": "Li Lei", "org_id": voter}]},
    )
    assert refused_fields(stranger) == {"drafters.0.org_id"}
    published = await step(
        "publish",
        staff,
        ics_codes=["31.260", "29.140.99"],
        drafters=[{"name": "陈立", "org_id": chair}, {"name": "Zhou Min", "org_id": holder}],
    )
    number = published["standard_number"]

    agency = await machine(portal, "standards:read")
    record = await call(portal, "GET", f"{STD}/filings/{quote(number)}", agency)
    assert record["title_en"] == proposal["title_en"]
    assert (record["ics_codes"], record["ccs_code"], record["missing"]) == (["31.260", "29.140.99"], "L51", [])
    assert record["drafting_persons"] == [
        {"name": "陈立", "org_id": chair, "organisation": "Filing Chair Optoelectronics Co., Ltd."},
        {"name": "Zhou Min", "org_id": holder, "organisation": "Filing Holder Optoelectronics Co., Ltd."},
    ]
    assert [(p["holder_id"], p["holder_name"], p["number"]) for p in record["patent_information"]] == [
        (holder, "Filing Holder Optoelectronics Co., Ltd.", patent["number"])
    ]
    listed = await call(portal, "GET", f"{STD}/filings", agency, None)
    assert listed["items"] and all("missing" in item for item in listed["items"])


# --- licence-contract filings -------------------------------------------------------------------------


async def essential_patent(portal: Any, programme_id: str, owner_id: str) -> dict[str, Any]:
    patent = await registered_patent(portal, owner_id)
    owner = await portal.member(owner_id)
    submission = await call(
        portal, "POST", f"{LIC}/programmes/{programme_id}/submissions", owner, {"patent_id": patent["id"]}, 201
    )
    expert_id = f"expert-{uuid.uuid4().hex[:6]}@independent.example"
    await call(
        portal,
        "POST",
        f"{LIC}/submissions/{submission['id']}/assignment",
        await portal.secretariat(),
        {"evaluator_id": expert_id},
    )
    done = await call(
        portal,
        "POST",
        f"{LIC}/submissions/{submission['id']}/evaluation",
        await portal.token(expert_id, "expert"),
        {"result": "essential", "reason": "Claim 1 maps onto clause 6.1."},
    )
    assert done["status"] == "essential"
    return patent


async def test_a_signed_licence_is_filed_read_by_its_scope_and_flagged_when_overdue(portal: Any) -> None:
    staff = await portal.secretariat()
    holder = (await portal.admit("Filing Licensor Semiconductor Co., Ltd."))["id"]
    await eventually(lambda: portal.licence(holder), timeout=30)  # licensing has its admission (and name)
    programme = await call(
        portal,
        "POST",
        f"{LIC}/programmes",
        staff,
        {"name": "Filing test pool", "standard_ref": f"T/LEDA {uuid.uuid4().hex[:4]}—2026"},
        expect=201,
    )
    patent = await essential_patent(portal, programme["id"], holder)

    today = datetime.now(UTC).date()
    late, fresh = f"lic-{uuid.uuid4().hex[:8]}", f"lic-{uuid.uuid4().hex[:8]}"
    signed = {}
    for licensee, start in ((late, today - timedelta(days=120)), (fresh, today)):
        body = {
            "licensee_id": licensee,
            "licensee_name": f"{licensee} Lighting Ltd.",
            "start_date": start.isoformat(),
            "territory": ["CN", "VN"],
            "royalty_kind": "running_royalty_per_unit",
        }
        signed[licensee] = await call(portal, "POST", f"{LIC}/programmes/{programme['id']}/licences", staff, body, 201)

    # The agency's own scope reads the record; another scope does not.
    assert (
        await portal.client.get(f"{LIC}/licence-filings", headers=await machine(portal, "licensing:read"))
    ).status_code == 403
    agency = await machine(portal, "licence-filings:read")
    record = await call(portal, "GET", f"{LIC}/licence-filings/{signed[late]['id']}", agency)
    assert record["licensors"] == [{"org_id": holder, "name": "Filing Licensor Semiconductor Co., Ltd.", "patents": 1}]
    assert record["licensee"] == {"org_id": late, "name": f"{late} Lighting Ltd."}
    assert [(p["office"], p["number"], p["holder_id"]) for p in record["patents"]] == [("CN", patent["number"], holder)]
    assert (record["territory"], record["royalty_kind"], record["licence_type"]) == (
        ["CN", "VN"],
        "running_royalty_per_unit",
        "non_exclusive",
    )
    start = today - timedelta(days=120)
    assert record["term"] == {"starts_on": start.isoformat(), "ends_on": "2036-03-01"}
    assert record["status"] == "overdue" and record["days_left"] < 0
    assert date.fromisoformat(record["filing_deadline"]) < today

    async def overdue_ids() -> set[str]:
        ids: set[str] = set()
        cursor = None
        while True:
            params = {"status": "overdue", "limit": 200, **({"cursor": cursor} if cursor else {})}
            page = (await portal.client.get(f"{LIC}/licence-filings", headers=staff, params=params)).json()
            ids |= {x["licence_id"] for x in page["items"]}
            cursor = page.get("next_cursor")
            if not cursor:
                return ids

    overdue = await overdue_ids()
    assert signed[late]["id"] in overdue and signed[fresh]["id"] not in overdue
    fresh_record = await call(portal, "GET", f"{LIC}/licence-filings/{signed[fresh]['id']}", staff)
    assert fresh_record["status"] == "pending" and fresh_record["days_left"] > 80

    # The licensee sees its own record only; a machine cannot record a filing.
    mine = await portal.token(f"finance@{late}.example", "licensee", org_id=late)
    own = await call(portal, "GET", f"{LIC}/licence-filings", mine)
    assert [x["licence_id"] for x in own["items"]] == [signed[late]["id"]]
    assert (await portal.client.get(f"{LIC}/licence-filings/{signed[fresh]['id']}", headers=mine)).status_code == 404
    by_machine = await portal.client.post(
        f"{LIC}/licence-filings/{signed[late]['id']}/filing",
        headers=agency,
        json={"filing_number": "2026990000123", "filed_on": today.isoformat()},
    )
    assert by_machine.status_code == 403

    # The secretariat records the filing: a date in the future is refused naming the field; then filed (late).
    path = f"{LIC}/licence-filings/{signed[late]['id']}/filing"
    future = await portal.client.post(
        path,
        headers=staff,
        json={"filing_number": "2026990000123", "filed_on": (today + timedelta(days=2)).isoformat()},
    )
    assert refused_fields(future) == {"filed_on"}
    filed = await call(portal, "POST", path, staff, {"filing_number": "2026990000123", "filed_on": today.isoformat()})
    assert (filed["status"], filed["filing_number"], filed["filed_late"]) == ("filed", "2026990000123", True)
    again = await portal.client.post(
        path, headers=staff, json={"filing_number": "2026990000999", "filed_on": today.isoformat()}
    )
    assert again.status_code == 409
    assert signed[late]["id"] not in await overdue_ids()
    filed_list = await portal.client.get(
        f"{LIC}/licence-filings", headers=agency, params={"status": "filed", "licensee_id": late}
    )
    assert [(x["licence_id"], x["filed_on"]) for x in filed_list.json()["items"]] == [
        (signed[late]["id"], today.isoformat())
    ]
