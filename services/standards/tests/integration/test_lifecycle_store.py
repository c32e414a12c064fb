"""The standards life cycle on the real FerretDB and Kafka: racing votes, voiding from membership
events, number allocation under a race, and the whole path to a filed standard."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from alliance_common.auth import Principal, Role
from alliance_common.errors import Conflict
from alliance_common.events import envelope_for
from alliance_contracts.membership import MemberAdmitted, MemberSuspended
from alliance_local.pytest_plugin import eventually, produce, running, wait_for_events
from standards.bootstrap import create_app
from standards.domain.ballots import Position
from standards.service_layer.handlers import StandardsService
from standards.settings import Settings

pytestmark = pytest.mark.infra

API = "/api/v1/standards"


async def admit(infra: Any, member: str, name: str) -> None:
    event = MemberAdmitted(
        member_id=member,
        name=name,
        membership_number=f"M2026-{uuid.uuid4().int % 100000:05d}",
        credit_code="91350100M000100Y43",
        org_type="enterprise",
        segments=["chip"],
        region="CN-HB",
        tier="council_member",
        admitted_at=datetime.now(UTC),
    )
    envelope = envelope_for(event, source="/alliance/membership", subject=member)
    await produce(infra.kafka.bootstrap, "membership.events", envelope.to_bytes(), member.encode())


async def suspend(infra: Any, member: str) -> None:
    event = MemberSuspended(member_id=member, reason="dues unpaid", suspended_at=datetime.now(UTC))
    envelope = envelope_for(event, source="/alliance/membership", subject=member)
    await produce(infra.kafka.bootstrap, "membership.events", envelope.to_bytes(), member.encode())


class World:
    """Organisations in good standing, tokens, and shortcuts through the service's HTTP API."""

    def __init__(self, client: httpx.AsyncClient, make_token: Callable[..., str], service: StandardsService) -> None:
        self.client = client
        self.make_token = make_token
        self.service = service
        self.orgs = {role: str(uuid.uuid4()) for role in ("chair", "editor", "participant", "v1", "v2", "v3")}

    def member(self, key: str) -> dict[str, str]:
        org = self.orgs[key]
        return {"Authorization": f"Bearer {self.make_token(f'rep@{key}.example', 'member_admin', org_id=org)}"}

    def staff(self, role: str = "secretariat") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.make_token(f'{role}@alliance.example', role)}"}

    async def call(self, method: str, path: str, headers: dict[str, str], body: Any = None, expect: int = 200) -> Any:
        response = await self.client.request(method, f"{API}{path}", headers=headers, json=body)
        assert response.status_code == expect, response.text
        return response.json()

    async def step(self, project_id: str, action: str, role: str = "secretariat", **extra: Any) -> Any:
        body = {"action": action, "reason": f"{action} decided", **extra}
        return await self.call("POST", f"/projects/{project_id}/transitions", self.staff(role), body)

    async def to_ballot(self) -> str:
        project = await self.call(
            "POST",
            "/projects",
            self.member("chair"),
            {
                "title": "Lumen maintenance of LED packages",
                "scope": "Test method for lumen maintenance of packages.",
            },
            expect=201,
        )
        pid = project["id"]
        await self.step(pid, "approve_proposal", "council")
        await self.call(
            "PUT",
            f"/projects/{pid}/working-group",
            self.staff(),
            {
                "members": [
                    {"org_id": self.orgs["chair"], "role": "chair", "person": "Dr. Chen"},
                    {"org_id": self.orgs["editor"], "role": "editor"},
                    {"org_id": self.orgs["participant"], "role": "participant"},
                ]
            },
        )
        await self.step(pid, "form_working_group")
        await self.step(pid, "start_drafting")
        await self.call(
            "POST", f"/projects/{pid}/drafts", self.member("editor"), {"uri": "https://d.example/wd1"}, expect=201
        )
        await self.step(pid, "submit_committee_draft")
        await self.step(pid, "open_public_comment")
        comment = await self.call(
            "POST", f"/projects/{pid}/comments", self.member("v1"), {"clause": "6.2", "text": "Too short."}, expect=201
        )
        await self.call(
            "POST",
            f"/projects/{pid}/comments/{comment['id']}/disposition",
            self.member("chair"),
            {"disposition": "rejected", "reason": "Out of scope."},
        )

        async def comment_period_over() -> bool:
            r = await self.client.post(
                f"{API}/projects/{pid}/transitions",
                headers=self.staff(),
                json={
                    "action": "open_ballot",
                    "ballot_quorum": 2,
                    "ballot_closes_at": (datetime.now(UTC) + timedelta(seconds=6)).isoformat(),
                },
            )
            assert r.status_code in (200, 409), r.text
            return r.status_code == 200

        assert await eventually(comment_period_over, timeout=10, interval=0.3)
        return pid


