"""Membership's use cases and their authorisation, on in-memory repositories (no infrastructure).

The service layer is built exactly as ``bootstrap`` builds it, with the shared repository base
over ``InMemoryStore`` instead of MongoDB; what the relay would publish is in ``store.published``.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from alliance_common.auth import Principal, Role
from alliance_common.errors import Conflict, Forbidden, NotFound
from alliance_common.outbox import Loaded
from alliance_common.pagination import encode_cursor
from alliance_common.testing import InMemoryStore
from alliance_contracts import membership as contracts
from membership.adapters.repository import OrganisationRepository
from membership.domain.credit_code import with_check_characters
from membership.domain.model import (
    ApplicationStatus,
    Contact,
    CouncilDecision,
    Organisation,
    OrgType,
    OrgUser,
    ReviewDecision,
    Segment,
    Tier,
    UserRole,
)
from membership.domain.standing import MembershipStatus
from membership.service_layer.handlers import Apply, MembershipService

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
SECRETARIAT = Principal("sec-1", frozenset({Role.SECRETARIAT}))
COUNCIL = Principal("council-1", frozenset({Role.COUNCIL}))
AGENCY = Principal("agency-1", frozenset({Role.AGENCY}), kind="machine", scopes=frozenset({"standards:read"}))


class InMemorySequences:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    async def next(self, name: str) -> int:
        self.values[name] += 1
        return self.values[name]


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore("organisations")


@pytest.fixture
def service(store: InMemoryStore) -> MembershipService:
    return MembershipService(OrganisationRepository(store, InMemorySequences()), clock=lambda: NOW)


def applicant(subject: str, org_id: str | None = None) -> Principal:
    return Principal(subject, frozenset({Role.MEMBER_ADMIN}), org_id=org_id)


def application(n: int) -> Apply:
    return Apply(
        name=f"Organisation {n}",
        credit_code=with_check_characters(f"91350100M0001{n:03d}"),
        org_type=OrgType.ENTERPRISE,
        segments=[Segment.CHIP],
        region="Fujian",
        tier=Tier.ORDINARY_MEMBER,
        contact=Contact(f"Person {n}", f"p{n}@example.com"),
    )


async def admitted_member(service: MembershipService, n: int) -> Organisation:
    org = await service.apply(application(n), applicant(f"p{n}@example.com"))
    await service.review(org.id, ReviewDecision.ACCEPT, None, SECRETARIAT)
    return await service.decide(org.id, CouncilDecision.ADMIT, None, COUNCIL)


async def test_apply_review_admit_publishes_and_numbers_the_member(
    service: MembershipService, store: InMemoryStore
) -> None:
    org = await service.apply(application(1), applicant("p1@example.com"), correlation_id="req-1")
    assert (org.status, org.version) == (ApplicationStatus.SUBMITTED, 1)
    reviewed = await service.review(org.id, ReviewDecision.ACCEPT, None, SECRETARIAT)
    assert reviewed.status is ApplicationStatus.ACCEPTED_FOR_DECISION
    member = await service.decide(org.id, CouncilDecision.ADMIT, "welcome", COUNCIL)

    assert (member.status, member.standing, member.membership_number) == (
        ApplicationStatus.ADMITTED,
        MembershipStatus.NEW,
        "M2025-00001",
    )
    assert [u.subject for u in member.users] == ["p1@example.com"]
    stored = await service.repo.get(org.id)
    assert stored == member and stored is not None and stored.version == 3
    assert [(type(p.event), p.subject, p.correlation_id) for p in store.published] == [
        (contracts.ApplicationSubmitted, org.id, "req-1"),
        (contracts.ApplicationDecided, org.id, None),
        (contracts.UserAdded, org.id, None),
        (contracts.MemberAdmitted, org.id, None),
    ]
    admitted = store.published[-1].event
    assert isinstance(admitted, contracts.MemberAdmitted)
    assert (admitted.membership_number, admitted.in_good_standing, admitted.status) == ("M2025-00001", True, "new")

    second = await admitted_member(service, 2)
    assert second.membership_number == "M2025-00002"


async def test_only_the_secretariat_reviews_and_only_the_council_decides(
    service: MembershipService, store: InMemoryStore
) -> None:
    org = await service.apply(application(1), applicant("p1@example.com"))
    with pytest.raises(Forbidden):
        await service.review(org.id, ReviewDecision.ACCEPT, None, COUNCIL)
    with pytest.raises(Forbidden):
        await service.review(org.id, ReviewDecision.ACCEPT, None, applicant("p1@example.com"))
    await service.review(org.id, ReviewDecision.ACCEPT, None, SECRETARIAT)
    with pytest.raises(Forbidden):
        await service.decide(org.id, CouncilDecision.ADMIT, None, SECRETARIAT)
    unchanged = await service.repo.get(org.id)
    assert unchanged is not None and (unchanged.status, unchanged.version) == (
        ApplicationStatus.ACCEPTED_FOR_DECISION,
        2,
    )
    assert len(store.published) == 1  # the application only: a refusal publishes nothing


async def test_a_member_reads_only_its_own_organisation(service: MembershipService) -> None:
    mine = await admitted_member(service, 1)
    other = await admitted_member(service, 2)
    me = applicant("p1@example.com", org_id=mine.id)

    assert (await service.get_for(mine.id, me)).id == mine.id
    with pytest.raises(NotFound):  # another member's record is reported as absent
        await service.get_for(other.id, me)
    with pytest.raises(NotFound):
        await service.get_for("no-such-org", me)
    assert [o.id for o in await service.list_for(me, None, 50, None)] == [mine.id]
    assert {o.id for o in await service.list_for(SECRETARIAT, None, 50, None)} == {mine.id, other.id}


async def test_an_applicant_sees_its_pending_application_before_it_has_an_organisation(
    service: MembershipService,
) -> None:
    pending = await service.apply(application(3), applicant("p3@example.com"))
    await admitted_member(service, 4)
    who = applicant("p3@example.com", org_id="pending")
    assert (await service.get_for(pending.id, who)).id == pending.id
    assert [o.id for o in await service.list_for(who, None, 50, None)] == [pending.id]
    assert await service.list_for(who, None, 50, ApplicationStatus.ADMITTED) == []


async def test_lists_are_paged_by_cursor_and_filtered_by_status(service: MembershipService) -> None:
    members = [await admitted_member(service, n) for n in range(1, 4)]
    pending = await service.apply(application(9), applicant("p9@example.com"))
    admitted = await service.list_for(SECRETARIAT, None, 50, ApplicationStatus.ADMITTED)
    assert {o.id for o in admitted} == {m.id for m in members}
    everyone = sorted([*(m.id for m in members), pending.id])
    first = await service.list_for(SECRETARIAT, None, 2, None)
    rest = await service.list_for(SECRETARIAT, encode_cursor(first[-1].id), 2, None)
    assert [o.id for o in first + rest] == everyone


async def test_machine_clients_are_read_only(service: MembershipService, store: InMemoryStore) -> None:
    member = await admitted_member(service, 1)
    published = len(store.published)
    machine_secretariat = Principal("robot", frozenset({Role.SECRETARIAT}), kind="machine")
    with pytest.raises(Forbidden):
        await service.apply(application(2), AGENCY)
    with pytest.raises(Forbidden):
        await service.suspend(member.id, "unpaid", machine_secretariat)
    with pytest.raises(Forbidden):
        await service.withdraw(member.id, None, machine_secretariat)
    with pytest.raises(Forbidden):
        await service.add_user(
            member.id, OrgUser("x", "X", "x@example.com", UserRole.MEMBER_STAFF), machine_secretariat
        )
    assert len(store.published) == published
    assert [o.id for o in await service.list_for(SECRETARIAT, None, 50, None)] == [member.id]
    with pytest.raises(NotFound):  # an agency has no organisation: it reads no member's record
        await service.get_for(member.id, AGENCY)


async def test_a_member_admin_manages_users_and_withdraws_only_its_own_organisation(
    service: MembershipService, store: InMemoryStore
) -> None:
    mine = await admitted_member(service, 1)
    other = await admitted_member(service, 2)
    me = applicant("p1@example.com", org_id=mine.id)
    colleague = OrgUser("c@example.com", "Colleague", "c@example.com", UserRole.MEMBER_STAFF)

    updated = await service.add_user(mine.id, colleague, me)
    assert [u.subject for u in updated.users] == ["p1@example.com", "c@example.com"]
    with pytest.raises(Forbidden):
        await service.add_user(other.id, colleague, me)
    staff = Principal("c@example.com", frozenset({Role.MEMBER_STAFF}), org_id=mine.id)
    with pytest.raises(Forbidden):
        await service.remove_user(mine.id, "p1@example.com", staff)
    with pytest.raises(Forbidden):
        await service.withdraw(other.id, "leaving", me)

    withdrawn = await service.withdraw(mine.id, "leaving", me)
    assert withdrawn.standing is MembershipStatus.WITHDRAWN
    assert isinstance(store.published[-1].event, contracts.MemberWithdrawn)
    still = await service.repo.get(other.id)
    assert still is not None and still.standing is MembershipStatus.NEW


async def test_the_daily_job_checks_every_admitted_member_and_publishes_each_change(
    service: MembershipService, store: InMemoryStore
) -> None:
    members = [await admitted_member(service, n) for n in range(1, 4)]
    await service.apply(application(9), applicant("p9@example.com"))  # not a member: not checked
    later = datetime(2026, 4, 15, tzinfo=UTC)  # past the period's end and its 30 days of grace
    service.clock = lambda: later
    published = len(store.published)

    assert await service.recalculate_all() == {"checked": 3, "changed": 3}
    changes = [p.event for p in store.published[published:] if isinstance(p.event, contracts.MemberStatusChanged)]
    assert sorted(e.member_id for e in changes) == sorted(m.id for m in members)
    assert {(e.new_status, e.in_good_standing) for e in changes} == {("expired", False)}
    assert await service.recalculate_all() == {"checked": 3, "changed": 0}
    with pytest.raises(Forbidden):
        await service.recalculate_all(principal=applicant("p1@example.com", org_id=members[0].id))


class CountingStore(InMemoryStore):
    """The in-memory store, counting its reads by id."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.reads = 0

    async def get(self, doc_id: str) -> Loaded | None:
        self.reads += 1
        return await super().get(doc_id)


