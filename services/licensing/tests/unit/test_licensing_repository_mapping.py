"""Licence, patent, programme, submission and group ↔ document mapping (no database)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alliance_common.outbox import Loaded
from alliance_common.testing import InMemoryStore
from licensing.adapters.pool_repository import Patents, ProgrammeRepository, SubmissionRepository
from licensing.adapters.repository import LicenceRepository
from licensing.adapters.royalty_repository import (
    _ACCOUNT,
    account_documents,
    account_from_document,
    decompress,
    pack_rows,
    report_body,
    unpack_rows,
)
from licensing.domain.accounts import RoyaltyAccount
from licensing.domain.model import Licence, LicenceStatus
from licensing.domain.patents import ChainSegment, LegalStatus, Patent, PatentOffice
from licensing.domain.pool import Programme, Submission
from licensing.domain.royalties import Period, RateSchedule, ReportLine, RoyaltyReport, Tier

NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
LICENCES = LicenceRepository(InMemoryStore())
PROGRAMMES = ProgrammeRepository(InMemoryStore())
SUBMISSIONS = SubmissionRepository(InMemoryStore())


def licence() -> Licence:
    return Licence.grant_cross_licence("org-1", "Fujian LED Co.", NOW, cause="event-1")


def as_stored(doc_id: str, version: int, doc: dict[str, object]) -> Loaded:
    """What a round trip through a MongoDB-wire store gives back (JSON types only)."""
    return Loaded(doc_id, version, json.loads(json.dumps(doc)), ())


def test_document_leaves_out_id_version_and_events() -> None:
    doc = LICENCES.to_document(licence())
    assert not {"id", "version", "events"} & doc.keys()
    assert doc["licensee_id"] == "org-1"


def test_round_trip_of_a_granted_licence() -> None:
    original = licence()
    back = LICENCES.from_document(as_stored(original.id, 0, LICENCES.to_document(original)))
    original.events = []
    assert back == original


def test_round_trip_of_a_suspended_licence_keeps_status_history_and_version() -> None:
    original = licence()
    original.suspend("member suspended", NOW, cause="event-2")
    back = LICENCES.from_document(as_stored(original.id, 5, LICENCES.to_document(original)))
    assert back.version == 5
    assert back.status is LicenceStatus.SUSPENDED
    assert [(h.action, h.cause, h.reason) for h in back.history] == [
        ("granted", "event-1", None),
        ("suspended", "event-2", "member suspended"),
    ]
    assert back.events == []


def test_a_programme_licence_keeps_its_start_date_and_territory() -> None:
    original = Licence.sign_programme_licence(
        programme_id="PRG-1",
        licensee_id="acme",
        licensee_name="Acme",
        start_date=date(2025, 1, 1),
        territory=("US", "DE"),
        now=NOW,
        by="sec-1",
    )
    doc = LICENCES.to_document(original)
    assert (doc["start_date"], doc["territory"]) == ("2025-01-01", ["DE", "US"])
    original.events, original.version = [], 1
    assert LICENCES.from_document(as_stored(original.id, 1, doc)) == original


def test_a_licence_document_of_the_earlier_mapping_still_loads() -> None:
    doc = {
        "licensee_id": "org-1",
        "licensee_name": "Fujian LED Co.",
        "kind": "internal_cross_licence",
        "programme": "alliance-internal",
        "status": "active",
        "granted_at": NOW,
        "history": [{"at": NOW, "action": "granted", "cause": "event-1", "reason": None}],
        "start_date": None,
        "territory": [],
    }
    back = LICENCES.from_document(Loaded("XL-org-1", 1, doc, ()))
    expected = licence()
    expected.events, expected.version = [], 1
    assert back == expected


def patent() -> Patent:
    return Patent(
        id="pat-1",
        owner_id="org-1",
        office=PatentOffice.EP,
        number="EP1234567",
        family_id="F-1",
        title="LED",
        filing_date=date(2015, 1, 1),
        expiry_date=date(2035, 1, 1),
        status=LegalStatus.GRANTED,
        segment=ChainSegment.CHIP,
        grant_date=date(2018, 1, 1),
        validated_in=frozenset({"FR", "DE"}),
    )


def test_a_patent_round_trips_and_is_stored_as_before() -> None:
    doc = Patents.to_document(patent())
    assert doc == {
        "owner_id": "org-1",
        "office": "EP",
        "number": "EP1234567",
        "family_id": "F-1",
        "title": "LED",
        "filing_date": "2015-01-01",
        "expiry_date": "2035-01-01",
        "status": "granted",
        "segment": "chip",
        "grant_date": "2018-01-01",
        "ended_on": None,
        "validated_in": ["DE", "FR"],
        "review": None,  # issue 9: an owner's pending status request
        "claim": "undisputed",  # issue 9: ownership claims
    }
    assert Patents.from_document(as_stored("pat-1", 1, doc)) == patent()


def programme() -> Programme:
    p = Programme.create(id="PRG-1", name="LED pool", standard_ref="T/ALL 1-2025", description="d", on=date(2025, 1, 2))
    p.publish_schedule(
        RateSchedule(
            programme="LED pool",
            categories={
                "lamp": (Tier(1000, Decimal("0.50"), Decimal("0.40")), Tier(None, Decimal("0.30"), Decimal("0.25")))
            },
            free_units_per_year=100,
            annual_cap=Decimal("50000.00"),
            regional_markets=frozenset({"VN", "IN"}),
            regional_discount_percent=Decimal("20"),
            member_discount_percent=Decimal("10"),
        ),
        Decimal("12"),
        Decimal("6"),
    )
    p.events = []
    return p


def test_a_programme_with_its_schedule_round_trips_and_is_stored_as_before() -> None:
    doc = PROGRAMMES.to_document(programme())
    assert doc["schedule"] == {
        "categories": {
            "lamp": [
                {"up_to": 1000, "standard_rate": "0.50", "compliant_rate": "0.40"},
                {"up_to": None, "standard_rate": "0.30", "compliant_rate": "0.25"},
            ]
        },
        "free_units_per_year": 100,
        "annual_cap": "50000.00",
        "regional_markets": ["IN", "VN"],
        "regional_discount_percent": "20",
        "member_discount_percent": "10",
        "currency": "USD",
    }
    assert (doc["created_on"], doc["admin_fee_percent"], doc["late_interest_percent"]) == ("2025-01-02", "12", "6")
    assert PROGRAMMES.from_document(as_stored("PRG-1", 0, doc)) == programme()


def test_a_submission_under_evaluation_round_trips_and_loads_the_earlier_shape() -> None:
    submission = Submission.submit(patent(), programme(), "sec-1", date(2025, 2, 1))
    submission.assign(patent(), "expert-1", "org-9", date(2025, 2, 2))
    submission.events = []
    doc = SUBMISSIONS.to_document(submission)
    assert doc["evaluator_id"] == "expert-1"
    assert SUBMISSIONS.from_document(as_stored(submission.id, 0, doc)) == submission
    earlier = {k: v for k, v in doc.items() if k != "assignment"}
    earlier["assignment"] = {"evaluator_id": "expert-1", "evaluator_org_id": "org-9", "assigned_on": "2025-02-02"}
    assert SUBMISSIONS.from_document(Loaded(submission.id, 0, earlier, ())) == submission


def filed_account() -> RoyaltyAccount:
    schedule = RateSchedule(programme="P", categories={"lamp": (Tier(None, Decimal("0.10"), Decimal("0.08")),)})
    q1 = Period(2024, 1)
    report = RoyaltyReport(
        "acme", q1, (ReportLine("lamp", 1000, "CN", "CN", q1), ReportLine("lamp", 5, "CN", "US", q1))
    )
    acc = RoyaltyAccount("P:acme", "P", "acme")
    acc.file("P:acme~2024-Q1", report, schedule, [patent_cn()], member_in_good_standing=False, today=date(2024, 4, 20))
    acc.pay(
        "P:acme~2024-Q1", Decimal("10.00"), date(2024, 5, 1), Decimal("6"), key="k-1", entered_by="s", entered_at=NOW
    )
    acc.events = []
    return acc


def patent_cn() -> Patent:
    return Patent(
        id="pat-cn",
        owner_id="org-1",
        office=PatentOffice.CN,
        number="CN1",
        family_id="F",
        title="LED",
        filing_date=date(2015, 1, 1),
        expiry_date=date(2035, 1, 1),
        status=LegalStatus.GRANTED,
        segment=ChainSegment.PACKAGING,
        grant_date=date(2018, 1, 1),
    )


def no_nested_arrays(value: object) -> bool:
    if isinstance(value, list):
        return all(not isinstance(v, list) and no_nested_arrays(v) for v in value)
    if isinstance(value, dict):
        return all(no_nested_arrays(v) for v in value.values())
    return True


def test_a_royalty_account_round_trips_with_its_reports_bodies_as_json_rows() -> None:
    acc = filed_account()
    doc, chunks = account_documents(acc)
    assert no_nested_arrays(doc)  # FerretDB 1.x refuses them
    (report,) = doc["reports"]
    assert (report["period"], doc["periods"], doc["filers"]) == ("2024-Q1", ["2024-Q1"], ["acme"])
    assert "lines" not in report and "collected" not in report
    key = report["body"]["key"]
    assert key.startswith("P:acme~2024-Q1@")
    assert report["body"] == {"key": key, "count": 2, "lines": 1, "collected": 1}
    assert [chunk_id for chunk_id, _ in chunks] == [f"{key}/lines/0", f"{key}/collected/0"]
    lines, collected = (state for _, state in chunks)
    assert (lines["account"], lines["body"], lines["part"], lines["n"]) == ("P:acme", key, "lines", 0)
    # index, category, units, made in, sold in, period, amount, patents, steps
    first = json.loads(decompress(lines["rows"]))[0]
    assert first[:6] == [0, "lamp", 1000, "CN", "CN", "2024-Q1"]
    assert first[7] == ["pat-cn"] and [len(step) for step in first[8]] == [3] * len(first[8])
    assert json.loads(decompress(collected["rows"]))[1] == [
        "P:acme~2024-Q1#2",
        "CN",
        "US",
        "2024-03-31",
        "0.40",
    ]  # 5 x 0.08
    assert report["payments"] == [
        {"amount": "10.00", "received_on": "2024-05-01", "late_interest": "0.00", "key": "k-1"}
    ]
    assert doc["year_to_date"] == {"2024": {"units": 1005, "royalties": report["total"]}}
    stored = json.loads(json.dumps([state for _, state in chunks]))
    back = account_from_document(acc.id, 3, json.loads(json.dumps(doc)), stored)
    acc.version = 3
    assert back == acc
    assert account_documents(back)[1] == chunks  # the same body, the same chunk ids and texts


def test_a_royalty_account_stored_with_its_lines_embedded_loads() -> None:
    acc = filed_account()
    doc = json.loads(json.dumps(_ACCOUNT.dump_python(acc, mode="json", exclude={"id", "version", "events"})))
    for report in doc["reports"]:  # as accounts were stored before the bodies moved out
        report["period"] = f"{report['period']['year']}-Q{report['period']['quarter']}"
    back = account_from_document(acc.id, 1, doc)
    acc.version = 1
    assert back == acc


def test_a_report_body_is_split_into_chunks_and_read_back_in_order() -> None:
    acc = filed_account()
    report = acc.reports[0]
    many = [report.lines[i % 2] for i in range(500)]
    report.lines = tuple(many)
    report.collected = tuple(report.collected[i % 2] for i in range(500))
    ref, chunks = report_body(acc.id, report, limit=20_000)
    assert ref["lines"] > 3 and ref["collected"] > 1
    assert all(len(decompress(state["rows"])) <= 20_000 for _, state in chunks)
    doc, _ = account_documents(acc)
    doc["reports"][0]["body"] = ref
    reversed_chunks = [state for _, state in reversed(chunks)]
    back = account_from_document(acc.id, 1, doc, reversed_chunks)
    assert back.reports[0].lines == report.lines and back.reports[0].collected == report.collected
    with pytest.raises(RuntimeError, match="lines chunks"):
        account_from_document(acc.id, 1, doc, reversed_chunks[1:-1])


def test_pack_rows_keeps_every_chunk_under_the_limit() -> None:
    rows = [[i, "x" * (i % 50)] for i in range(1000)]
    chunks = pack_rows(rows, limit=2_000)
    assert len(chunks) > 10 and all(len(c) <= 2_000 for c in chunks)
    assert unpack_rows(chunks) == rows
    assert pack_rows([["y" * 100]], limit=10) == ['[["' + "y" * 100 + '"]]']  # one row too long: alone
    assert pack_rows([]) == ["[]"] and unpack_rows(["[]"]) == []


def test_a_royalty_account_of_the_earlier_mapping_without_filer_or_history_loads() -> None:
    doc, chunks = account_documents(filed_account())
    doc = json.loads(json.dumps(doc))
    for report in doc["reports"]:
        del report["filed_by"], report["history"]
    back = account_from_document("P:acme", 1, doc, [state for _, state in chunks])
    assert [(r.filed_by, r.history) for r in back.reports] == [("acme", [])]