@pytest.fixture
async def world(service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any) -> Any:
    app = create_app(service_settings(Settings, comment_period_min_s=1, ipr_call_period_s=1))
    async with running(app) as client:
        w = World(client, make_token, app.state.service)
        for key, org in w.orgs.items():
            await admit(infra, org, f"Org {key}")
        for org in w.orgs.values():
            assert await eventually(lambda org=org: w.service.standing.in_good_standing(org), timeout=20)
        yield w


async def test_two_racing_votes_of_one_organisation_count_once(world: World) -> None:
    pid = await world.to_ballot()
    voter = Principal("rep@v1.example", frozenset({Role.MEMBER_ADMIN}), org_id=world.orgs["v1"])
    results = await asyncio.gather(
        world.service.vote(pid, Position.APPROVE, None, voter),
        world.service.vote(pid, Position.APPROVE, None, voter),
        return_exceptions=True,
    )
    succeeded = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(succeeded) == 1 and len(refused) == 1, results
    assert refused[0].field == "organisation_id"
    ballot = await world.call("GET", f"/projects/{pid}/ballot", world.staff())
    assert ballot["tally"]["approve"] == 1 and ballot["tally"]["returned"] == 1
    stored = await world.service.get(pid)
    assert stored.current_ballot is not None and len(stored.current_ballot.votes) == 1


async def test_a_member_losing_standing_has_its_vote_voided(world: World, infra: Any) -> None:
    pid = await world.to_ballot()
    await world.call("POST", f"/projects/{pid}/ballot/votes", world.member("v1"), {"position": "approve"}, expect=201)
    await world.call("POST", f"/projects/{pid}/ballot/votes", world.member("v2"), {"position": "approve"}, expect=201)
    before = await world.call("GET", f"/projects/{pid}/ballot", world.member("v3"))
    assert before["tally"]["can_pass"] is True and before["own_vote"] is None
    await suspend(infra, world.orgs["v1"])

    async def voided() -> Any:
        ballot = await world.call("GET", f"/projects/{pid}/ballot", world.member("v1"))
        return ballot if ballot["tally"]["voided"] == 1 else None

    ballot = await eventually(voided, timeout=20)
    assert ballot["tally"]["approve"] == 1 and ballot["tally"]["can_pass"] is False
    assert ballot["own_vote"]["voided_at"] is not None and "lost good standing" in ballot["own_vote"]["void_reason"]
    events = await wait_for_events(
        infra.kafka.bootstrap,
        "standards.events",
        lambda e: e["subject"] == pid and e["type"] == "alliance.standards.ballot.vote_voided.v1",
    )
    assert events[0][0]["data"]["organisation_id"] == world.orgs["v1"]
    # Idempotent: the same organisation's votes are voided once, whatever is redelivered.
    assert await world.service.void_votes_of(world.orgs["v1"], "again") == []
    # Others' individual votes: staff see them while open, a member only its own.
    assert len((await world.call("GET", f"/projects/{pid}/ballot/votes", world.staff()))["items"]) == 2
    own = await world.call("GET", f"/projects/{pid}/ballot/votes", world.member("v2"))
    assert [v["organisation_id"] for v in own["items"]] == [world.orgs["v2"]]
    # And a suspended member cannot vote again.
    again = await world.client.post(
        f"{API}/projects/{pid}/ballot/votes", headers=world.member("v1"), json={"position": "approve"}
    )
    assert again.status_code == 403


async def test_racing_publications_never_share_a_number(world: World) -> None:
    numbers = await asyncio.gather(*(world.service.allocate_number(f"p-{i}") for i in range(4)))
    assert len(set(numbers)) == 4
    year = datetime.now(UTC).year
    assert sorted(numbers) == [f"T/LEDA {i:03d}\u2014{year}" for i in range(1, 5)]
    assert await world.service.allocate_number("p-2") == numbers[2]