async def test_a_change_from_memory_writes_once_and_a_stale_memory_never_decides() -> None:
    """Two replicas over one store: each remembers what it last read or wrote. A change is made on
    that memory (one write, no read); when the other replica wrote meanwhile, the memory neither
    wins the write (its version is stale) nor refuses the change on its old state."""
    store = CountingStore("organisations")
    one, two = (
        MembershipService(OrganisationRepository(store, InMemorySequences()), clock=lambda: NOW) for _ in range(2)
    )
    org = await admitted_member(one, 1)
    reads = store.reads
    await one.suspend(org.id, "dues unpaid", SECRETARIAT)
    assert store.reads == reads  # remembered: the versioned write was the only round trip

    await two.reinstate(org.id, "paid", SECRETARIAT)  # the other replica reads the store
    # Replica one remembers the member as suspended; suspending again on that would be refused.
    again = await one.suspend(org.id, "dues unpaid again", SECRETARIAT)
    assert store.reads == reads + 2  # after the refusal on old state: read from the store
    assert again.standing is MembershipStatus.SUSPENDED and again.version == 6
    assert [type(p.event) for p in store.published][-3:] == [
        contracts.MemberSuspended,
        contracts.MemberReinstated,
        contracts.MemberSuspended,
    ]
    with pytest.raises(Conflict):  # a refusal on the stored state still reaches the caller
        await one.suspend(org.id, "once more", SECRETARIAT)
