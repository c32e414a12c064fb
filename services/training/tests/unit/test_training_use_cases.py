"""Training use cases and who may do what, on in-memory repositories (no infrastructure).

The service layer is built as ``bootstrap`` builds it, with ``InMemoryStore`` and
``InMemoryKeyedView`` in place of FerretDB: schedule, register at the right price, the waiting
list and its offers, cancellation, another organisation's registration (404, changing nothing),
staff-only decisions, attendance and certificates, proposals from published standards, and what
would be published on ``training.events``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alliance_common.auth import Principal, Role
from alliance_common.errors import Conflict, Forbidden, NotFound
from alliance_common.events import Envelope, envelope_for
from alliance_common.testing import InMemoryKeyedView, InMemoryStore
from alliance_contracts import training as contracts
from alliance_contracts.membership import MemberAdmitted, MemberSuspended
from alliance_contracts.standards import StandardPublished
from training.adapters.integration_events import TO_CONTRACT
from training.adapters.repository import ProposalRepository, SessionRepository
from training.adapters.standing import MemberStanding
from training.domain import events
from training.domain.model import Attendee, Audience, RegistrationStatus, SessionFormat
from training.domain.proposal import ProposalStatus
from training.entrypoints.events import event_handlers
from training.service_layer.handlers import Register, ScheduleSession, TrainingService

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
S = RegistrationStatus

SECRETARIAT = Principal("sec@alliance.example", frozenset({Role.SECRETARIAT}))
COUNCIL = Principal("council@alliance.example", frozenset({Role.COUNCIL}))
ALICE = Principal("alice@org-a.example", frozenset({Role.MEMBER_ADMIN}), org_id="org-a")
ANNA = Principal("anna@org-a.example", frozenset({Role.MEMBER_STAFF}), org_id="org-a")
BOB = Principal("bob@org-b.example", frozenset({Role.MEMBER_ADMIN}), org_id="org-b")
GUEST = Principal("guest@nowhere.example", frozenset())


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class World:
    def __init__(self) -> None:
        self.sessions = InMemoryStore("sessions")
        self.proposal_store = InMemoryStore("proposals")
        self.standing = MemberStanding(InMemoryKeyedView())
        self.clock = Clock()
        self.codes = iter(f"CODE{i:08d}" for i in range(100))
        self.service = TrainingService(
            SessionRepository(self.sessions),
            ProposalRepository(self.proposal_store),
            self.standing,
            clock=self.clock,
            offer_for=timedelta(hours=24),
            new_code=lambda: next(self.codes),
        )
        self.handlers = event_handlers(self.standing, self.service)

    async def deliver(self, event: Any, subject: str) -> Envelope:
        envelope = envelope_for(event, source="/alliance/test", subject=subject)
        await self.handlers[type(event)](envelope, event)
        return envelope

    def published(self) -> list[Any]:
        return [p.event for p in self.sessions.published + self.proposal_store.published]

    async def schedule(self, capacity: int = 1, **extra: Any) -> str:
        cmd = ScheduleSession(
            title="LED patent landscape",
            audience=Audience.ENGINEERS,
            format=SessionFormat.COURSE,
            starts_at=START,
            ends_at=START + timedelta(hours=8),
            venue="Suzhou",
            online=False,
            capacity=capacity,
            member_price=Decimal("800"),
            non_member_price=Decimal("1500"),
            currency="CNY",
            registration_closes_at=None,
            **extra,
        )
        return (await self.service.schedule(cmd, SECRETARIAT)).id


def admitted(org: str) -> MemberAdmitted:
    return MemberAdmitted(
        member_id=org,
        name=org,
        membership_number="M2026-00001",
        credit_code="91350100M000100Y43",
        org_type="enterprise",
        segments=["chip"],
        region="CN-HB",
        tier="member",
        admitted_at=NOW,
    )


@pytest.fixture
async def world() -> World:
    w = World()
    await w.deliver(admitted("org-a"), "org-a")  # org-b is not a member
    return w


async def test_only_the_secretariat_schedules(world: World) -> None:
    with pytest.raises(Forbidden):
        await world.service.schedule(
            ScheduleSession(
                "T",
                Audience.ENGINEERS,
                SessionFormat.SALON,
                START,
                START + timedelta(hours=2),
                "Fuzhou",
                False,
                5,
                Decimal("1"),
                Decimal("2"),
                "CNY",
                None,
            ),
            ALICE,
        )
    assert world.sessions.docs == {}
    sid = await world.schedule()
    assert [type(e) for e in world.published()] == [contracts.SessionScheduled]
    assert [s.id for s in await world.service.list_sessions(None, 10, Audience.ENGINEERS)] == [sid]
    assert await world.service.list_sessions(None, 10, Audience.EXECUTIVES) == []


async def test_members_in_good_standing_pay_the_member_price(world: World) -> None:
    sid = await world.schedule(capacity=5)
    _, member = await world.service.register(sid, Register("Alice", "alice@org-a.example"), ALICE)
    _, other = await world.service.register(sid, Register("Bob", "bob@org-b.example"), BOB)
    assert (member.price, member.member_price_applied) == (Decimal("800.00"), True)
    assert (other.price, other.member_price_applied) == (Decimal("1500.00"), False)
    await world.deliver(MemberSuspended(member_id="org-a", reason="dues", suspended_at=NOW), "org-a")
    _, quote = await world.service.quote(sid, ANNA)
    assert quote.price == Decimal("1500.00")
    confirmed = [e for e in world.published() if isinstance(e, contracts.RegistrationConfirmed)]
    assert [(e.organisation_id, e.price, e.member_price_applied) for e in confirmed] == [
        ("org-a", Decimal("800.00"), True),
        ("org-b", Decimal("1500.00"), False),
    ]


async def test_waiting_list_offer_and_acceptance(world: World) -> None:
    sid = await world.schedule(capacity=1)
    _, first = await world.service.register(sid, Register("Alice", "alice@org-a.example"), ALICE)
    _, waiting = await world.service.register(sid, Register("Bob", "bob@org-b.example", waitlist=True), BOB)
    assert (first.status, waiting.status, waiting.waitlist_position) == (S.CONFIRMED, S.WAITLISTED, 1)
    with pytest.raises(Conflict):  # full, and no consent to wait
        await world.service.register(sid, Register("Carl", "carl@org-b.example"), BOB)
    await world.service.cancel(sid, first.id, "ill", ALICE)
    _, offered = await world.service.registration_for(sid, waiting.id, BOB)
    assert offered.status is S.OFFERED
    _, accepted = await world.service.accept_offer(sid, waiting.id, BOB)
    assert accepted.status is S.CONFIRMED
    statuses = [e.status for e in world.published() if isinstance(e, contracts.RegistrationStatusChanged)]
    assert statuses == ["waitlisted", "cancelled", "offered"]


async def test_an_offer_not_taken_lapses_to_the_next_in_line(world: World) -> None:
    sid = await world.schedule(capacity=1)
    _, first = await world.service.register(sid, Register("Alice", "alice@org-a.example"), ALICE)
    _, second = await world.service.register(sid, Register("Bob", "bob@org-b.example", waitlist=True), BOB)
    _, third = await world.service.register(sid, Register("Anna", "anna@org-a.example", waitlist=True), ANNA)
    await world.service.cancel(sid, first.id, None, ALICE)
    assert await world.service.expire_offers() == 0
    world.clock.now += timedelta(hours=25)
    assert await world.service.expire_offers() == 1
    session = await world.service.get(sid)
    assert [r.status for r in session.registrations] == [S.CANCELLED, S.OFFER_EXPIRED, S.OFFERED]
    assert session.registrations[2].id == third.id and second.id == session.registrations[1].id


async def test_another_organisations_registration_is_not_found_and_unchanged(world: World) -> None:
    sid = await world.schedule(capacity=3)
    _, mine = await world.service.register(sid, Register("Alice", "alice@org-a.example"), ALICE)
    before = dict(world.sessions.docs[sid].state)
    version = world.sessions.docs[sid].version
    with pytest.raises(NotFound):
        await world.service.registration_for(sid, mine.id, BOB)
    with pytest.raises(NotFound):
        await world.service.cancel(sid, mine.id, "not mine", BOB)
    with pytest.raises(NotFound):
        await world.service.accept_offer(sid, mine.id, GUEST)
    assert world.sessions.docs[sid].state == before and world.sessions.docs[sid].version == version
    # A colleague of the same organisation sees it; staff too.
    assert (await world.service.registration_for(sid, mine.id, ANNA))[1].id == mine.id
    assert (await world.service.registration_for(sid, mine.id, SECRETARIAT))[1].id == mine.id


async def test_lists_show_only_what_the_caller_may_see(world: World) -> None:
    one, two = await world.schedule(capacity=3), await world.schedule(capacity=3)
    await world.service.register(one, Register("Alice", "alice@org-a.example"), ALICE)
    await world.service.register(two, Register("Bob", "bob@org-b.example"), BOB)
    await world.service.register_group(
        two, [Attendee("Anna", "anna@org-a.example"), Attendee("Ada", "ada@org-a.example")], False, ANNA
    )
    own, _ = await world.service.registrations_for(ALICE, None)
    assert sorted(r.attendee_email for _, r in own) == [
        "ada@org-a.example",
        "alice@org-a.example",
        "anna@org-a.example",
    ]
    bobs, _ = await world.service.registrations_for(BOB, None)
    assert [r.attendee_email for _, r in bobs] == ["bob@org-b.example"]
    assert await world.service.registrations_for(GUEST, None) == ([], None)
    everyone, more = await world.service.registrations_for(SECRETARIAT, None, limit=2)
    assert len(everyone) == 2 and more is not None
    rest, last = await world.service.registrations_for(SECRETARIAT, None, cursor=more, limit=2)
    assert len(rest) == 2 and last is None


async def test_staff_decide_approval_members_do_not(world: World) -> None:
    sid = await world.schedule(capacity=2, requires_approval=True)
    _, pending = await world.service.register(sid, Register("Bob", "bob@org-b.example"), BOB)
    assert pending.status is S.PENDING
    for decide in (
        world.service.approve(sid, pending.id, BOB),
        world.service.reject(sid, pending.id, "no", ALICE),
        world.service.check_in(sid, pending.id, None, BOB),
        world.service.close_attendance(sid, COUNCIL),  # the secretariat closes attendance
    ):
        with pytest.raises(Forbidden):
            await decide
    _, approved = await world.service.approve(sid, pending.id, COUNCIL)
    assert approved.status is S.CONFIRMED


async def test_attendance_certificate_and_anonymous_verification(world: World) -> None:
    sid = await world.schedule(capacity=2)
    _, r = await world.service.register(sid, Register("Alice", "alice@org-a.example"), ALICE)
    world.clock.now = START + timedelta(hours=1)
    await world.service.check_in(sid, r.id, None, SECRETARIAT)
    _, certified = await world.service.close_attendance(sid, SECRETARIAT)
    assert [c.id for c in certified] == [r.id]
    session, found = await world.service.verify(" code00000000 ")
    assert (session.id, found.id) == (sid, r.id)
    with pytest.raises(NotFound):
        await world.service.verify("NOPE")
    issued = [e for e in world.published() if isinstance(e, contracts.CertificateIssued)]
    earned = [e for e in world.published() if isinstance(e, contracts.CreditHoursEarned)]
    assert [e.verification_code for e in issued] == ["CODE00000000"]
    assert [(e.organisation_id, e.hours, e.days) for e in earned] == [("org-a", Decimal("8.0"), [START.date()])]


async def test_a_published_standard_proposes_one_session_scheduled_once(world: World) -> None:
    published = StandardPublished(
        project_id="P1", number="T/LEDA 001\u20142026", title="LED drivers", published_on=date(2026, 5, 20)
    )
    envelope = await world.deliver(published, "P1")
    await world.handlers[StandardPublished](envelope, published)  # redelivered
    with pytest.raises(Forbidden):
        await world.service.list_proposals(ALICE, None, None, 10)
    (proposal,) = await world.service.list_proposals(SECRETARIAT, ProposalStatus.PROPOSED, None, 10)
    assert world.proposal_store.docs[proposal.id].applied_events == [envelope.id]
    cmd = ScheduleSession(
        "From the standard",
        Audience.ENGINEERS,
        SessionFormat.SEMINAR,
        START,
        START + timedelta(hours=3),
        None,
        True,
        50,
        Decimal("0"),
        Decimal("100"),
        "CNY",
        None,
    )
    session = await world.service.schedule_proposal(proposal.id, cmd, SECRETARIAT)
    with pytest.raises(Conflict):
        await world.service.schedule_proposal(proposal.id, cmd, SECRETARIAT)
    scheduled = await world.service.proposal(proposal.id, COUNCIL)
    assert (scheduled.status, scheduled.session_id) == (ProposalStatus.SCHEDULED, session.id)
    assert await world.service.list_proposals(SECRETARIAT, ProposalStatus.PROPOSED, None, 10) == []
    assert [type(e) for e in world.proposal_store.events()] == [contracts.SessionProposed]


def test_every_domain_event_maps_to_its_contract() -> None:
    samples = [
        events.SessionScheduled("s", "T", "engineers", NOW, 3, Decimal("1.00"), Decimal("2.00"), "CNY"),
        events.RegistrationConfirmed("s", "r", "org", "a@x", Decimal("1.00"), "CNY", True),
        events.RegistrationStatusChanged(
            "s", "r", None, "a@x", "cancelled", "confirmed", "ill", None, Decimal("5.00"), "CNY", "T"
        ),
        events.CreditHoursEarned(
            "s", "r", "org", "A", "a@x", Decimal("6.5"), (date(2026, 7, 1),), "T", date(2026, 7, 2)
        ),
        events.CertificateIssued("s", "r", "org", "A", "a@x", "CODE", Decimal("6.5"), date(2026, 7, 2), "T"),
        events.SessionProposed("PROP-P1", "T", "T/LEDA 001", "P1"),
    ]
    domain_types = {t for t in vars(events).values() if isinstance(t, type) and t.__module__ == events.__name__}
    assert domain_types == {type(e) for e in samples} == set(TO_CONTRACT.table)
    for event in samples:
        contract = TO_CONTRACT(event)
        assert contract is not None and contract.topic == "training.events"
        assert contract.model_dump(include={f.name for f in dataclasses.fields(event)}) == _plain(event)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


async def test_admitting_reads_the_session_alone_and_a_batch_moving_registrations_reads_them_all(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = await world.schedule(capacity=1)
    _, first = await world.service.register(sid, Register("Alice", "alice@org-a.example"), ALICE)
    repo, loads = world.service.repo, []
    get, get_summary = repo.get, repo.get_summary

    async def counted_get(session_id: str) -> Any:
        loads.append("all")
        return await get(session_id)

    async def counted_summary(session_id: str, **kw: Any) -> Any:
        loads.append("summary")
        return await get_summary(session_id, **kw)

    monkeypatch.setattr(repo, "get", counted_get)
    monkeypatch.setattr(repo, "get_summary", counted_summary)
    _, bob = await world.service.register(sid, Register("Bob", "bob@org-b.example", waitlist=True), BOB)
    assert loads == ["summary"]
    loads.clear()
    # A cancellation and an admission racing: one batch, one read with every registration, one write.
    version = world.sessions.docs[sid].version
    (_, cancelled), (session, anna) = await asyncio.gather(
        world.service.cancel(sid, first.id, None, ALICE),
        world.service.register(sid, Register("Anna", "anna@org-a.example", waitlist=True), ANNA),
    )
    assert loads == ["all", "summary"] and world.sessions.docs[sid].version == version + 1
    assert (cancelled.status, anna.status, session.place_in_line(anna)) == (S.CANCELLED, S.WAITLISTED, 1)
    _, offered = await world.service.registration_for(sid, bob.id, BOB)
    assert offered.status is S.OFFERED
    assert not world.service._need_registrations


def another_process(world: World) -> TrainingService:
    """A second replica of training on the same stores."""
    return TrainingService(
        SessionRepository(world.sessions, world.service.repo.registrations),
        ProposalRepository(world.proposal_store),
        world.standing,
        clock=world.clock,
        offer_for=timedelta(hours=24),
    )


async def test_admitting_starts_from_this_processs_last_write_without_reading_the_session(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = await world.schedule(capacity=3)
    await world.service.register(sid, Register("Alice", "alice@org-a.example"), ALICE)
    reads: list[str] = []
    get = world.sessions.get

    async def counted(doc_id: str) -> Any:
        reads.append(doc_id)
        return await get(doc_id)

    monkeypatch.setattr(world.sessions, "get", counted)
    _, anna = await world.service.register(sid, Register("Anna", "anna@org-a.example"), ANNA)
    _, bob = await world.service.register(sid, Register("Bob", "bob@org-b.example"), BOB)
    assert reads == [] and (anna.status, bob.status) == (S.CONFIRMED, S.CONFIRMED)
    assert world.sessions.docs[sid].state["held"] == 3
    assert [r.id for r in (await world.service.get(sid)).registrations][1:] == [anna.id, bob.id]


async def test_another_process_writing_first_makes_the_admission_decided_again_on_a_fresh_read(
    world: World,
) -> None:
    sid = await world.schedule(capacity=2)
    await world.service.register(sid, Register("Alice", "alice@org-a.example"), ALICE)  # this process: held 1
    other = another_process(world)
    await other.register(sid, Register("Bob", "bob@org-b.example"), BOB)  # the last place, elsewhere
    # This process's copy still shows a place left; its conditional write fails and it reads again.
    _, anna = await world.service.register(sid, Register("Anna", "anna@org-a.example", waitlist=True), ANNA)
    assert anna.status is S.WAITLISTED  # on its copy it would have been confirmed
    session = await world.service.summary(sid)
    assert (session.seats_left, session.waiting_count, session.place_in_line(anna)) == (0, 1, 1)
    with pytest.raises(Conflict, match="full"):
        await world.service.register(sid, Register("Carl", "carl@org-b.example"), BOB)
    confirmed = [r for r in (await world.service.get(sid)).registrations if r.status is S.CONFIRMED]
    assert len(confirmed) == 2


async def test_a_refusal_on_this_processs_copy_is_checked_on_a_fresh_read(world: World) -> None:
    sid = await world.schedule(capacity=1)
    _, alice = await world.service.register(sid, Register("Alice", "alice@org-a.example"), ALICE)
    # Another replica frees the place; this process's copy still says full.
    await another_process(world).cancel(sid, alice.id, "ill", ALICE)
    _, bob = await world.service.register(sid, Register("Bob", "bob@org-b.example"), BOB)
    assert bob.status is S.CONFIRMED
    # Refused on a fresh read too: the refusal stands (and changed nothing).
    version = world.sessions.docs[sid].version
    with pytest.raises(Conflict, match="full"):
        await world.service.register(sid, Register("Carl", "carl@org-b.example"), BOB)
    with pytest.raises(Conflict, match="registered for this session already"):
        await world.service.register(sid, Register("Bob", "bob@org-b.example", waitlist=True), BOB)
    assert world.sessions.docs[sid].version == version
    assert not world.service._need_fresh


async def test_admissions_in_flight_together_wait_to_share_a_write(world: World) -> None:
    sid = await world.schedule(capacity=11)
    world.service.gather_s = 0.5

    def register(name: str) -> Any:
        return asyncio.create_task(world.service.register(sid, Register(name, f"{name}@org-b.example"), BOB))

    version = world.sessions.docs[sid].version
    first = [register("a"), register("b")]  # in flight together: their write waits
    await asyncio.sleep(0.05)
    assert world.sessions.docs[sid].version == version and not any(t.done() for t in first)
    later = [register(name) for name in ("c", "d", "e")]  # arrive while it waits: they join its write
    await asyncio.gather(*first, *later)
    assert world.sessions.docs[sid].version == version + 1
    assert not world.service._admitting
    world.service.gather_s = 5.0
    _, alone = await asyncio.wait_for(world.service.register(sid, Register("Lone", "lone@org-b.example"), BOB), 2.0)
    assert alone.status is S.CONFIRMED  # nobody else in flight: written at once