async def test_from_ballot_to_filing_with_declarations(
    world: World, infra: Any, make_token: Callable[..., str]
) -> None:
    pid = await world.to_ballot()
    declared = await world.call(
        "POST",
        f"/projects/{pid}/declarations",
        world.member("participant"),
        {
            "draft_version": 1,
            "office": "CN",
            "number": "CN112345678B",
            "title": "LED fixture",
            "commitment": "frand",
        },
        expect=201,
    )
    bad = await world.client.post(
        f"{API}/projects/{pid}/declarations",
        headers=world.member("participant"),
        json={
            "draft_version": 9,
            "office": "CN",
            "number": "CN1B999",
            "title": "Other",
            "commitment": "frand",
        },
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "draft_version"
    others = await world.call("GET", f"/projects/{pid}/declarations", world.member("editor"))
    assert others["items"] == []
    for key in ("v1", "v2"):
        await world.call(
            "POST", f"/projects/{pid}/ballot/votes", world.member(key), {"position": "approve"}, expect=201
        )

    async def closed() -> bool:
        r = await world.client.post(
            f"{API}/projects/{pid}/transitions", headers=world.staff(), json={"action": "close_ballot_approved"}
        )
        assert r.status_code in (200, 409), r.text
        return r.status_code == 200

    assert await eventually(closed, timeout=15, interval=0.5)
    refused = await world.client.post(
        f"{API}/projects/{pid}/transitions", headers=world.staff(), json={"action": "publish"}
    )
    assert refused.status_code == 409 and world.orgs["chair"] in refused.json()["detail"]
    calls = await world.call("GET", f"/projects/{pid}/ipr-calls", world.staff())
    for call in calls["items"]:
        for org in call["unanswered"]:
            await world.call(
                "POST",
                f"/projects/{pid}/ipr-calls/{call['id']}/answer",
                world.staff(),
                {"no_patents_known": True, "org_id": org},
            )
    published = await world.step(pid, "publish")
    number = published["standard_number"]
    assert number.startswith("T/LEDA 001")
    events = await wait_for_events(
        infra.kafka.bootstrap,
        "standards.events",
        lambda e: e["subject"] == pid and e["type"] == "alliance.standards.standard.published.v1",
    )
    data = events[0][0]["data"]
    assert data["number"] == number and data["declarations"][0]["declaration_id"] == declared["id"]
    await world.step(pid, "file", registry_reference="REG-440300-0017")
    agency = {"Authorization": "Bearer " + make_token("agency-demo", "agency", kind="machine")}
    forbidden = await world.client.get(f"{API}/filings/{number}", headers=agency)
    assert forbidden.status_code == 403  # no standards:read scope in this token
    filing = await world.call("GET", f"/filings/{number}", world.staff())
    assert filing["registry_reference"] == "REG-440300-0017" and filing["patents_declared"] == 1
    assert {d["org_id"] for d in filing["drafting_organisations"]} == {world.orgs["chair"], world.orgs["editor"]}
    assert {d["name"] for d in filing["drafting_organisations"]} == {"Org chair", "Org editor"}


async def test_the_periodic_job_puts_due_standards_under_review_and_a_revision_flags_declarations(
    world: World,
) -> None:
    from standards.domain.lifecycle import Stage
    from standards.domain.model import Commitment, Declaration, GroupMember, GroupRole, Project

    long_ago = datetime.now(UTC) - timedelta(days=6 * 366)
    due = Project(
        id=f"due-{uuid.uuid4().hex[:8]}",
        title="Old standard on LED drivers",
        scope="Driver flicker limits.",
        proposer_id=world.orgs["chair"],
        proposed_by="x",
        status=Stage.FILED,
        proposed_at=long_ago,
        working_group=[
            GroupMember(world.orgs["chair"], GroupRole.CHAIR),
            GroupMember(world.orgs["editor"], GroupRole.EDITOR),
        ],
        declarations=[
            Declaration(
                "d-1",
                world.orgs["editor"],
                3,
                "CN",
                "CN100001B",
                "Driver",
                None,
                Commitment.ROYALTY_FREE,
                "ip@editor",
                long_ago,
            )
        ],
        standard_number="T/LEDA 900\u20142020",
        is_published=True,
        published_on=long_ago.date(),
        review_due=(long_ago + timedelta(days=5 * 365)).date(),
    )
    not_due = Project(
        id=f"fresh-{uuid.uuid4().hex[:8]}",
        title="New standard",
        scope="Fresh scope text.",
        proposer_id="o",
        proposed_by="x",
        status=Stage.FILED,
        proposed_at=long_ago,
        standard_number="T/LEDA 901\u20142026",
        is_published=True,
        review_due=(datetime.now(UTC) + timedelta(days=300)).date(),
    )
    await world.service.repo.add(due)
    await world.service.repo.add(not_due)
    assert await world.service.start_due_reviews() == 1
    assert (await world.service.get(due.id)).status is Stage.UNDER_REVIEW
    assert (await world.service.get(not_due.id)).status is Stage.FILED
    assert await world.service.start_due_reviews() == 0  # idempotent
    reviewed = await world.step(due.id, "revise", "council")
    assert reviewed["status"] == "revised" and reviewed["revised_by"]
    revision = await world.call("GET", f"/projects/{reviewed['revised_by']}", world.staff())
    assert revision["status"] == "working_group" and revision["revision_of"] == due.id
    flagged = await world.call("GET", f"/projects/{revision['id']}/declarations", world.staff())
    assert [d["status"] for d in flagged["items"]] == ["needs_redeclaration"]
    # The agency view of the filing still names the standard; it keeps its number.
    filing = await world.call("GET", f"/filings/{due.id}", world.staff())
    assert filing["number"] == "T/LEDA 900\u20142020" and filing["status"] == "revised"
