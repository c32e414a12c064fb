"""Organisation ↔ document mapping (pure functions; no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from membership.adapters.repository import from_document, to_document
from membership.domain.model import (
    Contact,
    CouncilDecision,
    Organisation,
    OrgType,
    ReviewDecision,
    Segment,
    Tier,
)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


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


def test_document_leaves_out_id_version_and_events() -> None:
    doc = to_document(organisation())
    assert not {"id", "version", "events"} & doc.keys()
    assert doc["contact"] == {"name": "Wang Fang", "email": "wang@example.com", "phone": "+86 592 000"}


def test_round_trip_of_an_application() -> None:
    org = organisation()
    org.version = 3
    back = from_document(org.id, 3, to_document(org))
    org.events = []
    assert back == org


def test_round_trip_of_a_suspended_member_keeps_standing_number_and_history() -> None:
    org = organisation()
    org.review(ReviewDecision.ACCEPT, None, "s", NOW)
    org.decide(CouncilDecision.ADMIT, "welcome", "M2025-00003", "c", NOW)
    org.suspend("unpaid dues", "s", NOW)
    back = from_document(org.id, org.version, to_document(org))
    org.events = []
    assert back == org
    assert [h.action for h in back.history] == ["applied", "review:accept", "council:admit", "suspended"]


def test_to_document_does_not_mutate_the_aggregate() -> None:
    org = organisation()
    doc = to_document(org)
    doc["history"].clear()
    doc["contact"]["name"] = "changed"
    assert len(org.history) == 1
    assert org.contact.name == "Wang Fang"
    assert len(org.events) == 1
