"""Licensing's use cases and their authorisation, on in-memory repositories (no infrastructure).

The services are built as ``bootstrap`` builds them, with the shared repository base over
``InMemoryStore`` instead of MongoDB; what the relay would publish is in each store's ``published``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alliance_common.auth import Principal, Role
from alliance_common.errors import Forbidden, InvalidInput, NotFound
from alliance_common.events import Envelope, envelope_for
from alliance_common.outbox import Loaded
from alliance_common.testing import InMemoryStore
from alliance_contracts import licensing as contracts
from alliance_contracts.membership import MemberAdmitted, MemberReinstated, MemberSuspended
from licensing.adapters.pool_repository import PoolRepository
from licensing.adapters.repository import LicenceRepository
from licensing.adapters.royalty_repository import GroupRepository, RoyaltyRepository
from licensing.domain.patents import ChainSegment, LegalStatus, PatentOffice
from licensing.domain.pool import SubmissionStatus
from licensing.domain.royalties import Period, RateSchedule, ReportLine, Tier
from licensing.service_layer.handlers import LicensingService
from licensing.service_layer.pool import ContributePatent, PoolService
from licensing.service_layer.royalties import RoyaltyService

NOW = datetime(2025, 4, 10, 9, 0, tzinfo=UTC)  # 2025-Q1 has ended: it can be reported and distributed
Q1 = Period(2025, 1)
SECRETARIAT = Principal("sec-1", frozenset({Role.SECRETARIAT}))
EXPERT = Principal("expert@independent.example", frozenset({Role.EXPERT}), org_id="university-9")


def admin_of(org: str) -> Principal:
    return Principal(f"ip@{org}.example", frozenset({Role.MEMBER_ADMIN}), org_id=org)


def licensee_of(org: str) -> Principal:
    return Principal(f"finance@{org}.example", frozenset({Role.LICENSEE}), org_id=org)


@dataclass
class World:
    stores: dict[str, InMemoryStore]
    licensing: LicensingService
    pool: PoolService
    royalties: RoyaltyService

    def published(self, store: str) -> list[object]:
        return self.stores[store].events()


@pytest.fixture
def world() -> World:
    names = (
        "licences",
        "patents",
        "programmes",
        "submissions",
        "royalty_accounts",
        "distributions",
        "royalty_lines",
        "groups",
    )
    stores = {name: InMemoryStore(name) for name in names}
    licences = LicenceRepository(stores["licences"])
    pool_repo = PoolRepository(stores["patents"], stores["programmes"], stores["submissions"])
    royalty_repo = RoyaltyRepository(stores["royalty_accounts"], stores["distributions"], stores["royalty_lines"])
    groups = GroupRepository(stores["groups"])
    clock = lambda: NOW  # noqa: E731
    return World(
        stores,
        LicensingService(licences, clock),
        PoolService(pool_repo, clock),
        RoyaltyService(pool_repo, licences, royalty_repo, groups, clock),
    )


def patent_of(owner: str, number: str) -> ContributePatent:
    return ContributePatent(
        office=PatentOffice.CN,
        number=number,
        family_id=f"F-{number}",
        title="Phosphor-converted white LED",
        filing_date=date(2012, 1, 10),
        expiry_date=date(2032, 1, 10),
        status=LegalStatus.GRANTED,
        segment=ChainSegment.PACKAGING,
        grant_date=date(2015, 6, 1),
        validated_in=frozenset(),
        owner_id=owner,
    )


async def listed(world: World, programme_id: str, owner: str, number: str) -> str:
    patent = await world.pool.contribute(patent_of(owner, number), admin_of(owner))
    submission = await world.pool.submit(programme_id, patent.id, admin_of(owner))
    await world.pool.assign(submission.id, EXPERT.subject, EXPERT.org_id, SECRETARIAT)
    done = await world.pool.record(submission.id, "essential", "Claim 1 reads on clause 4.3.", EXPERT)
    assert done.status is SubmissionStatus.ESSENTIAL
    return patent.id


async def programme_with_rates(world: World) -> str:
    programme = await world.pool.create_programme("White LED pool", "T/LEDA 002-2026", "d", SECRETARIAT)
    schedule = RateSchedule(
        programme=programme.name,
        categories={"led_package": (Tier(None, Decimal("0.0100"), Decimal("0.0080")),)},
    )
    await world.royalties.publish_schedule(programme.id, schedule, Decimal("10"), Decimal("6"), SECRETARIAT)
    return programme.id


def lines(units: int) -> list[ReportLine]:
    return [ReportLine("led_package", units, "CN", "CN", Q1)]


# --- patents and evaluation ----------------------------------------------------------------------


async def test_a_member_contributes_and_submits_its_own_patent_only(world: World) -> None:
    programme = await world.pool.create_programme("LED pool", "T/LEDA 1", "d", SECRETARIAT)
    patent = await world.pool.contribute(patent_of("org-a", "CN100001B"), admin_of("org-a"))
    with pytest.raises(Forbidden):  # contributing for another organisation
        await world.pool.contribute(patent_of("org-a", "CN100002B"), admin_of("org-b"))
    with pytest.raises(NotFound):  # another member's patent is not even visible
        await world.pool.submit(programme.id, patent.id, admin_of("org-b"))
    with pytest.raises(NotFound):
        await world.pool.patent_for(patent.id, admin_of("org-b"))

    submission = await world.pool.submit(programme.id, patent.id, admin_of("org-a"))
    assert (submission.status, submission.owner_id) == (SubmissionStatus.AWAITING_EVALUATOR, "org-a")
    assert [type(e) for e in world.published("patents")] == [contracts.PatentContributed]
    assert [type(e) for e in world.published("submissions")] == [contracts.PatentSubmitted]
    assert [p.id for p in await world.pool.patents_for(admin_of("org-a"), None, 50)] == [patent.id]
    assert await world.pool.patents_for(admin_of("org-b"), None, 50) == []
    assert [s.id for s in await world.pool.submissions_for(admin_of("org-a"), None, None, 50)] == [submission.id]
    assert await world.pool.submissions_for(admin_of("org-b"), None, None, 50) == []


async def test_an_evaluator_is_never_from_the_owners_organisation(world: World) -> None:
    programme = await world.pool.create_programme("LED pool", "T/LEDA 1", "d", SECRETARIAT)
    patent = await world.pool.contribute(patent_of("org-a", "CN100001B"), admin_of("org-a"))
    submission = await world.pool.submit(programme.id, patent.id, admin_of("org-a"))

    with pytest.raises(InvalidInput):  # the secretariat cannot assign an expert of the owner
        await world.pool.assign(submission.id, "insider@org-a.example", "org-a", SECRETARIAT)
    with pytest.raises(Forbidden):  # nor may anyone but the secretariat assign
        await world.pool.assign(submission.id, EXPERT.subject, EXPERT.org_id, admin_of("org-a"))
    unchanged = await world.pool.submission_for(submission.id, SECRETARIAT)
    assert (unchanged.status, unchanged.assignment) == (SubmissionStatus.AWAITING_EVALUATOR, None)

    await world.pool.assign(submission.id, EXPERT.subject, EXPERT.org_id, SECRETARIAT)
    other_expert = Principal("someone@else.example", frozenset({Role.EXPERT}), org_id="university-2")
    with pytest.raises(NotFound):  # only the assigned expert records, and sees, the evaluation
        await world.pool.record(submission.id, "essential", "reads on 4.3", other_expert)
    assert await world.pool.submissions_for(other_expert, None, None, 50) == []
    assert (await world.pool.patent_for(patent.id, EXPERT)).id == patent.id

    done = await world.pool.record(submission.id, "not_essential", "no claim reads on the standard", EXPERT)
    assert done.status is SubmissionStatus.NOT_ESSENTIAL
    assert [type(e) for e in world.published("submissions")][-2:] == [
        contracts.EvaluatorAssigned,
        contracts.PatentEvaluated,
    ]


async def test_an_expert_of_the_owners_organisation_cannot_record_even_if_assigned_by_name(world: World) -> None:
    programme = await world.pool.create_programme("LED pool", "T/LEDA 1", "d", SECRETARIAT)
    patent = await world.pool.contribute(patent_of("org-a", "CN100001B"), admin_of("org-a"))
    submission = await world.pool.submit(programme.id, patent.id, admin_of("org-a"))
    await world.pool.assign(submission.id, "dual@org-a.example", None, SECRETARIAT)  # organisation not given
    insider = Principal("dual@org-a.example", frozenset({Role.EXPERT}), org_id="org-a")
    with pytest.raises(Forbidden):
        await world.pool.record(submission.id, "essential", "mine", insider)
    still = await world.pool.submission_for(submission.id, SECRETARIAT)
    assert still.status is SubmissionStatus.UNDER_EVALUATION and still.evaluation is None


# --- royalties -----------------------------------------------------------------------------------


async def test_a_royalty_report_is_filed_and_read_by_its_licensee_only(world: World) -> None:
    programme_id = await programme_with_rates(world)
    await listed(world, programme_id, "org-a", "CN100001B")
    with pytest.raises(Forbidden):  # no licence yet
        await world.royalties.file(programme_id, Q1, lines(1000), licensee_of("acme"))
    await world.royalties.sign_licence(programme_id, "acme", "Acme", date(2025, 1, 1), (), SECRETARIAT)
    with pytest.raises(Forbidden):  # only the secretariat names another filer
        await world.royalties.file(programme_id, Q1, lines(1000), licensee_of("acme"), filed_by="rival")

    account, report = await world.royalties.file(programme_id, Q1, lines(1000), licensee_of("acme"))
    assert (account.licensee_id, report.total) == ("acme", Decimal("8.00"))  # 1,000 units at the compliant rate
    reported = world.published("royalty_accounts")
    assert [type(e) for e in reported] == [contracts.RoyaltyReported]

    assert (await world.royalties.report_for(report.id, licensee_of("acme")))[1].id == report.id
    with pytest.raises(NotFound):  # another licensee is told the report does not exist
        await world.royalties.report_for(report.id, licensee_of("rival"))
    with pytest.raises(NotFound):
        await world.royalties.report_for(report.id, admin_of("org-a"))
    mine, _ = await world.royalties.reports_for(licensee_of("acme"), None)
    assert [r.id for _, r in mine] == [report.id]
    assert (await world.royalties.reports_for(licensee_of("rival"), None))[0] == []
    everything, _ = await world.royalties.reports_for(SECRETARIAT, programme_id)
    assert [r.id for _, r in everything] == [report.id]


async def test_a_licensor_sees_only_its_own_distribution_statement(world: World) -> None:
    programme_id = await programme_with_rates(world)
    await listed(world, programme_id, "org-a", "CN100001B")
    await listed(world, programme_id, "org-b", "CN100002B")
    await world.royalties.sign_licence(programme_id, "acme", "Acme", date(2025, 1, 1), (), SECRETARIAT)
    _, report = await world.royalties.file(programme_id, Q1, lines(1000), licensee_of("acme"))
    with pytest.raises(Forbidden):
        await world.royalties.pay(report.id, report.total, NOW.date(), licensee_of("acme"))
    await world.royalties.pay(report.id, report.total, NOW.date(), SECRETARIAT)
    with pytest.raises(Forbidden):
        await world.royalties.distribute(programme_id, Q1, admin_of("org-a"))

    distribution_id, doc = await world.royalties.distribute(programme_id, Q1, SECRETARIAT)
    assert {s["licensor_id"] for s in doc["statements"]} == {"org-a", "org-b"}
    assert sum(Decimal(s["amount"]) for s in doc["statements"]) == Decimal(doc["distributable"])
    event = world.published("distributions")[-1]
    assert isinstance(event, contracts.RoyaltiesDistributed) and event.distribution_id == distribution_id

    seen_by_a = await world.royalties.statements_for(admin_of("org-a"), None)
    assert [[s["licensor_id"] for s in d["statements"]] for d in seen_by_a] == [["org-a"]]
    assert await world.royalties.statements_for(licensee_of("acme"), None) == []
    staff = await world.royalties.statements_for(SECRETARIAT, programme_id)
    assert len(staff[0]["statements"]) == 2


# --- the cross-licence follows membership standing -----------------------------------------------


def delivered(event: MemberAdmitted | MemberSuspended | MemberReinstated) -> Envelope:
    return envelope_for(event, source="membership", subject=event.member_id)


async def test_the_cross_licence_follows_standing_once_per_event_and_only_its_member_reads_it(world: World) -> None:
    admitted = delivered(
        MemberAdmitted(
            member_id="org-a",
            name="Org A",
            membership_number="M2025-00001",
            credit_code="c",
            org_type="enterprise",
            segments=["chip"],
            region="Fujian",
            tier="ordinary_member",
            admitted_at=NOW,
        )
    )
    await world.licensing.on_member_admitted(admitted, MemberAdmitted.model_validate(admitted.data))
    await world.licensing.on_member_admitted(admitted, MemberAdmitted.model_validate(admitted.data))  # redelivered
    suspended = delivered(MemberSuspended(member_id="org-a", reason="unpaid dues", suspended_at=NOW))
    await world.licensing.on_member_standing(suspended, MemberSuspended.model_validate(suspended.data))
    await world.licensing.on_member_standing(suspended, MemberSuspended.model_validate(suspended.data))

    assert [type(e) for e in world.published("licences")] == [contracts.LicenceGranted, contracts.LicenceSuspended]
    licence = await world.licensing.get_for("XL-org-a", admin_of("org-a"))
    assert not licence.in_force
    with pytest.raises(NotFound):
        await world.licensing.get_for("XL-org-a", admin_of("org-b"))
    assert await world.licensing.list_for(admin_of("org-b"), None, 50, None) == []
    assert [x.id for x in await world.licensing.list_for(SECRETARIAT, None, 50, "org-a")] == ["XL-org-a"]


class CountingStore(InMemoryStore):
    """The in-memory store, counting its reads by id."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.reads = 0

    async def get(self, doc_id: str) -> Loaded | None:
        self.reads += 1
        return await super().get(doc_id)


