"""Standards use cases and who may do what, on in-memory repositories (no infrastructure).

The service layer is built exactly as ``bootstrap`` builds it, with ``InMemoryStore`` and
``InMemoryKeyedView`` in place of FerretDB: propose, form the group, draft, comment, declare,
vote and publish; a member sees only its own declarations; machine clients are refused;
losing standing voids a vote; and what would be published on ``standards.events``.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from alliance_common.auth import Principal, Role
from alliance_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from alliance_common.events import Envelope, envelope_for
from alliance_common.pagination import encode_cursor
from alliance_common.testing import InMemoryKeyedView, InMemoryStore
from alliance_contracts import standards as contracts
from alliance_contracts.membership import MemberAdmitted, MemberSuspended
from standards.adapters.integration_events import TO_CONTRACT
from standards.adapters.repository import CounterRepository, ProjectRepository
from standards.adapters.standing import MemberStanding
from standards.domain import events
from standards.domain.ballots import Position
from standards.domain.ipr import Commitment
from standards.domain.lifecycle import Action, Stage
from standards.domain.model import (
    Disposition,
    GroupMember,
    GroupRole,
    TransitionOptions,
)
from standards.entrypoints.events import event_handlers
from standards.service_layer.handlers import Declare, NewComment, StandardsService

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ORGS = {"chair": "org-chair", "editor": "org-editor", "part": "org-part", "v1": "org-v1", "v2": "org-v2"}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class World:
    def __init__(self) -> None:
        self.projects = InMemoryStore("projects")
        self.counters = InMemoryStore("counters")
        self.view = InMemoryKeyedView()
        self.standing = MemberStanding(self.view)
        self.clock = Clock()
        self.service = StandardsService(
            ProjectRepository(self.projects), self.standing, CounterRepository(self.counters), clock=self.clock
        )
        self.handlers = event_handlers(self.standing, self.service)

    async def deliver(self, event: Any, member: str) -> Envelope:
        envelope = envelope_for(event, source="/alliance/membership", subject=member)
        await self.handlers[type(event)](envelope, event)
        return envelope

    async def admit_all(self) -> None:
        for key, org in ORGS.items():
            await self.deliver(admitted(org, f"Org {key}"), org)

    def published(self) -> list[contracts.StandardsEvent]:
        return [p.event for p in self.projects.published if isinstance(p.event, contracts.StandardsEvent)]


def admitted(org: str, name: str) -> MemberAdmitted:
    return MemberAdmitted(
        member_id=org,
        name=name,
        membership_number="M2026-00001",
        credit_code="91350100M000100Y43",
        org_type="enterprise",
        segments=["chip"],
        region="CN-HB",
        tier="council_member",
        admitted_at=START,
    )


def member(key: str) -> Principal:
    return Principal(f"rep@{key}.example", frozenset({Role.MEMBER_ADMIN}), org_id=ORGS[key])


SECRETARIAT = Principal("sec@alliance.example", frozenset({Role.SECRETARIAT}))
COUNCIL = Principal("council@alliance.example", frozenset({Role.COUNCIL}))
AGENCY = Principal("agency", frozenset({Role.AGENCY}), scopes=frozenset({"standards:read"}), kind="machine")
ROBOT = Principal("robot", frozenset(), kind="machine")


@pytest.fixture
async def world() -> World:
    w = World()
    await w.admit_all()
    return w


async def step(w: World, pid: str, action: Action, who: Principal = SECRETARIAT, **options: Any) -> None:
    await w.service.transition(pid, action, f"{action.value} decided", TransitionOptions(**options), who)


async def to_ballot(w: World) -> str:
    project = await w.service.propose("Lumen maintenance", "Test method for LED packages.", member("chair"))
    pid = project.id
    await step(w, pid, Action.APPROVE_PROPOSAL, COUNCIL)
    group = [
        GroupMember(ORGS["chair"], GroupRole.CHAIR, "Dr. Chen"),
        GroupMember(ORGS["editor"], GroupRole.EDITOR),
        GroupMember(ORGS["part"], GroupRole.PARTICIPANT),
    ]
    await w.service.set_working_group(pid, group, SECRETARIAT)
    await step(w, pid, Action.FORM_WORKING_GROUP)
    await step(w, pid, Action.START_DRAFTING, member("chair"))
    await w.service.add_draft(pid, "https://d.example/wd1.pdf", "first", member("editor"))
    await step(w, pid, Action.SUBMIT_COMMITTEE_DRAFT, member("chair"))
    await step(w, pid, Action.OPEN_PUBLIC_COMMENT)
    comment = await w.service.comment(pid, NewComment("6.2", "Too short.", None), member("v1"))
    await w.service.dispose(pid, comment.id, Disposition.REJECTED, "Out of scope.", member("chair"))
    w.clock.advance(timedelta(days=31))
    for key in ("chair", "editor", "part"):  # the committee-draft call is past its deadline now
        await w.service.answer_call(pid, "call-1", True, None, member(key))
    await step(w, pid, Action.OPEN_BALLOT)
    return pid


async def test_propose_vote_publish_and_what_is_published(world: World) -> None:
    pid = await to_ballot(world)
    for key in ("chair", "editor", "part"):
        await world.service.answer_call(pid, "call-2", True, None, member(key))
    for key in ("part", "v1", "v2"):  # every eligible voter (the drafters do not vote)
        await world.service.vote(pid, Position.APPROVE, None, member(key))
    await step(world, pid, Action.CLOSE_BALLOT_APPROVED)
    await step(world, pid, Action.PUBLISH)

    project = await world.service.get(pid)
    assert project.status is Stage.PUBLISHED and project.standard_number == "T/LEDA 001\u20142026"
    assert [(d.org_id, d.name) for d in project.drafting_organisations] == [
        (ORGS["chair"], "Org chair"),
        (ORGS["editor"], "Org editor"),
    ]
    assert project.version == 22  # one versioned write per use case: 14 to the ballot, 3 answers, 3 votes, 2 steps
    published = world.published()
    assert isinstance(published[0], contracts.ProjectProposed)
    stages = [(e.from_stage, e.to_stage) for e in published if isinstance(e, contracts.ProjectStageChanged)]
    assert stages[-1] == ("approved", "published") and len(stages) == 8
    (standard,) = [e for e in published if isinstance(e, contracts.StandardPublished)]
    assert standard.number == "T/LEDA 001\u20142026" and standard.drafting_organisations == [
        ORGS["chair"],
        ORGS["editor"],
    ]
    assert world.counters.docs["standard-numbers"].version == 1
    # Filings: agencies with the scope read them; the number finds the record.
    assert [p.id for p in await world.service.filings(AGENCY, None, 10)] == [pid]
    assert (await world.service.filing("T/LEDA 001\u20142026", AGENCY)).id == pid
    with pytest.raises(Forbidden):
        await world.service.filings(ROBOT, None, 10)


async def test_only_members_in_good_standing_propose(world: World) -> None:
    stranger = Principal("x@y.example", frozenset({Role.MEMBER_ADMIN}), org_id="org-unknown")
    with pytest.raises(Forbidden):
        await world.service.propose("T", "S", stranger)
    with pytest.raises(Forbidden):
        await world.service.propose("T", "S", SECRETARIAT)  # staff do not propose
    await world.deliver(MemberSuspended(member_id=ORGS["v1"], reason="dues", suspended_at=START), ORGS["v1"])
    with pytest.raises(Forbidden):
        await world.service.propose("T", "S", member("v1"))
    assert world.projects.docs == {} and world.projects.published == []


async def test_a_retried_proposal_with_its_idempotency_key_is_one_project(world: World) -> None:
    first = await world.service.propose("T", "S", member("v1"), request_key="k-1")
    again = await world.service.propose("T", "S", member("v1"), request_key="k-1")
    assert again.id == first.id and len(world.projects.docs) == 1
    assert len([e for e in world.published() if isinstance(e, contracts.ProjectProposed)]) == 1
    # The key is the proposer's own: another member's same key is another project.
    other = await world.service.propose("T", "S", member("v2"), request_key="k-1")
    assert other.id != first.id and len(world.projects.docs) == 2
    with pytest.raises(InvalidInput) as refused:  # the same key for another proposal
        await world.service.propose("Another title", "S", member("v1"), request_key="k-1")
    assert refused.value.field == "Idempotency-Key" and len(world.projects.docs) == 2
    # Without a key, every proposal is a project of its own.
    await world.service.propose("T", "S", member("v1"))
    await world.service.propose("T", "S", member("v1"))
    assert len(world.projects.docs) == 4


async def test_a_member_sees_only_its_own_declarations(world: World) -> None:
    pid = await to_ballot(world)

    def declare(number: str, holder: str | None = None) -> Declare:
        return Declare(1, "CNIPA", number, "LED package", None, Commitment.FRAND, holder)

    await world.service.declare(pid, declare("CN1001B"), member("part"))
    await world.service.declare(pid, declare("CN2002B"), member("editor"))
    await world.service.declare(pid, declare("CN3003B", ORGS["part"]), SECRETARIAT)  # on a participant's behalf
    with pytest.raises(Forbidden):
        await world.service.declare(pid, declare("CN4004B", ORGS["editor"]), member("part"))
    own = await world.service.declarations(pid, member("part"))
    assert sorted(d.number for d in own) == ["CN1001B", "CN3003B"]
    assert [d.number for d in await world.service.declarations(pid, member("v1"))] == []
    assert len(await world.service.declarations(pid, SECRETARIAT)) == 3


async def test_machine_clients_read_projects_only(world: World) -> None:
    pid = await to_ballot(world)
    assert (await world.service.get(pid)).id == pid
    for refused in (
        world.service.drafts(pid, ROBOT),
        world.service.comments(pid, AGENCY),
        world.service.declarations(pid, AGENCY),
        world.service.ballot(pid, ROBOT),
        world.service.vote(pid, Position.APPROVE, None, AGENCY),
        world.service.transition(pid, Action.ABANDON, "no", TransitionOptions(), ROBOT),
    ):
        with pytest.raises(Forbidden):
            await refused


async def test_who_may_vote_and_see_votes(world: World) -> None:
    pid = await to_ballot(world)
    with pytest.raises(Forbidden):
        await world.service.vote(pid, Position.APPROVE, None, SECRETARIAT)
    await world.service.vote(pid, Position.APPROVE, None, member("v1"))
    with pytest.raises(Conflict):
        await world.service.vote(pid, Position.APPROVE, None, member("v1"))
    with pytest.raises(Forbidden):  # a drafter is not an eligible voter
        await world.service.vote(pid, Position.APPROVE, None, member("chair"))
    view = await world.service.ballot(pid, member("v2"))
    assert view.own_vote is None and not view.votes_visible
    assert (await world.service.ballot(pid, SECRETARIAT)).votes_visible
    own = (await world.service.ballot(pid, member("v1"))).own_vote
    assert own is not None and own.position is Position.APPROVE
    with pytest.raises(Forbidden):  # only staff move the stage, not a voter
        await step(world, pid, Action.CLOSE_BALLOT_APPROVED, member("v1"))


async def test_ipr_calls_and_ballots_opening_and_closing_are_published(world: World) -> None:
    pid = await to_ballot(world)
    for voter in ("v1", "v2"):
        await world.service.vote(pid, Position.APPROVE, None, member(voter))
    world.clock.advance(timedelta(days=31))
    await step(world, pid, Action.CLOSE_BALLOT_APPROVED, SECRETARIAT)
    published = world.published()
    calls = [e for e in published if isinstance(e, contracts.IprCallIssued) and e.project_id == pid]
    assert [c.reason for c in calls] == ["committee_draft", "pre_ballot"]
    assert all(c.deadline > c.issued_at and c.participants for c in calls)
    answered = [e for e in published if isinstance(e, contracts.IprCallAnswered) and e.project_id == pid]
    assert {(a.call_id, a.organisation_id, a.answer) for a in answered} >= {
        ("call-1", ORGS[key], "no_patents_known") for key in ("chair", "editor", "part")
    }
    opened = [e for e in published if isinstance(e, contracts.BallotOpened) and e.project_id == pid]
    closed = [e for e in published if isinstance(e, contracts.BallotClosed) and e.project_id == pid]
    assert [(b.ballot, b.closes_at > b.opened_at) for b in opened] == [(1, True)]
    assert [(b.ballot, b.result) for b in closed] == [(1, "approved")]
    assert ORGS["v1"] in opened[0].eligible and closed[0].eligible == opened[0].eligible


async def test_losing_standing_voids_the_vote_once(world: World) -> None:
    pid = await to_ballot(world)
    await world.service.vote(pid, Position.APPROVE, None, member("v1"))
    suspended = MemberSuspended(member_id=ORGS["v1"], reason="dues", suspended_at=START)
    envelope = await world.deliver(suspended, ORGS["v1"])
    await world.handlers[MemberSuspended](envelope, suspended)  # redelivered
    ballot = (await world.service.ballot(pid, SECRETARIAT)).ballot
    assert ballot.tally().voided == 1
    voided = [e for e in world.published() if isinstance(e, contracts.BallotVoteVoided)]
    assert [(e.organisation_id, e.ballot) for e in voided] == [(ORGS["v1"], 1)]
    assert world.projects.docs[pid].applied_events == [envelope.id]
    assert await world.service.members_in_good_standing() == sorted(o for o in ORGS.values() if o != ORGS["v1"])


async def test_lists_page_by_cursor_and_unknown_is_404(world: World) -> None:
    ids = [(await world.service.propose(f"T{i}", "S", member("chair"))).id for i in range(3)]
    first = await world.service.list_projects(None, 2, ORGS["chair"])
    rest = await world.service.list_projects(encode_cursor(first[-1].id), 2, ORGS["chair"])
    assert [p.id for p in first + rest] == sorted(ids)
    assert await world.service.list_projects(None, 10, None, Stage.BALLOT) == []
    with pytest.raises(NotFound):
        await world.service.get("nope")
    with pytest.raises(NotFound):
        await world.service.filing("T/LEDA 999\u20142026", AGENCY)


def test_every_domain_event_maps_to_its_contract() -> None:
    declared = events.PatentDeclared("org-p", "CNIPA", "CN1001B", "frand", "LED", None, 1, "d-1")
    samples = [
        events.ProjectProposed("p", "T", "S", "org", START),
        events.ProjectStageChanged("p", "proposed", "accepted", "approve_proposal", "me", None, START),
        events.StandardPublished("p", "T/LEDA 001", "T", date(2026, 2, 1), (declared,), "S", ("org",), None, None),
        events.StandardPublished(
            "p",
            "T/LEDA 002",
            "T",
            date(2026, 2, 1),
            (declared,),
            "S",
            ("org",),
            None,
            None,
            title_en="Test method",
            ics_codes=("31.260", "33.160.01"),
            ccs_code="L51",
            drafting_persons=(events.DraftedBy("Chen Li", "org"),),
        ),
        events.BallotVoteVoided("p", 1, "org", "lost standing", START),
        events.IprCallIssued("p", "call-1", "T", "committee_draft", START, START, 1, ("org",)),
        events.IprCallAnswered("p", "call-1", "org", "no_patents_known", START),
        events.BallotOpened("p", 1, "T", START, START, ("org",)),
        events.BallotClosed("p", 1, "T", "approved", START, ("org",)),
    ]
    domain_types = {t for t in vars(events).values() if isinstance(t, type) and t.__module__ == events.__name__}
    nested = {events.PatentDeclared, events.DraftedBy}
    assert domain_types - nested == {type(e) for e in samples} == set(TO_CONTRACT.table)
    for event in samples:
        contract = TO_CONTRACT(event)
        assert contract is not None and contract.topic == "standards.events"
        assert contract.model_dump(include={f.name for f in dataclasses.fields(event)}) == _plain(event)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
