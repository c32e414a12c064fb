"""The statistics folds on an in-memory archive of realistic events (built with the contract models).

The story (``demo``) is small enough to count by hand; every expected figure below is worked out
in the comment beside it, never read back from the code under test.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from alliance_contracts import licensing as lic
from integration.adapters.memory import InMemoryArchive
from integration.domain.folding import Period, day_of, quarter_of
from integration.domain.tables import Table
from integration.service_layer.statistics import statistics

from .scenario import Timeline


def at(month: int, day: int, year: int = 2026, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def demo() -> Timeline:
    tl = Timeline()
    # Members.
    tl.at(at(1, 5)).admit("m1", "Xiamen Huaxing Epitaxy", tier="council_member", segments=("epitaxy", "chip"))
    tl.at(at(1, 6)).admit("m2", "Changzhou MOCVD Equipment", segments=("equipment",), region="CN-JS")
    tl.at(at(2, 1)).admit("m3", "Shenzhen Lumen Packaging", tier="observer", segments=("packaging",), region="CN-GD")
    tl.at(at(2, 10)).status("m1", "new", "current")
    tl.status("m2", "new", "current")
    tl.invoice("m1", "50000.00")
    tl.at(at(3, 1)).suspend("m3")
    tl.at(at(4, 1)).reinstate("m3", "current")
    tl.at(at(5, 1)).admit("m4", "Foshan Light Applications", segments=("application", "packaging"), region="CN-GD")
    tl.at(at(6, 1)).withdraw("m2")
    tl.at(at(7, 1)).expel("m4")
    # Patents and the pool.
    tl.at(at(1, 10)).programme("PG1", "LED lighting pool", "T/LEDA 001—2026")
    tl.at(at(1, 20)).patent("P1", "m1", "CN", segment="chip")
    tl.patent("P2", "m1", "US", segment="epitaxy")
    tl.patent("P3", "m3", "EP", segment="packaging", validated_in=("DE", "FR", "GB"))
    tl.patent("P4", "m3", "WO", segment="packaging", status="pending", granted=None)
    tl.patent("P5", "m1", "CN", segment="chip")
    tl.patent("P6", "m1", "JP", segment="chip", granted=date(2006, 3, 1), expiry=date(2026, 3, 1))
    tl.at(at(2, 15)).evaluate("P1", "m1", "PG1", essential=True)
    tl.evaluate("P2", "m1", "PG1", essential=False)
    tl.evaluate("P3", "m3", "PG1", essential=True)
    tl.evaluate("P5", "m1", "PG1", essential=True)
    tl.add(lic.PatentSubmitted(submission_id="S-P6", patent_id="P6", programme_id="PG1", owner_id="m1"), "S-P6")
    tl.at(at(6, 2)).legal_status("P5", "m1", "invalidated", date(2026, 6, 1))
    # Licences and royalties.
    tl.at(at(1, 5, hour=11)).licence("XL-m1", "m1", "internal_cross_licence", "alliance-internal")
    tl.at(at(1, 6, hour=11)).licence("XL-m2", "m2", "internal_cross_licence", "alliance-internal")
    tl.at(at(2, 1, hour=11)).licence("XL-m3", "m3", "internal_cross_licence", "alliance-internal")
    tl.at(at(3, 1, hour=11)).suspend_licence("XL-m3", "m3")
    tl.at(at(3, 5)).licence("L-1", "LIC-VN-SAIGON", "programme_licence", "PG1")
    tl.licence("L-2", "LIC-2", "programme_licence", "PG1")
    tl.licence("L-3", "LIC-3", "programme_licence", "PG1")
    tl.at(at(4, 15)).report("R1", "PG1", "LIC-VN-SAIGON", "2026-Q1", "1000.00")
    tl.report("R2", "PG1", "LIC-2", "2026-Q1", "2000.50")
    tl.report("R3", "PG1", "LIC-3", "2026-Q1", "300.25")
    tl.at(at(5, 10)).pay("R1", "PG1", "LIC-VN-SAIGON", "1000.00")
    tl.pay("R2", "PG1", "LIC-2", "2000.50", interest="5.10")
    tl.at(at(6, 20)).distribute("PG1", "2026-Q1", "3000.50", "300.05", {"m1": "1800.30", "m3": "900.15"})
    tl.at(at(7, 15)).report("R4", "PG1", "LIC-VN-SAIGON", "2026-Q2", "500.00")
    # Standards.
    tl.at(at(6, 1, year=2025)).propose("SP4", "LED driver efficiency", "m1")
    tl.at(at(6, 2, year=2025)).move("SP4", "proposed", "published", "publish")
    tl.publish("SP4", "T/LEDA 001—2025", "LED driver efficiency", commitments=("royalty_free",))
    tl.at(at(1, 10)).propose("SP1", "LED luminous efficacy", "m1")
    tl.at(at(1, 20)).move("SP1", "proposed", "accepted")
    tl.at(at(3, 20)).move("SP1", "accepted", "published", "publish")
    tl.publish("SP1", "T/LEDA 001—2026", "LED luminous efficacy", commitments=("frand", "frand", "royalty_free"))
    tl.at(at(2, 3)).propose("SP2", "Mini-LED backlight", "m3")
    tl.at(at(2, 20)).move("SP2", "proposed", "accepted")
    tl.at(at(3, 20)).move("SP2", "accepted", "working_draft")
    tl.vote_voided("SP2", "m3")
    tl.at(at(2, 4)).propose("SP3", "UV-C LED safety", "m1")
    tl.at(at(2, 25)).move("SP3", "proposed", "rejected", "reject_proposal")
    tl.at(at(9, 1)).move("SP4", "published", "withdrawn", "withdraw")
    tl.at(at(10, 1)).propose("SP5", "LED luminous efficacy (revision)", "m1", stage="working_group")
    # Training.
    tl.at(at(3, 1)).session("TS1", "LED reliability testing", at(4, 10, hour=1))
    tl.register("TS1", "r1", "a@m1.example")
    tl.register("TS1", "r2", "b@m1.example")
    tl.register("TS1", "r3", "c@m1.example")
    tl.at(at(4, 5)).cancel("TS1", "r3", "c@m1.example")
    tl.at(at(4, 11)).attend("TS1", "r1", "Lin Wei", "a@m1.example", "6.0", cert=True)
    tl.attend("TS1", "r2", "Wang Fang", "b@m1.example", "3.0", cert=False)
    tl.at(at(10, 1)).session("TS2", "Mini-LED process", at(11, 20, hour=1))
    tl.register("TS2", "r4", "d@m3.example", org="m3")
    return tl


YEAR = Period(date(2026, 12, 31))
Q2 = Period(date(2026, 6, 30), date(2026, 4, 1))


async def tables_of(topic: str, period: Period, tl: Timeline | None = None) -> dict[str, Table]:
    report = await statistics(InMemoryArchive((tl or demo()).events), topic, period)
    return {t.name: t for t in report.tables}


def rows(table: Table) -> dict[Any, tuple[Any, ...]]:
    """The rows keyed by their first cell, the rest as a tuple."""
    return {row[0]: tuple(row[1:]) for row in table.rows}


def nonzero(table: Table) -> dict[Any, Any]:
    return {row[0]: row[1] for row in table.rows if row[1]}


# --- members -------------------------------------------------------------------------------------


async def test_members_at_the_end_of_the_year() -> None:
    t = await tables_of("members", YEAR)
    # m1 current, m2 withdrew, m3 reinstated to current, m4 expelled.
    assert nonzero(t["members_by_status"]) == {"current": 2, "withdrawn": 1, "expelled": 1}
    assert [r[0] for r in t["members_by_status"].rows][:7] == [
        "new", "current", "grace", "expired", "suspended", "withdrawn", "expelled"
    ]  # fmt: skip
    # Members now: m1 (council, epitaxy+chip, CN-FJ) and m3 (observer, packaging, CN-GD).
    assert nonzero(t["members_by_tier"]) == {"council_member": 1, "observer": 1}
    assert nonzero(t["members_by_segment"]) == {"epitaxy": 1, "chip": 1, "packaging": 1}
    assert dict(t["members_by_region"].rows) == {"CN-FJ": 1, "CN-GD": 1}
    # From the beginning: 4 admitted, 1 withdrew, 1 expelled, 2 left.
    assert t["admissions_and_departures"].rows == [(None, date(2026, 12, 31), 0, 4, 1, 1, 2)]


async def test_members_as_of_a_past_date() -> None:
    t = await tables_of("members", Period(date(2026, 3, 15)))
    # m1, m2 current since 10 February; m3 suspended on 1 March; m4 not yet admitted.
    assert nonzero(t["members_by_status"]) == {"current": 2, "suspended": 1}
    assert nonzero(t["members_by_tier"]) == {"council_member": 1, "ordinary_member": 1, "observer": 1}


async def test_members_admissions_and_departures_in_a_quarter() -> None:
    t = await tables_of("members", Q2)
    # At 1 April: m1, m2, m3; m4 admitted 1 May; m2 withdrew 1 June; m4 expelled only on 1 July.
    assert t["admissions_and_departures"].rows == [(date(2026, 4, 1), date(2026, 6, 30), 3, 1, 1, 0, 3)]
    assert nonzero(t["members_by_status"]) == {"current": 2, "new": 1, "withdrawn": 1}


async def test_a_reinstatement_of_an_older_event_without_status_counts_as_in_good_standing() -> None:
    tl = Timeline()
    tl.at(at(1, 5)).admit("m1", "Xiamen Huaxing Epitaxy", status="current")
    tl.at(at(2, 1)).suspend("m1")
    tl.at(at(3, 1)).reinstate("m1", "expired")
    old = tl.events[-1]
    tl.events[-1] = type(old)(old.id, old.seq, old.type, old.source, old.subject, old.time,
                              {k: v for k, v in old.data.items() if k != "status"})  # fmt: skip
    t = await tables_of("members", YEAR, tl)
    assert nonzero(t["members_by_status"]) == {"current": 1}


# --- patents -------------------------------------------------------------------------------------


async def test_patents_by_office_segment_and_country_at_the_end_of_the_year() -> None:
    t = await tables_of("patents", YEAR)
    offices = rows(t["patents_by_office"])
    # (registered, in force, essential, contributed in the period)
    # CN: P1 in force, essential; P5 essential but invalidated from 1 June.
    assert offices["CN"] == (2, 1, 2, 2)
    assert offices["US"] == (1, 1, 0, 1)  # P2 not essential
    assert offices["EP"] == (1, 1, 1, 1)  # P3 validated in DE, FR, GB
    assert offices["WO"] == (1, 0, 0, 1)  # an application: in force nowhere
    assert offices["JP"] == (1, 0, 0, 1)  # P6 expired on 1 March
    assert offices["KR"] == (0, 0, 0, 0)
    segments = rows(t["patents_by_segment"])
    assert segments["chip"] == (3, 1, 2)  # P1, P5, P6
    assert segments["packaging"] == (2, 1, 1)  # P3, P4
    assert segments["epitaxy"] == (1, 1, 0)
    assert dict(t["patents_in_force_by_country"].rows) == {"CN": 1, "US": 1, "DE": 1, "FR": 1, "GB": 1}
    # PG1: 5 submitted (P1, P2, P3, P5, P6), 3 essential, 1 not, P6 awaiting; all evaluated this year.
    assert t["patents_by_essentiality"].rows == [
        ("PG1", "LED lighting pool", "T/LEDA 001—2026", 5, 3, 1, 1, 4)
    ]  # fmt: skip


async def test_patents_in_force_on_a_past_date() -> None:
    t = await tables_of("patents", Period(date(2026, 2, 28)))
    # On 28 February P6 (JP) is still in force and P5 not yet invalidated; P1, P3, P5 found essential on 15 February.
    assert dict(t["patents_in_force_by_country"].rows) == {"CN": 2, "US": 1, "DE": 1, "FR": 1, "GB": 1, "JP": 1}
    assert rows(t["patents_by_office"])["CN"] == (2, 2, 2, 2)


async def test_patents_contributed_before_the_period_are_not_counted_as_contributed_in_it() -> None:
    t = await tables_of("patents", Q2)
    assert all(row[4] == 0 for row in t["patents_by_office"].rows)
    assert t["patents_by_essentiality"].rows[0][-1] == 0  # evaluations were in February


# --- programmes, licences, royalties -------------------------------------------------------------


async def test_programmes_licences_and_royalties_per_quarter() -> None:
    t = await tables_of("royalties", YEAR)
    # PG1: P1, P3, P5 essential; 3 programme licences, all in force.
    assert t["programmes"].rows == [("PG1", "LED lighting pool", "T/LEDA 001—2026", 3, 3, 3)]
    # Cross-licences: m1, m2 in force, m3's suspended; 3 programme licences.
    assert rows(t["licences_by_kind"]) == {"internal_cross_licence": (2, 1, 3), "programme_licence": (3, 0, 3)}
    quarters = rows(t["royalties_by_quarter"])
    # Q1: three licensees reported 1000.00 + 2000.50 + 300.25; two paid (5.10 interest); 3000.50 shared.
    assert quarters["2026-Q1"] == (
        "CNY", 3, 3, Decimal("3300.75"), Decimal("3000.50"), Decimal("5.10"), Decimal("2700.45"), Decimal("300.05"),
        False,
    )  # fmt: skip
    # Q2: one licensee only: its own sales figure, so no amounts.
    assert quarters["2026-Q2"] == ("CNY", 1, 1, None, None, None, None, None, True)


async def test_royalty_amounts_of_a_single_licensee_never_appear_in_any_format() -> None:
    t = await tables_of("royalties", YEAR)
    table = t["royalties_by_quarter"]
    assert "500.00" not in table.as_csv()
    assert "500.00" not in str(table.as_json())
    assert "LIC-VN-SAIGON" not in table.as_csv() + str(table.as_json())


async def test_royalties_as_of_march_know_no_reports_yet() -> None:
    t = await tables_of("royalties", Period(date(2026, 3, 31)))
    assert t["royalties_by_quarter"].rows == []
    assert rows(t["licences_by_kind"])["internal_cross_licence"] == (2, 1, 3)


# --- standards -----------------------------------------------------------------------------------


async def test_standards_by_stage_per_year_and_declarations() -> None:
    t = await tables_of("standards", YEAR)
    # SP1 published, SP2 working draft, SP3 rejected, SP4 withdrawn, SP5 a revision in its working group.
    assert nonzero(t["standards_by_stage"]) == {
        "published": 1, "working_draft": 1, "rejected": 1, "withdrawn": 1, "working_group": 1
    }  # fmt: skip
    assert t["standards_per_year"].rows == [(2025, 1, 0), (2026, 1, 1)]
    # SP1: frand x2, royalty_free; SP4 (published 2025): royalty_free.
    assert rows(t["ipr_declarations_by_commitment"]) == {
        "royalty_free": (2, 2), "frand": (2, 1), "declaration_later": (0, 0), "unwilling": (0, 0)
    }  # fmt: skip
    # From the beginning: five proposals (SP4 in 2025), two publications, one withdrawal.
    assert t["standards_in_period"].rows == [(None, date(2026, 12, 31), 5, 2, 1)]


async def test_standards_in_a_period_count_only_what_happened_in_it() -> None:
    t = await tables_of("standards", Period(date(2026, 3, 31), date(2026, 1, 1)))
    # SP1, SP2, SP3 proposed; SP1 published; SP4 still published on 31 March.
    assert t["standards_in_period"].rows == [(date(2026, 1, 1), date(2026, 3, 31), 3, 1, 0)]
    assert nonzero(t["standards_by_stage"]) == {"published": 2, "working_draft": 1, "rejected": 1}


# --- training ------------------------------------------------------------------------------------


async def test_training_held_in_a_quarter() -> None:
    t = await tables_of("training", Q2)
    # TS1 on 10 April: r1, r2 confirmed (r3 cancelled); both attended (6 + 3 hours); one certificate.
    assert t["training_summary"].rows == [(date(2026, 4, 1), date(2026, 6, 30), 1, 2, 2, 1, Decimal("9.0"))]
    assert t["training_by_session"].rows == [
        ("TS1", "LED reliability testing", date(2026, 4, 10), 30, 2, 2, 1, Decimal("9.0"))
    ]  # fmt: skip


async def test_training_over_the_year_and_before_anything_happened() -> None:
    t = await tables_of("training", YEAR)
    assert t["training_summary"].rows == [(None, date(2026, 12, 31), 2, 3, 2, 1, Decimal("9.0"))]
    early = await tables_of("training", Period(date(2026, 2, 1)))
    assert early["training_summary"].rows == [(None, date(2026, 2, 1), 0, 0, 0, 0, Decimal("0"))]


async def test_training_tables_name_no_person() -> None:
    t = await tables_of("training", YEAR)
    text = "".join(table.as_csv() for table in t.values())
    for private in ("Lin Wei", "Wang Fang", "a@m1.example", "d@m3.example"):
        assert private not in text


# --- the archive's version and helpers -----------------------------------------------------------


async def test_events_after_the_version_read_are_left_out_and_the_version_is_reported() -> None:
    tl = demo()
    archive = InMemoryArchive(tl.events)
    report = await statistics(archive, "members", YEAR)
    assert report.last_seq == len(tl.events)
    extra = Timeline()
    extra.at(at(8, 1)).admit("m9", "Late Arrival Co.")
    await archive.add(extra.events)
    again = await statistics(archive, "members", YEAR)
    assert again.last_seq == len(tl.events) + 3
    assert rows(again.tables[-1])[None][-1] == 3  # m1, m3 and now m9


def test_a_period_refuses_a_start_after_its_end() -> None:
    with pytest.raises(ValueError, match="start is after its end"):
        Period(date(2026, 1, 1), date(2026, 2, 1))


def test_dates_and_quarters_from_payload_values() -> None:
    assert day_of("2026-03-31") == date(2026, 3, 31)
    assert day_of("2026-03-31T23:30:00-02:00") == date(2026, 4, 1)  # its UTC date
    assert day_of("2026-03-31T10:00:00Z") == date(2026, 3, 31)
    assert day_of(None) is None
    assert [quarter_of(date(2026, m, 1)) for m in (1, 3, 4, 7, 12)] == [
        "2026-Q1", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"
    ]  # fmt: skip


@pytest.mark.parametrize("seed", [*range(5), None])
async def test_the_figures_do_not_depend_on_how_the_partitions_interleave(seed: int | None) -> None:
    """Each aggregate's events keep their order (one partition per key); between aggregates any order may
    be archived (payments and distributions before their reports, evaluations before their patents)."""
    tl = demo()
    rng = random.Random(seed)
    queues: dict[str, list[Any]] = {}
    for event in tl.events:
        queues.setdefault(event.subject, []).append(event)
    shuffled = []
    while queues:
        # seed None: each aggregate drained in turn (a programme's distribution before its licensees' reports).
        subject = rng.choice(sorted(queues)) if seed is not None else next(iter(queues))
        shuffled.append(queues[subject].pop(0))
        if not queues[subject]:
            del queues[subject]
    assert [e.id for e in shuffled] != [e.id for e in tl.events]
    for topic in ("members", "patents", "royalties", "standards", "training"):
        for period in (YEAR, Q2):
            in_order = await statistics(InMemoryArchive(tl.events), topic, period)
            interleaved = await statistics(InMemoryArchive(shuffled), topic, period)
            assert [t.as_json() for t in interleaved.tables] == [t.as_json() for t in in_order.tables], topic