async def test_two_replicas_apply_each_standing_event_once_though_each_remembers_the_licence() -> None:
    """Each event's read comes from the replica's memory; a write by the other replica meanwhile
    makes the remembered version stale, so that write conflicts and the licence is read again."""
    store = CountingStore("licences")
    one, two = (LicensingService(LicenceRepository(store), lambda: NOW) for _ in range(2))
    admitted = delivered(
        MemberAdmitted(
            member_id="org-a",
            name="Org A",
            membership_number="M2025-00001",
            credit_code="c",
            org_type="enterprise",
            segments=["chip"],
            region="Fujian",
            tier="ordinary_member",
            admitted_at=NOW,
        )
    )
    await one.on_member_admitted(admitted, MemberAdmitted.model_validate(admitted.data))
    reads = store.reads

    suspended = delivered(MemberSuspended(member_id="org-a", reason="unpaid dues", suspended_at=NOW))
    await one.on_member_standing(suspended, MemberSuspended.model_validate(suspended.data))
    assert store.reads == reads  # the licence as replica one wrote it: the write is the only round trip

    # Replica two (a rebalance) gets the suspension again, then a reinstatement.
    await two.on_member_standing(suspended, MemberSuspended.model_validate(suspended.data))
    reinstated = delivered(MemberReinstated(member_id="org-a", reinstated_at=NOW))
    await two.on_member_standing(reinstated, MemberReinstated.model_validate(reinstated.data))
    # Replica one still remembers the suspended licence; it is redelivered both events.
    await one.on_member_standing(suspended, MemberSuspended.model_validate(suspended.data))
    await one.on_member_standing(reinstated, MemberReinstated.model_validate(reinstated.data))

    assert [type(p.event) for p in store.published] == [
        contracts.LicenceGranted,
        contracts.LicenceSuspended,
        contracts.LicenceRestored,
    ]
    stored = store.docs["XL-org-a"]
    assert stored.applied_events == [admitted.id, suspended.id, reinstated.id]
    assert stored.version == 3
    assert [entry["action"] for entry in stored.state["history"]] == ["granted", "suspended", "restored"]
