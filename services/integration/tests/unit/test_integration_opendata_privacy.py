"""Nothing private ever appears in open data.

An archive as the demo leaves it (members with contacts and users, dues, royalties, ballots and
votes, IPR calls, evaluations with their experts and reasons, registrations and certificates) is
published as every open dataset, in both formats; the output is then scanned for every value the
events hold under a private field (``PRIVATE_FIELDS``, plus people's names), and for the private
field names themselves as columns.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alliance_contracts import membership as mem
from alliance_contracts import standards as std
from alliance_contracts.training import SessionScheduled
from integration.adapters.memory import InMemoryArchive
from integration.domain.folding import Period
from integration.domain.opendata import DATASETS, PRIVATE_FIELDS
from integration.service_layer.opendata import OpenData

from .scenario import Timeline
from .test_integration_statistics import at, demo

# Fields that are private only in some events: a person's name where the event is about a person.
PUBLIC_PRICES = ("member_price", "non_member_price")
PRIVATE_BY_TYPE = {
    mem.UserAdded.event_type: {"name"},
}


def private_archive() -> Timeline:
    """The demo, and what else a demo archive holds that must stay private."""
    tl = demo()
    tl.at(at(1, 3)).add(
        mem.ApplicationSubmitted(
            member_id="m7",
            name="Nanchang Pending Applicant Co.",
            credit_code="91360100MA38ABCD9X",
            org_type="enterprise",
            segments=["chip"],
            region="CN-JX",
            tier="ordinary_member",
            submitted_at=tl.now,
        ),
        "m7",
    )
    tl.at(at(2, 11)).add(
        mem.DuesPaid(
            member_id="m1",
            invoice_id="INV-m1",
            amount=Decimal("48765.43"),
            outstanding=Decimal("1234.57"),
            credit=Decimal("0.00"),
            received_on=date(2026, 2, 11),
        ),
        "m1",
    )
    tl.add(
        mem.UserAdded(
            member_id="m3",
            subject="zhang.min@lumen-pack.example",
            name="Zhang Min",
            email="zhang.min@lumen-pack.example",
            role="member_staff",
            added_at=tl.now,
        ),
        "m3",
    )
    tl.at(at(3, 2)).add(
        std.IprCallIssued(
            project_id="SP2",
            call_id="call-1",
            title="Mini-LED backlight",
            reason="committee_draft",
            issued_at=tl.now,
            deadline=tl.now + timedelta(days=30),
            participants=["org-participant-7f3a9c"],
        ),
        "SP2",
    )
    tl.add(
        std.BallotOpened(
            project_id="SP2",
            ballot=1,
            title="Mini-LED backlight",
            opened_at=tl.now,
            closes_at=tl.now + timedelta(days=30),
            eligible=["org-eligible-9b2e41"],
        ),
        "SP2",
    )
    tl.add(
        std.BallotClosed(
            project_id="SP2",
            ballot=1,
            title="Mini-LED backlight",
            result="failed",
            closed_at=tl.now,
            eligible=["org-eligible-9b2e41"],
        ),
        "SP2",
    )
    tl.at(at(3, 25)).register("TS1", "r5", "li.na@huaxing-epi.example", price="640.00")
    return tl


def private_values(tl: Timeline) -> tuple[set[str], set[str]]:
    """Every value held under a private field: long ones (searched as text) and short ones (as cells)."""
    found: set[str] = set()

    def walk(value: Any, private: bool, extra: set[str]) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, private or key in PRIVATE_FIELDS or key in extra, set())
        elif isinstance(value, list):
            for inner in value:
                walk(inner, private, extra)
        elif private and value is not None and not isinstance(value, bool):
            found.add(str(value))

    for event in tl.events:
        walk(event.data, False, PRIVATE_BY_TYPE.get(event.type, set()))
    # The archive's ids of organisations and people are not public either (names are).
    for event in tl.events:
        for key in ("member_id", "owner_id", "holder_id", "licensee_id", "proposer_id", "registration_id"):
            if key in event.data:
                found.add(str(event.data[key]))
    # A registration at a session's published price (member or not) tells nothing the calendar does not.
    found -= {str(e.data[k]) for e in tl.events if e.type == SessionScheduled.event_type for k in PUBLIC_PRICES}
    return {v for v in found if len(v) >= 6}, {v for v in found if len(v) < 6}


async def published(tl: Timeline) -> dict[str, tuple[str, list[str]]]:
    """Every dataset as JSON text and CSV text, and all its cells as text."""
    archive = InMemoryArchive(tl.events)
    builder = OpenData()
    version = await builder.version(archive, date(2026, 12, 31))
    out: dict[str, tuple[str, list[str]]] = {}
    for name in DATASETS:
        table = await builder.dataset(archive, name, version)
        text = str(table.as_json()) + "\n" + table.as_csv()
        cells = [str(cell) for row in table.rows for cell in row if cell is not None]
        out[name] = (text, cells)
    return out


async def test_no_private_value_appears_in_any_open_dataset() -> None:
    tl = private_archive()
    long_values, short_values = private_values(tl)
    # The scan is not vacuous: it looks for contacts, people, credit codes, dues, royalties, votes, reasons.
    for expected in (
        "chen.li@m1.example",
        "Chen Li",
        "Zhang Min",
        "91350100M000100Y43",
        "91360100MA38ABCD9X",
        "48765.43",
        "300.25",
        "2000.50",
        "org-eligible-9b2e41",
        "org-participant-7f3a9c",
        "expert@alliance.example",
        "claims 1-3 read on clause 5.2",
        "Lin Wei",
        "li.na@huaxing-epi.example",
        "640.00",
        "CERTR1",
        "LIC-VN-SAIGON",
    ):
        assert expected in long_values, expected
    assert {"m1", "m3", "r1"} <= short_values
    datasets = await published(tl)
    assert all(cells for _, cells in datasets.values())  # every dataset has rows to scan
    for name, (text, cells) in datasets.items():
        leaked = sorted(v for v in long_values if v in text)
        assert not leaked, f"{name} publishes private values: {leaked}"
        leaked_cells = sorted(c for c in cells if c in short_values)
        assert not leaked_cells, f"{name} publishes private ids: {leaked_cells}"


def test_no_open_dataset_has_a_private_field_as_a_column() -> None:
    for name, dataset in DATASETS.items():
        columns = {c.name for c in dataset(Period(date(2026, 1, 1))).columns}
        assert not columns & PRIVATE_FIELDS, name


@pytest.mark.parametrize("name", list(DATASETS))
async def test_a_pending_applicant_is_never_published(name: str) -> None:
    datasets = await published(private_archive())
    assert "Nanchang Pending Applicant" not in datasets[name][0]


def test_the_privacy_scenario_is_dated_inside_the_year() -> None:
    assert all(e.time < datetime(2027, 1, 1, tzinfo=UTC) for e in private_archive().events)
