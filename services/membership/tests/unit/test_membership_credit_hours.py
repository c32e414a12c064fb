"""Credit hours summed per organisation and per person (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from membership.adapters.credit_hours import CreditEntry
from membership.service_layer.credit_hours import summarise


def entry(registration: str, email: str, hours: str, session: str) -> CreditEntry:
    return CreditEntry(
        f"{session}/{registration}",
        "org-1",
        email,
        email.split("@")[0],
        Decimal(hours),
        [date(2026, 3, 10)],
        session,
        "Course",
        date(2026, 3, 10),
        f"ev-{registration}",
    )


def test_totals_per_organisation_and_per_person_are_exact_decimals() -> None:
    summary = summarise(
        "org-1",
        [
            entry("r1", "a@x.example", "6.5", "S1"),
            entry("r2", "b@x.example", "3.0", "S1"),
            entry("r3", "a@x.example", "0.1", "S2"),
        ],
    )
    assert summary.total_hours == Decimal("9.6") and summary.sessions == 2
    assert [(p.attendee_email, p.hours, p.sessions) for p in summary.people] == [
        ("a@x.example", Decimal("6.6"), 2),
        ("b@x.example", Decimal("3.0"), 1),
    ]


def test_an_organisation_without_hours_has_zero() -> None:
    summary = summarise("org-1", [])
    assert (summary.total_hours, summary.sessions, summary.people) == (Decimal("0"), 0, [])
