"""The patent pool against the real FerretDB and Kafka: contribution, submission, an
independent evaluation, and the programme's open list."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from alliance_local.pytest_plugin import running, wait_for_events
from licensing.bootstrap import create_app
from licensing.settings import Settings

pytestmark = pytest.mark.infra


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def patent(number: str) -> dict[str, Any]:
    return {
        "office": "CN",
        "number": number,
        "family_id": "FAM-0042",
        "title": "GaN LED epitaxial structure with a superlattice stress-relief layer",
        "filing_date": "2015-08-05",
        "grant_date": "2018-01-22",
        "expiry_date": "2035-08-05",
        "segment": "epitaxy",
    }


async def test_a_patent_goes_from_contribution_to_the_programmes_open_list(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    owner, rival = str(uuid.uuid4()), str(uuid.uuid4())
    number = f"CN{uuid.uuid4().int % 10**9}B"
    owner_admin = bearer(make_token("ip@owner.example", "member_admin", org_id=owner))
    rival_staff = bearer(make_token("ip@rival.example", "member_staff", org_id=rival))
    secretariat = bearer(make_token("s", "secretariat"))
    async with running(create_app(service_settings(Settings))) as client:
        created = await client.post("/api/v1/licensing/patents", json=patent(number), headers=owner_admin)
        assert created.status_code == 201, created.text
        patent_id = created.json()["id"]
        assert created.json()["owner_id"] == owner
        duplicate = await client.post("/api/v1/licensing/patents", json=patent(number), headers=owner_admin)
        assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "number"
        foreign = await client.post(
            "/api/v1/licensing/patents", json={**patent("CN1B"), "owner_id": rival}, headers=owner_admin
        )
        assert foreign.status_code == 403
        assert (await client.get(f"/api/v1/licensing/patents/{patent_id}", headers=rival_staff)).status_code == 404

        programme = await client.post(
            "/api/v1/licensing/programmes",
            headers=secretariat,
            json={"name": "LED epitaxy pool", "standard_ref": "T/LEDA 001—2026"},
        )
        assert programme.status_code == 201, programme.text
        programme_id = programme.json()["id"]
        submitted = await client.post(
            f"/api/v1/licensing/programmes/{programme_id}/submissions",
            json={"patent_id": patent_id},
            headers=owner_admin,
        )
        assert submitted.status_code == 201 and submitted.json()["status"] == "awaiting_evaluator"
        submission_id = submitted.json()["id"]

        conflicted = await client.post(
            f"/api/v1/licensing/submissions/{submission_id}/assignment",
            headers=secretariat,
            json={"evaluator_id": "expert@owner.example", "evaluator_org_id": owner},
        )
        assert conflicted.status_code == 422 and conflicted.json()["errors"][0]["field"] == "evaluator_id"
        assigned = await client.post(
            f"/api/v1/licensing/submissions/{submission_id}/assignment",
            headers=secretariat,
            json={"evaluator_id": "expert@independent.example"},
        )
        assert assigned.status_code == 200 and assigned.json()["status"] == "under_evaluation"

        expert = bearer(make_token("expert@independent.example", "expert"))
        other_expert = bearer(make_token("someone.else@independent.example", "expert"))
        assert (await client.get(f"/api/v1/licensing/patents/{patent_id}", headers=expert)).status_code == 200
        mine = await client.get("/api/v1/licensing/submissions", headers=other_expert)
        assert mine.json()["items"] == []  # experts see only what is assigned to them
        not_yours = await client.post(
            f"/api/v1/licensing/submissions/{submission_id}/evaluation",
            headers=other_expert,
            json={"result": "essential", "reason": "claims 1-3 read on clause 5.2"},
        )
        assert not_yours.status_code == 404
        no_reason = await client.post(
            f"/api/v1/licensing/submissions/{submission_id}/evaluation",
            headers=expert,
            json={"result": "essential", "reason": ""},
        )
        assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
        evaluated = await client.post(
            f"/api/v1/licensing/submissions/{submission_id}/evaluation",
            headers=expert,
            json={"result": "essential", "reason": "Claims 1-3 read on clause 5.2."},
        )
        assert evaluated.status_code == 200 and evaluated.json()["status"] == "essential"

        listed = await client.get(f"/api/v1/licensing/programmes/{programme_id}/patents", headers=rival_staff)
        assert [p["number"] for p in listed.json()["items"]] == [number]  # open to every licensee

    published = await wait_for_events(
        infra.kafka.bootstrap,
        "licensing.events",
        lambda e: e["type"] == "alliance.licensing.patent.evaluated.v1" and e["data"]["patent_id"] == patent_id,
    )
    assert published[0][0]["data"]["essential"] is True


async def test_a_published_standard_opens_its_programme_and_submits_the_declared_patents(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    from datetime import date

    from alliance_common.events import envelope_for
    from alliance_contracts.standards import DeclaredPatent, StandardPublished
    from alliance_local.pytest_plugin import eventually, produce

    holder = str(uuid.uuid4())
    project = str(uuid.uuid4())
    number = f"CN{uuid.uuid4().int % 10**9}B"
    secretariat = bearer(make_token("s", "secretariat"))
    async with running(create_app(service_settings(Settings))) as client:
        created = await client.post(
            "/api/v1/licensing/patents",
            json=patent(number),
            headers=bearer(make_token("ip@holder.example", "member_admin", org_id=holder)),
        )
        assert created.status_code == 201
        event = StandardPublished(
            project_id=project,
            number="T/LEDA 007—2026",
            title="Lumen maintenance of LED packages",
            published_on=date.today(),
            declarations=[
                DeclaredPatent(holder_id=holder, office="CN", number=number, commitment="frand"),
                DeclaredPatent(holder_id=holder, office="US", number="US1234567B2", commitment="frand"),
                DeclaredPatent(holder_id=holder, office="CN", number="CN999B", commitment="unwilling"),
            ],
        )
        envelope = envelope_for(event, source="/alliance/standards", subject=project)
        for _ in range(2):  # delivered twice: applied once
            await produce(infra.kafka.bootstrap, "standards.events", envelope.to_bytes(), project.encode())

        async def programme() -> dict[str, Any] | None:
            found = await client.get(f"/api/v1/licensing/programmes/PRG-{project}", headers=secretariat)
            return found.json() if found.status_code == 200 else None

        opened = await eventually(programme)
        assert opened["standard_ref"] == "T/LEDA 007—2026"

        async def submissions() -> list[dict[str, Any]]:
            found = await client.get(
                "/api/v1/licensing/submissions", params={"programme_id": f"PRG-{project}"}, headers=secretariat
            )
            return list(found.json()["items"])

        listed = await eventually(submissions)
        assert [s["patent_id"] for s in listed] == [created.json()["id"]]
        assert listed[0]["status"] == "awaiting_evaluator"
