"""Organisation ↔ document mapping (the repository base's TypeAdapter; no database)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from alliance_common.outbox import Loaded
from alliance_common.testing import InMemoryStore
from membership.adapters.repository import OrganisationRepository
from membership.domain.dues import InvoicePeriod, Payment
from membership.domain.model import (
    Contact,
    CouncilDecision,
    Organisation,
    OrgType,
    ReviewDecision,
    Segment,
    Tier,
)
from membership.domain.standing import MembershipStatus

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


class NoSequences:
    async def next(self, name: str) -> int:
        raise AssertionError("mapping needs no sequence")


REPO = OrganisationRepository(InMemoryStore(), NoSequences())


def organisation() -> Organisation:
    return Organisation.apply(
        id="org-7",
        name="Xiamen Epitaxy Ltd.",
        credit_code="91440300708461136T",
        org_type=OrgType.RESEARCH_INSTITUTE,
        segments=[Segment.EPITAXY],
        region="Fujian",
        tier=Tier.COUNCIL_MEMBER,
        contact=Contact("Wang Fang", "wang@example.com", "+86 592 000"),
        applicant="wang@example.com",
        now=NOW,
    )


def member_with_dues() -> Organisation:
    org = organisation()
    org.review(ReviewDecision.ACCEPT, None, "s", NOW)
    org.decide(CouncilDecision.ADMIT, "welcome", "M2025-00003", "c", NOW)
    org.invoice_dues("DUES-1", InvoicePeriod.CURRENT, NOW)
    org.pay_dues("DUES-1", Payment("pay-1", Decimal("100.00"), NOW.date(), "card", "ref-9"), "s", NOW)
    org.override_status(MembershipStatus.CURRENT, "board decision", date(2025, 5, 1), "s", NOW)
    org.remind(date(2026, 2, 1))
    org.events = []
    return org


def stored(org: Organisation) -> Loaded:
    """What a round trip through a MongoDB-wire store gives back (JSON types only)."""
    return Loaded(org.id, org.version, json.loads(json.dumps(REPO.to_document(org))), ())


def test_document_leaves_out_id_version_and_events() -> None:
    doc = REPO.to_document(organisation())
    assert not {"id", "version", "events"} & doc.keys()
    assert doc["contact"] == {"name": "Wang Fang", "email": "wang@example.com", "phone": "+86 592 000"}


def test_round_trip_of_an_application() -> None:
    org = organisation()
    org.version = 3
    org.events = []
    assert REPO.from_document(stored(org)) == org


def test_round_trip_of_a_suspended_member_keeps_standing_number_and_history() -> None:
    org = organisation()
    org.review(ReviewDecision.ACCEPT, None, "s", NOW)
    org.decide(CouncilDecision.ADMIT, "welcome", "M2025-00003", "c", NOW)
    org.suspend("unpaid dues", "s", NOW)
    org.events = []
    back = REPO.from_document(stored(org))
    assert back == org
    assert [h.action for h in back.history] == ["applied", "review:accept", "council:admit", "suspended"]


def test_round_trip_of_dues_invoices_payments_reminders_and_an_override() -> None:
    org = member_with_dues()
    assert org.dues is not None and org.dues.reminders_sent and org.membership and org.membership.override
    assert REPO.from_document(stored(org)) == org


def test_document_shape_is_the_one_stored_before_the_shared_mapping() -> None:
    """Money as decimal strings, days as ISO dates, the membership by tier, no repeated member id."""
    doc: dict[str, Any] = REPO.to_document(member_with_dues())
    assert doc["membership"]["tier"] == "council_member" and "membership_type" not in doc["membership"]
    assert "member_id" not in doc["membership"]
    assert doc["membership"]["override"] == {
        "status": "current",
        "reason": "board decision",
        "set_on": "2025-03-01",
        "until": "2025-05-01",
    }
    assert doc["membership_status"] == doc["membership"]["status"]
    dues = doc["dues"]
    assert set(dues) == {"credit", "invoices", "reminders_sent"}
    invoice = dues["invoices"][0]
    assert "member_id" not in invoice and invoice["fee"] == "50000.00" and invoice["period_start"] == "2025-03-01"
    assert invoice["payments"] == [
        {"id": "pay-1", "amount": "100.00", "received_on": "2025-03-01", "method": "card", "reference": "ref-9"}
    ]
    assert all("member_id" not in r for r in dues["reminders_sent"])


def test_a_document_written_by_the_earlier_hand_written_mapping_still_loads() -> None:
    """As stored before (datetimes as BSON datetimes, ``reference`` and ``days_before`` optional)."""
    at = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    doc = {
        "name": "Xiamen Epitaxy Ltd.",
        "credit_code": "91440300708461136T",
        "org_type": "research_institute",
        "segments": ["epitaxy"],
        "region": "Fujian",
        "tier": "council_member",
        "contact": {"name": "Wang Fang", "email": "wang@example.com", "phone": None},
        "applicant": "wang@example.com",
        "submitted_at": at,
        "status": "admitted",
        "users": [
            {"subject": "wang@example.com", "name": "Wang Fang", "email": "wang@example.com", "role": "member_admin"}
        ],
        "membership_number": "M2025-00003",
        "admitted_at": at,
        "history": [{"at": at, "action": "applied", "by": "wang@example.com", "reason": None}],
        "membership": {
            "tier": "council_member",
            "join_date": "2025-03-01",
            "start_date": "2025-03-01",
            "end_date": "2026-02-28",
            "status": "new",
            "override": None,
        },
        "dues": {
            "credit": "0.00",
            "invoices": [
                {
                    "id": "DUES-1",
                    "period_start": "2025-03-01",
                    "period_end": "2026-02-28",
                    "fee": "50000.00",
                    "credit_applied": "0.00",
                    "amount": "50000.00",
                    "issued_on": "2025-03-01",
                    "due_on": "2025-03-31",
                    "status": "open",
                    "payments": [{"id": "pay-1", "amount": "100.00", "received_on": "2025-03-02", "method": "card"}],
                }
            ],
            "reminders_sent": [{"kind": "grace", "period_end": "2026-02-28", "on": "2026-03-01"}],
        },
        "membership_status": "new",
    }
    org = REPO.from_document(Loaded("org-7", 4, doc, ()))
    assert (org.id, org.version, org.submitted_at, org.history[0].at) == ("org-7", 4, at, at)
    assert org.membership is not None and org.membership.membership_type.annual_fee == Decimal("50000.00")
    assert org.membership.member_id == "org-7" and org.membership.end_date == date(2026, 2, 28)
    assert org.dues is not None and org.dues.account.member_id == "org-7"
    payment = org.dues.invoices[0].payments[0]
    assert (payment.amount, payment.reference) == (Decimal("100.00"), None)
    reminder = org.dues.reminders_sent[0]
    assert (reminder.member_id, reminder.days_before, reminder.invoice_id) == ("org-7", None, None)
    assert REPO.to_document(org)["dues"]["invoices"][0]["payments"][0]["reference"] is None


def test_to_document_does_not_mutate_the_aggregate() -> None:
    org = member_with_dues()
    entries = len(org.history)
    doc = REPO.to_document(org)
    doc["history"].clear()
    doc["contact"]["name"] = "changed"
    del doc["membership"]["status"]
    assert len(org.history) == entries > 0
    assert org.contact.name == "Wang Fang"
    assert org.membership is not None and org.membership.status is MembershipStatus.CURRENT
