"""Licence-contract filing records: the deadline, the computed status, recording a filing, who reads.

Domain rules are checked directly; the use cases run on in-memory repositories with an injected
clock, so "overdue" is decided by the day the clock says, never by the machine's date.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance_common.auth import Principal, Role
from alliance_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from alliance_common.events import envelope_for
from alliance_common.testing import InMemoryStore
from alliance_contracts import licensing as contracts
from alliance_contracts.membership import MemberAdmitted
from licensing.adapters.pool_repository import PoolRepository
from licensing.adapters.repository import LicenceRepository
from licensing.adapters.royalty_repository import GroupRepository, RoyaltyRepository
from licensing.domain.filings import (
    FilingStatus,
    LicenceFiling,
    RoyaltyKind,
    add_months,
    covered_patents,
    filing_deadline,
)
from licensing.domain.model import Licence
from licensing.domain.patents import ChainSegment, LegalStatus, Patent, PatentOffice
from licensing.service_layer.filings import LicenceFilings
from licensing.service_layer.handlers import LicensingService
from licensing.service_layer.pool import ContributePatent, PoolService
from licensing.service_layer.royalties import RoyaltyService

SECRETARIAT = Principal("sec-1", frozenset({Role.SECRETARIAT}))
COUNCIL = Principal("council-1", frozenset({Role.COUNCIL}))
EXPERT = Principal("expert@independent.example", frozenset({Role.EXPERT}), org_id="university-9")
AGENCY = Principal("agency-demo", frozenset({Role.AGENCY}), scopes=frozenset({"licence-filings:read"}), kind="machine")


def licensee_of(org: str) -> Principal:
    return Principal(f"finance@{org}.example", frozenset({Role.LICENSEE}), org_id=org)


def admin_of(org: str) -> Principal:
    return Principal(f"ip@{org}.example", frozenset({Role.MEMBER_ADMIN}), org_id=org)


# --- the deadline ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "deadline"),
    [
        (date(2027, 1, 1), date(2027, 4, 1)),
        (date(2026, 11, 30), date(2027, 2, 28)),  # no 30 February: the month's last day
        (date(2027, 11, 30), date(2028, 2, 29)),  # a leap year
        (date(2027, 3, 31), date(2027, 6, 30)),
        (date(2027, 10, 15), date(2028, 1, 15)),  # across the year
    ],
)
def test_the_filing_deadline_is_three_calendar_months_after_taking_effect(effective: date, deadline: date) -> None:
    assert filing_deadline(effective) == deadline


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 9, 30)), st.integers(0, 24))
def test_adding_months_keeps_the_day_or_takes_the_months_last(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == day.day or (later.day < day.day and (later + timedelta(days=1)).day == 1)


def granted(number: str, owner: str, *, grant: date = date(2015, 6, 1), expiry: date = date(2032, 1, 10)) -> Patent:
    return Patent(
        id=f"id-{number}",
        owner_id=owner,
        office=PatentOffice.CN,
        number=number,
        family_id=f"F-{number}",
        title=f"Patent {number}",
        filing_date=date(2012, 1, 10),
        expiry_date=expiry,
        status=LegalStatus.GRANTED,
        segment=ChainSegment.CHIP,
        grant_date=grant,
    )


def record_of(effective: date = date(2027, 1, 1), **changes: object) -> LicenceFiling:
    filing = LicenceFiling.open(
        signed_on=date(2026, 12, 15),
        effective_on=effective,
        listed=[granted("CN2B", "org-b"), granted("CN1B", "org-a"), granted("CN3B", "org-a", expiry=date(2034, 3, 1))],
        names={"org-a": "Org A Optoelectronics"},
        territory=("VN", "CN"),
        term_until=None,
        royalty_kind=RoyaltyKind.RUNNING_ROYALTY_PER_UNIT,
    )
    return replace(filing, **changes)  # type: ignore[arg-type]


def test_a_record_names_each_licensor_once_with_its_patents_and_the_term_runs_to_the_last_expiry() -> None:
    filing = record_of()
    assert [(x.org_id, x.name, x.patents) for x in filing.licensors] == [
        ("org-a", "Org A Optoelectronics", 2),
        ("org-b", None, 1),  # a holder licensing does not know the name of: None, never made up
    ]
    assert [p.number for p in filing.patents] == ["CN1B", "CN2B", "CN3B"]
    assert filing.territory == ("CN", "VN")
    assert (filing.deadline, filing.term_until) == (date(2027, 4, 1), date(2034, 3, 1))


def test_only_patents_in_force_when_the_licence_takes_effect_are_licensed() -> None:
    listed = [
        granted("CN1B", "org-a"),
        granted("CN2B", "org-a", expiry=date(2026, 12, 31)),  # expired the day before
        granted("CN3B", "org-b", grant=date(2027, 2, 1)),  # not granted yet
    ]
    assert [p.number for p in covered_patents(listed, date(2027, 1, 1))] == ["CN1B"]


def test_a_stated_term_must_end_after_the_licence_takes_effect() -> None:
    with pytest.raises(InvalidInput) as refused:
        LicenceFiling.open(
            signed_on=date(2026, 12, 15),
            effective_on=date(2027, 1, 1),
            listed=[],
            names={},
            territory=(),
            term_until=date(2027, 1, 1),
            royalty_kind=RoyaltyKind.LUMP_SUM,
        )
    assert refused.value.field == "term_until"


def test_status_is_pending_through_the_deadline_day_and_overdue_the_day_after() -> None:
    filing = record_of()
    assert filing.status(date(2027, 1, 5)) is FilingStatus.PENDING
    assert filing.status(date(2027, 4, 1)) is FilingStatus.PENDING
    assert filing.days_left(date(2027, 4, 1)) == 0
    assert filing.status(date(2027, 4, 2)) is FilingStatus.OVERDUE
    assert filing.days_left(date(2027, 4, 2)) == -1


def test_recording_the_filing_makes_it_filed_for_ever_and_says_whether_late() -> None:
    now = datetime(2027, 5, 3, 8, tzinfo=UTC)
    in_time = record_of().record(" 2027990000123 ", date(2027, 3, 30), "sec-1", now)
    assert (in_time.filing_number, in_time.filed_late, in_time.status(date(2040, 1, 1))) == (
        "2027990000123",
        False,
        FilingStatus.FILED,
    )
    assert in_time.days_left(now.date()) is None
    late = record_of().record("2027990000999", date(2027, 4, 2), "sec-1", now)
    assert late.filed_late is True and late.status(now.date()) is FilingStatus.FILED


@pytest.mark.parametrize(
    ("number", "filed_on", "field"),
    [
        ("   ", date(2027, 3, 1), "filing_number"),
        ("2027990000123", date(2027, 5, 4), "filed_on"),  # tomorrow
        ("2027990000123", date(2026, 12, 14), "filed_on"),  # before it was signed
    ],
)
def test_a_bad_filing_is_refused_naming_the_field_and_changes_nothing(number: str, filed_on: date, field: str) -> None:
    filing = record_of()
    with pytest.raises(InvalidInput) as refused:
        filing.record(number, filed_on, "sec-1", datetime(2027, 5, 3, 8, tzinfo=UTC))
    assert refused.value.field == field
    assert filing.filed_on is None and filing.filing_number is None


def test_a_filing_is_recorded_once() -> None:
    now = datetime(2027, 5, 3, 8, tzinfo=UTC)
    filed = record_of().record("2027990000123", date(2027, 3, 30), "sec-1", now)
    with pytest.raises(Conflict):
        filed.record("2027990000124", date(2027, 3, 31), "sec-1", now)


# --- the use cases -----------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class World:
    def __init__(self) -> None:
        self.clock = Clock(datetime(2027, 1, 10, 9, tzinfo=UTC))
        self.licences_store = InMemoryStore("licences")
        licences = LicenceRepository(self.licences_store)
        pool_repo = PoolRepository(InMemoryStore("patents"), InMemoryStore("programmes"), InMemoryStore("submissions"))
        royalty_repo = RoyaltyRepository(InMemoryStore("a"), InMemoryStore("d"), InMemoryStore("l"))
        self.licensing = LicensingService(licences, self.clock)
        self.pool = PoolService(pool_repo, self.clock)
        self.royalties = RoyaltyService(
            pool_repo, licences, royalty_repo, GroupRepository(InMemoryStore("g")), self.clock
        )
        self.filings = LicenceFilings(licences, self.clock)

    async def admit(self, org: str, name: str) -> None:
        event = MemberAdmitted(
            member_id=org,
            name=name,
            membership_number="M1",
            credit_code="c",
            org_type="enterprise",
            segments=["chip"],
            region="Fujian",
            tier="ordinary_member",
            admitted_at=self.clock.now,
        )
        envelope = envelope_for(event, source="membership", subject=org)
        await self.licensing.on_member_admitted(envelope, event)

    async def list_patent(self, programme_id: str, owner: str, number: str) -> None:
        patent = await self.pool.contribute(
            ContributePatent(
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
            ),
            admin_of(owner),
        )
        submission = await self.pool.submit(programme_id, patent.id, admin_of(owner))
        await self.pool.assign(submission.id, EXPERT.subject, EXPERT.org_id, SECRETARIAT)
        await self.pool.record(submission.id, "essential", "Claim 1 reads on clause 4.3.", EXPERT)


@pytest.fixture
async def world() -> World:
    w = World()
    await w.admit("org-a", "Org A Optoelectronics")
    return w


async def signed(world: World, licensee: str, effective: date) -> str:
    programme = await world.pool.create_programme("White LED pool", "T/LEDA 002-2026", "d", SECRETARIAT)
    await world.list_patent(programme.id, "org-a", f"CN{licensee}1B")
    licence = await world.royalties.sign_licence(
        programme.id, licensee, f"{licensee} Ltd.", effective, ("CN",), SECRETARIAT, royalty_kind=RoyaltyKind.LUMP_SUM
    )
    return licence.id


async def test_signing_a_licence_opens_its_filing_record_with_the_licensors_named(world: World) -> None:
    licence_id = await signed(world, "acme", date(2027, 1, 1))
    licence = await world.filings.get_for(licence_id, SECRETARIAT)
    assert licence.filing is not None
    assert [(x.org_id, x.name, x.patents) for x in licence.filing.licensors] == [("org-a", "Org A Optoelectronics", 1)]
    assert (licence.filing.royalty_kind, licence.filing.deadline) == (RoyaltyKind.LUMP_SUM, date(2027, 4, 1))
    assert licence.filing.status(world.filings.today()) is FilingStatus.PENDING


async def test_overdue_is_listed_from_the_clocks_today_and_recording_files_it(world: World) -> None:
    early = await signed(world, "acme", date(2026, 9, 1))  # deadline 2026-12-01: overdue on 2027-01-10
    on_time = await signed(world, "beta", date(2027, 1, 1))  # deadline 2027-04-01
    ids = lambda xs: [x.id for x in xs]  # noqa: E731
    assert ids(await world.filings.list_for(SECRETARIAT, FilingStatus.OVERDUE, None, None, 50)) == [early]
    assert ids(await world.filings.list_for(SECRETARIAT, FilingStatus.PENDING, None, None, 50)) == [on_time]

    world.clock.now = datetime(2027, 4, 2, 0, 30, tzinfo=UTC)  # the day after beta's deadline
    assert ids(await world.filings.list_for(SECRETARIAT, FilingStatus.OVERDUE, None, None, 50)) == sorted(
        [early, on_time]
    )

    await world.filings.record(early, "2027990000123", date(2027, 3, 1), SECRETARIAT)
    assert ids(await world.filings.list_for(SECRETARIAT, FilingStatus.OVERDUE, None, None, 50)) == [on_time]
    assert ids(await world.filings.list_for(SECRETARIAT, FilingStatus.FILED, None, None, 50)) == [early]
    assert len(await world.filings.list_for(SECRETARIAT, None, None, None, 50)) == 2
    recorded = [e for e in world.licences_store.events() if isinstance(e, contracts.LicenceFilingRecorded)]
    assert [(e.licence_id, e.filing_number, e.filed_late, e.licensors, e.patents) for e in recorded] == [
        (early, "2027990000123", True, ["org-a"], 1)
    ]


async def test_who_reads_and_who_records(world: World) -> None:
    acme = await signed(world, "acme", date(2027, 1, 1))
    beta = await signed(world, "beta", date(2027, 1, 1))
    for reader in (SECRETARIAT, COUNCIL, AGENCY):
        assert len(await world.filings.list_for(reader, None, None, None, 50)) == 2
        assert (await world.filings.get_for(beta, reader)).id == beta
    assert [x.id for x in await world.filings.list_for(licensee_of("acme"), None, None, None, 50)] == [acme]
    assert (await world.filings.get_for(acme, licensee_of("acme"))).id == acme
    with pytest.raises(NotFound):  # another licensee's record is not even visible
        await world.filings.get_for(beta, licensee_of("acme"))
    with pytest.raises(Forbidden) as refused:
        await world.filings.list_for(licensee_of("acme"), None, "beta", None, 50)
    assert refused.value.field == "licensee_id"
    with pytest.raises(Forbidden):  # an expert belongs to no licensee
        await world.filings.list_for(Principal("x@y", frozenset({Role.EXPERT})), None, None, None, 50)
    for not_secretariat in (COUNCIL, licensee_of("acme"), AGENCY):
        with pytest.raises(Forbidden):
            await world.filings.record(acme, "2027990000123", date(2027, 1, 5), not_secretariat)
    licence = await world.filings.get_for(acme, SECRETARIAT)
    assert licence.filing is not None and licence.filing.filed_on is None


async def test_the_cross_licence_has_no_filing_record(world: World) -> None:
    with pytest.raises(NotFound):
        await world.filings.get_for("XL-org-a", SECRETARIAT)
    assert await world.filings.list_for(SECRETARIAT, None, None, None, 50) == []


# --- telling an overdue filing, once ---------------------------------------------------------------


def test_an_overdue_unfiled_record_is_told_once_and_a_filed_or_pending_one_never() -> None:
    filing = record_of()  # deadline 2027-04-01
    assert not filing.overdue_untold(date(2027, 4, 1))  # the deadline day is still in time
    assert filing.overdue_untold(date(2027, 4, 2))
    now = datetime(2027, 4, 2, 3, tzinfo=UTC)
    told = filing.overdue_told(now)
    assert told.overdue_noticed_at == now and not told.overdue_untold(date(2027, 5, 1))
    with pytest.raises(Conflict):
        told.overdue_told(now)
    with pytest.raises(Conflict):
        filing.overdue_told(datetime(2027, 3, 1, tzinfo=UTC))
    filed = filing.record("2027990000001", date(2027, 4, 5), "sec-1", datetime(2027, 4, 6, tzinfo=UTC))
    assert not filed.overdue_untold(date(2027, 5, 1))


async def test_the_deadline_check_tells_each_overdue_contract_once_with_its_event(world: World) -> None:
    late = await signed(world, "acme", date(2026, 9, 1))  # deadline 2026-12-01: overdue on 2027-01-10
    await signed(world, "beta", date(2027, 1, 1))  # deadline 2027-04-01: pending
    filed = await signed(world, "gamma", date(2026, 9, 1))
    await world.filings.record(filed, "2027990000777", date(2027, 1, 10), SECRETARIAT)  # filed (late)

    assert await world.filings.tell_overdue() == 1
    assert await world.filings.tell_overdue() == 0  # the same deadline, again: nothing
    overdue = [e for e in world.licences_store.events() if isinstance(e, contracts.LicenceFilingOverdue)]
    assert [(e.licence_id, e.licensee_id, e.licensee_name, e.deadline, e.effective_on) for e in overdue] == [
        (late, "acme", "acme Ltd.", date(2026, 12, 1), date(2026, 9, 1))
    ]
    assert overdue[0].noticed_at == world.clock.now
    licence = await world.filings.get_for(late, SECRETARIAT)
    assert licence.filing is not None and licence.filing.overdue_noticed_at == world.clock.now
    assert licence.filing.status(world.filings.today()) is FilingStatus.OVERDUE  # still overdue, told once

    world.clock.now = datetime(2027, 4, 2, 0, 1, tzinfo=UTC)  # beta's deadline passed overnight
    assert await world.filings.tell_overdue() == 1
    overdue = [e for e in world.licences_store.events() if isinstance(e, contracts.LicenceFilingOverdue)]
    assert [e.licensee_id for e in overdue] == ["acme", "beta"]


class RacingRepository(LicenceRepository):
    """A replica's repository whose read of the overdue records is followed, before it writes, by
    another replica's whole run (the race two replicas of licensing run every hour)."""

    other: LicenceFilings | None = None

    async def overdue_untold(self, today: date, after: str | None, limit: int) -> list[Licence]:
        found = await super().overdue_untold(today, after, limit)
        if self.other is not None:
            other, self.other = self.other, None
            assert await other.tell_overdue() == len(found)
        return found


async def test_two_replicas_racing_tell_an_overdue_contract_once(world: World) -> None:
    first = await signed(world, "acme", date(2026, 9, 1))
    second = await signed(world, "beta", date(2026, 8, 1))
    racing = RacingRepository(world.licences_store, remember=0)
    racing.other = LicenceFilings(LicenceRepository(world.licences_store, remember=0), world.clock)
    mine = LicenceFilings(racing, world.clock)
    assert await mine.tell_overdue() == 0  # the other replica told both first; this one's writes lost
    overdue = [e for e in world.licences_store.events() if isinstance(e, contracts.LicenceFilingOverdue)]
    assert sorted(e.licence_id for e in overdue) == sorted([first, second])
    assert await mine.tell_overdue() == 0
