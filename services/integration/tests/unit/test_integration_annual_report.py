"""The annual report compiled on the in-memory archive: each figure against a story told event by
event, every figure equal to its linked events (their number, or the sum over them), the pages of
a figure's events, arrival order not mattering, and bad years refused."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alliance_common.errors import InvalidInput, NotFound
from alliance_common.events import IntegrationEvent
from alliance_contracts.licensing import (
    LicenceGranted,
    LicensorShare,
    PatentContributed,
    PatentEvaluated,
    RoyaltiesDistributed,
    RoyaltyPaid,
    RoyaltyReported,
)
from alliance_contracts.membership import (
    ApplicationDecided,
    DuesInvoiced,
    DuesPaid,
    MemberAdmitted,
    MemberExpelled,
    MemberSuspended,
    MemberWithdrawn,
)
from alliance_contracts.standards import (
    DeclaredPatent,
    IprCallAnswered,
    ProjectProposed,
    ProjectStageChanged,
    StandardPublished,
)
from alliance_contracts.training import CertificateIssued, CreditHoursEarned, SessionScheduled
from integration.adapters.memory import InMemoryArchive
from integration.domain.annual_report import FIGURES, Kind, Unit, compile_report
from integration.domain.archive import ArchivedEvent
from integration.service_layer.annual_report import (
    AnnualReports,
    ArchiveReads,
    check_year,
    compile_annual_report,
    figure_events,
    figure_of,
)

YEAR = 2025
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def archived(event: IntegrationEvent, when: datetime, subject: str = "") -> ArchivedEvent:
    assert event.source is not None
    return ArchivedEvent(
        id=str(uuid.uuid4()),
        seq=0,
        type=event.event_type,
        source=event.source,
        subject=subject or "x",
        time=when,
        data=event.model_dump(mode="json"),
    )


def admitted(member: str, when: datetime) -> ArchivedEvent:
    return archived(
        MemberAdmitted(
            member_id=member,
            name=f"Org {member}",
            membership_number=f"M-{member}",
            credit_code="91350100M000100Y43",
            org_type="enterprise",
            segments=["chip"],
            region="Fujian",
            tier="ordinary",
            admitted_at=when,
        ),
        when,
        member,
    )


def decided(member: str, decision: str, by: str, when: datetime) -> ArchivedEvent:
    return archived(
        ApplicationDecided(
            member_id=member,
            name=f"Org {member}",
            decision=decision,
            decided_by=by,
            applicant="a@example.org",
            contact_name="A",
            contact_email="a@example.org",
            decided_at=when,
        ),
        when,
        member,
    )


def stage(project: str, from_stage: str, to_stage: str, action: str, when: datetime) -> ArchivedEvent:
    return archived(
        ProjectStageChanged(
            project_id=project, from_stage=from_stage, to_stage=to_stage, action=action, by="x@example.org", at=when
        ),
        when,
        project,
    )


def proposed(project: str, when: datetime) -> ArchivedEvent:
    return archived(
        ProjectProposed(project_id=project, title=f"P {project}", scope="s", proposer_id="ORG-1", proposed_at=when),
        when,
        project,
    )


def declaration(commitment: str, n: int) -> DeclaredPatent:
    return DeclaredPatent(holder_id="ORG-1", office="CN", number=f"CN{n}", commitment=commitment)


def story() -> list[ArchivedEvent]:
    """2024: A, B, C admitted, C withdrawn. 2025: D admitted in March, A withdrawn in June, B expelled
    in September, E admitted in December; F admitted in January 2026 (after the year)."""
    d = Decimal
    events = [
        admitted("A", at(2024, 2, 1)),
        admitted("B", at(2024, 3, 1)),
        admitted("C", at(2024, 4, 1)),
        archived(MemberWithdrawn(member_id="C", withdrawn_on=date(2024, 9, 1)), at(2024, 9, 1), "C"),
        decided("D", "admitted", "council", at(2025, 3, 10)),
        admitted("D", at(2025, 3, 10, 11)),
        decided("X", "rejected", "council", at(2025, 4, 2)),
        decided("Y", "changes_requested", "secretariat", at(2025, 4, 3)),
        decided("Z", "rejected", "secretariat", at(2025, 4, 4)),
        archived(MemberSuspended(member_id="A", reason="dues", suspended_at=at(2025, 5, 1)), at(2025, 5, 1), "A"),
        archived(MemberWithdrawn(member_id="A", withdrawn_on=date(2025, 6, 30)), at(2025, 6, 30), "A"),
        archived(MemberExpelled(member_id="B", reason="misconduct", expelled_on=date(2025, 9, 15)), at(2025, 9, 15)),
        admitted("E", at(2025, 12, 31, 23)),
        decided("F", "admitted", "council", at(2026, 1, 2)),
        admitted("F", at(2026, 1, 2, 11)),
        # dues
        archived(
            DuesInvoiced(
                member_id="B",
                invoice_id="INV-1",
                amount=d("5000.00"),
                credit_applied=d("0"),
                period_start=date(2025, 1, 1),
                period_end=date(2025, 12, 31),
                due_on=date(2025, 1, 31),
            ),
            at(2025, 1, 2),
        ),
        archived(
            DuesInvoiced(
                member_id="D",
                invoice_id="INV-2",
                amount=d("2500.50"),
                credit_applied=d("0"),
                period_start=date(2025, 3, 10),
                period_end=date(2026, 3, 9),
                due_on=date(2025, 4, 10),
            ),
            at(2025, 3, 11),
        ),
        archived(
            DuesInvoiced(
                member_id="A",
                invoice_id="INV-0",
                amount=d("999.99"),
                credit_applied=d("0"),
                period_start=date(2024, 2, 1),
                period_end=date(2025, 1, 31),
                due_on=date(2024, 3, 1),
            ),
            at(2024, 2, 2),
        ),
        archived(
            DuesPaid(
                member_id="B",
                invoice_id="INV-1",
                amount=d("5000.00"),
                outstanding=d("0"),
                credit=d("0"),
                received_on=date(2025, 1, 20),
            ),
            at(2025, 1, 20),
        ),
        archived(
            DuesPaid(
                member_id="D",
                invoice_id="INV-2",
                amount=d("0.01"),
                outstanding=d("2500.49"),
                credit=d("0"),
                received_on=date(2025, 4, 1),
            ),
            at(2025, 4, 1),
        ),
        # standards: P1 proposed in 2024, approved by the council in 2025, under review by the end;
        # P2 proposed and rejected by the council in 2025; P3 proposed in 2025, drafting started;
        # P4 published in 2025 with three declarations.
        proposed("P1", at(2024, 6, 1)),
        stage("P1", "proposed", "accepted", "approve_proposal", at(2025, 1, 15)),
        stage("P1", "accepted", "published", "publish", at(2025, 5, 1)),
        stage("P1", "published", "under_review", "start_review", at(2025, 11, 1)),
        stage("P1", "under_review", "confirmed", "confirm", at(2026, 2, 1)),  # after the year
        proposed("P2", at(2025, 2, 1)),
        stage("P2", "proposed", "rejected", "reject_proposal", at(2025, 2, 20)),
        proposed("P3", at(2025, 7, 1)),
        stage("P3", "proposed", "accepted", "approve_proposal", at(2025, 7, 10)),
        stage("P3", "accepted", "working_group", "form_working_group", at(2025, 8, 10)),
        proposed("P4", at(2023, 1, 1)),
        stage("P4", "approved", "published", "publish", at(2025, 10, 1)),
        archived(
            StandardPublished(
                project_id="P4",
                number="T/LEDA 004—2025",
                title="T",
                published_on=date(2025, 10, 1),
                declarations=[declaration("frand", 1), declaration("frand", 2), declaration("royalty_free", 3)],
            ),
            at(2025, 10, 1),
        ),
        archived(
            StandardPublished(project_id="P0", number="T/LEDA 000—2024", title="Old", published_on=date(2024, 1, 1)),
            at(2024, 1, 1),
        ),
        archived(
            IprCallAnswered(
                project_id="P4", call_id="C1", organisation_id="ORG-1", answer="declared", answered_at=at(2025, 6, 1)
            ),
            at(2025, 6, 1),
        ),
        archived(
            IprCallAnswered(
                project_id="P4",
                call_id="C1",
                organisation_id="ORG-2",
                answer="no_patents_known",
                answered_at=at(2025, 6, 2),
            ),
            at(2025, 6, 2),
        ),
        # patents and licences
        archived(
            PatentContributed(
                patent_id="PAT-1",
                owner_id="A",
                office="CN",
                number="CN1",
                family_id="F1",
                expiry_date=date(2040, 1, 1),
            ),
            at(2025, 2, 2),
        ),
        archived(
            PatentEvaluated(
                submission_id="S1",
                patent_id="PAT-1",
                programme_id="PRG-1",
                owner_id="A",
                essential=True,
                reason="r",
                evaluated_on=date(2025, 3, 3),
            ),
            at(2025, 3, 3),
        ),
        archived(
            PatentEvaluated(
                submission_id="S2",
                patent_id="PAT-2",
                programme_id="PRG-1",
                owner_id="B",
                essential=False,
                reason="r",
                evaluated_on=date(2025, 3, 4),
            ),
            at(2025, 3, 4),
        ),
        archived(
            LicenceGranted(
                licence_id="XL-D",
                licensee_id="D",
                kind="internal_cross_licence",
                programme="alliance-internal",
                granted_at=at(2025, 3, 10, 12),
            ),
            at(2025, 3, 10, 12),
        ),
        archived(
            LicenceGranted(
                licence_id="PL-PRG-1-LIC",
                licensee_id="LIC",
                kind="programme_licence",
                programme="PRG-1",
                granted_at=at(2025, 4, 1),
            ),
            at(2025, 4, 1),
        ),
        # royalties: reported (the currency), paid in Q1 and Q3, distributed in Q2
        archived(
            RoyaltyReported(
                report_id="R1",
                programme_id="PRG-1",
                licensee_id="LIC",
                period="2025-Q1",
                total=d("1234.56"),
                currency="USD",
                due_on=date(2025, 5, 1),
                lines=3,
            ),
            at(2025, 1, 5),
        ),
        archived(
            RoyaltyPaid(
                report_id="R1",
                programme_id="PRG-1",
                licensee_id="LIC",
                amount=d("1000.00"),
                late_interest=d("0"),
                outstanding=d("234.56"),
                received_on=date(2025, 2, 1),
            ),
            at(2025, 2, 1),
        ),
        archived(
            RoyaltyPaid(
                report_id="R1",
                programme_id="PRG-1",
                licensee_id="LIC",
                amount=d("234.56"),
                late_interest=d("1.10"),
                outstanding=d("0"),
                received_on=date(2025, 8, 1),
            ),
            at(2025, 8, 1),
        ),
        archived(
            RoyaltiesDistributed(
                distribution_id="D1",
                programme_id="PRG-1",
                period="2025-Q1",
                collected=d("1000.00"),
                admin_fee=d("50.00"),
                distributed=d("950.00"),
                shares=[LicensorShare(licensor_id="A", amount=d("950.00"))],
            ),
            at(2025, 5, 5),
        ),
        # training: T1 starts in 2025 (scheduled in 2024), T2 in 2026 (scheduled in 2025)
        archived(session("T1", at(2025, 3, 1)), at(2024, 12, 1)),
        archived(session("T2", at(2026, 3, 1)), at(2025, 12, 1)),
        archived(earned("T1", "R1", d("6.5")), at(2025, 3, 2)),
        archived(earned("T1", "R2", d("3")), at(2025, 3, 2)),
        archived(
            CertificateIssued(
                session_id="T1",
                registration_id="R1",
                organisation_id="D",
                attendee_name="N",
                attendee_email="n@example.org",
                verification_code="V1",
                credit_hours=d("6.5"),
                issued_on=date(2025, 3, 3),
            ),
            at(2025, 3, 3),
        ),
    ]
    return events


def session(session_id: str, starts_at: datetime) -> SessionScheduled:
    return SessionScheduled(
        session_id=session_id,
        title=f"Session {session_id}",
        audience="engineers",
        starts_at=starts_at,
        capacity=30,
        member_price=Decimal("100.00"),
        non_member_price=Decimal("200.00"),
        currency="CNY",
    )


def earned(session_id: str, registration: str, hours: Decimal) -> CreditHoursEarned:
    return CreditHoursEarned(
        session_id=session_id,
        registration_id=registration,
        organisation_id="D",
        attendee_name="N",
        attendee_email=f"{registration}@example.org",
        hours=hours,
        days=[date(2025, 3, 1)],
        session_title="S",
        earned_on=date(2025, 3, 2),
    )


def with_seqs(events: list[ArchivedEvent]) -> list[ArchivedEvent]:
    return [ArchivedEvent(e.id, i + 1, e.type, e.source, e.subject, e.time, e.data) for i, e in enumerate(events)]


def subjects(report_events: list[ArchivedEvent]) -> list[str]:
    return sorted(str(e.data.get("member_id", e.data.get("project_id", e.subject))) for e in report_events)


def linked(events: list[ArchivedEvent], report: Any, key: str) -> list[ArchivedEvent]:
    by_seq = {e.seq: e for e in events}
    return [by_seq[s] for s in report.figures[key].seqs]


def test_the_figures_of_the_story() -> None:
    events = with_seqs(story())
    report = compile_report(YEAR, events, archive_seq=len(events))
    v = report.value
    assert (v("members_start"), v("members_end")) == (2, 2)  # A, B on 1 January; D, E on 31 December
    assert subjects(linked(events, report, "members_start")) == ["A", "B"]
    assert subjects(linked(events, report, "members_end")) == ["D", "E"]
    assert all(e.type.endswith("member.admitted.v1") for e in linked(events, report, "members_end"))
    assert (v("members_admitted"), v("members_withdrawn"), v("members_expelled")) == (2, 1, 1)
    # members over the year: A, B; + D in March; - A at the end of June; - B in September; + E in December
    months = [v(f"members_month_end.{m:02d}") for m in range(1, 13)]
    assert months == [2, 2, 3, 3, 3, 2, 2, 2, 1, 1, 1, 2]
    # council: 2 application decisions (D admitted, X rejected), the expulsion, 3 standards decisions
    assert (v("council_application_decisions"), v("council_admissions"), v("council_rejections")) == (2, 1, 1)
    assert (v("council_expulsions"), v("council_standards_decisions"), v("council_decisions")) == (1, 3, 6)
    assert (v("standards_proposed"), v("standards_published"), v("standards_under_review")) == (2, 1, 1)
    stages = {k.split(".")[1]: int(f.value) for k, f in report.figures.items() if k.startswith("standards_stage.")}
    assert {s: n for s, n in stages.items() if n} == {
        "under_review": 1,
        "rejected": 1,
        "working_group": 1,
        "published": 1,
    }
    assert (v("ipr_declarations"), v("declared_patents")) == (1, 3)
    assert (v("declared_patents.frand"), v("declared_patents.royalty_free"), v("declared_patents.unwilling")) == (
        2,
        1,
        0,
    )
    assert (v("patents_contributed"), v("patents_evaluated"), v("patents_evaluated_essential")) == (1, 2, 1)
    assert (v("licences_signed"), v("licences_internal")) == (1, 1)
    assert v("royalties_collected") == Decimal("1234.56")
    assert report.figures["royalties_collected"].currency == "USD"
    assert [v(f"royalties_collected.q{q}") for q in range(1, 5)] == [
        Decimal("1000.00"),
        Decimal("0.00"),
        Decimal("234.56"),
        Decimal("0.00"),
    ]
    assert (v("royalties_distributed"), v("royalties_admin_fee")) == (Decimal("950.00"), Decimal("50.00"))
    assert v("royalties_distributed.q2") == Decimal("950.00")
    assert (v("training_held"), v("training_participants"), v("training_certificates")) == (1, 2, 1)
    assert v("training_credit_hours") == Decimal("9.5")
    assert (v("dues_invoiced"), v("dues_paid")) == (Decimal("7500.50"), Decimal("5000.01"))
    assert report.figures["dues_paid"].currency is None  # no membership event states a currency


def quantity(key: str, event: ArchivedEvent) -> Decimal:
    """What one event adds to a sum figure, read from its payload (independently of the compiler)."""
    data = event.data
    if key.startswith("declared_patents"):
        commitment = key.partition(".")[2]
        return Decimal(sum(1 for x in data["declarations"] if not commitment or x["commitment"] == commitment))
    field = {
        "royalties_distributed": "distributed",
        "royalties_admin_fee": "admin_fee",
        "training_credit_hours": "hours",
    }
    return Decimal(data[field.get(key.partition(".")[0], "amount")])


def test_every_figure_equals_its_linked_events() -> None:
    events = with_seqs(story())
    report = compile_report(YEAR, events, archive_seq=len(events))
    assert set(report.figures) == set(FIGURES)
    for key, figure in report.figures.items():
        mine = linked(events, report, key)
        assert len({e.id for e in mine}) == len(mine) == figure.events, key
        assert all(e.type in figure.definition.types for e in mine), key
        if figure.definition.kind is Kind.COUNT:
            assert figure.value == len(mine), key
        else:
            assert figure.value == sum((quantity(key, e) for e in mine), Decimal(0)), key
            if figure.definition.unit is Unit.MONEY:
                assert isinstance(figure.value, Decimal) and figure.value.as_tuple().exponent == -2, key


def test_arrival_order_does_not_matter() -> None:
    """Events archived late (a higher seq, an earlier time) give the same figures."""
    events = story()
    expected = compile_report(YEAR, with_seqs(events), len(events))
    for seed in range(5):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        report = compile_report(YEAR, with_seqs(shuffled), len(events))
        assert {k: f.value for k, f in report.figures.items()} == {k: f.value for k, f in expected.figures.items()}


def test_the_year_before_and_the_year_after() -> None:
    events = with_seqs(story())
    before = compile_report(2024, events, len(events))
    assert (before.value("members_start"), before.value("members_admitted"), before.value("members_end")) == (0, 3, 2)
    assert before.value("members_withdrawn") == 1 and before.value("standards_published") == 1
    assert before.value("dues_invoiced") == Decimal("999.99")
    after = compile_report(2026, events, len(events), as_of=NOW)
    assert (after.value("members_start"), after.value("members_end"), after.value("members_admitted")) == (2, 3, 1)
    assert after.value("training_held") == 1 and after.value("council_standards_decisions") == 1
    assert not after.complete and after.as_of == NOW and before.complete


async def test_a_figures_events_page_by_page() -> None:
    archive = InMemoryArchive(story())
    report = await compile_annual_report(archive, YEAR, NOW)
    reads = ArchiveReads(archive)
    for key in ("council_decisions", "members_end", "royalties_collected", "members_month_end.03"):
        figure = figure_of(report, key)
        seen: list[ArchivedEvent] = []
        after = 0
        pages = 0
        while True:
            page, after_seq = await figure_events(reads, figure, after, 2)
            seen += page
            pages += 1
            if after_seq is None:
                break
            after = after_seq
        assert [e.seq for e in seen] == list(figure.seqs), key
        assert len(seen) == figure.events and pages == max(1, -(-figure.events // 2)), key
    with pytest.raises(NotFound) as refused:
        figure_of(report, "members_in_space")
    assert refused.value.field == "figure"


async def test_the_report_is_compiled_once_per_archive_version() -> None:
    archive = InMemoryArchive(story())
    reports = AnnualReports(archive, clock=lambda: NOW)
    first = await reports.of(YEAR)
    assert await reports.of(YEAR) is first
    await archive.add([admitted("G", at(2025, 6, 1))])
    again = await reports.of(YEAR)
    assert again is not first and again.value("members_admitted") == 3
    assert again.archive_seq == first.archive_seq + 1


async def test_events_archived_during_a_compilation_wait_for_the_next() -> None:
    archive = InMemoryArchive(story())
    version = await archive.last_seq()
    late = admitted("H", at(2025, 6, 1))
    scan = archive.scan

    def scan_and_add(**kwargs: Any) -> Any:
        async def gen() -> Any:
            await archive.add([late])
            async for event in scan(**kwargs):
                yield event

        return gen()

    archive.scan = scan_and_add  # type: ignore[method-assign]
    report = await compile_annual_report(archive, YEAR, NOW)
    assert report.archive_seq == version and report.value("members_admitted") == 2


@pytest.mark.parametrize("year", [1999, NOW.year + 1, -5])
def test_a_bad_year_is_refused_naming_it(year: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_year(year, NOW)
    assert refused.value.field == "year"


def test_timestamps_with_hours_at_the_year_edges() -> None:
    """An event at 00:00:00 on 1 January belongs to the new year; 23:59:59 on 31 December to the old."""
    edge = [
        admitted("J", datetime(2025, 1, 1, tzinfo=UTC)),
        admitted("K", at(2024, 12, 31, 23) + timedelta(minutes=59)),
    ]
    report = compile_report(YEAR, with_seqs(edge), 2)
    assert report.value("members_start") == 1 and report.value("members_admitted") == 1
