"""Session ↔ document mapping (the repository base's TypeAdapter; money stored as decimal strings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from alliance_common.mongo import Document
from alliance_common.outbox import Loaded
from alliance_common.testing import InMemoryStore
from training.adapters.repository import SessionRepository
from training.domain.model import Audience, Session, SessionFormat

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
REPO = SessionRepository(InMemoryStore())
to_document = REPO.to_document


def from_document(doc_id: str, version: int, doc: Document) -> Session:
    return REPO.from_document(Loaded(doc_id, version, doc, ()))


def session_with_registrations() -> Session:
    session = Session.schedule(
        id="sess-1",
        title="Salon",
        audience=Audience.EXECUTIVES,
        format=SessionFormat.SALON,
        starts_at=NOW + timedelta(days=10),
        ends_at=NOW + timedelta(days=10, hours=2),
        venue="Fuzhou",
        online=False,
        capacity=10,
        member_price=Decimal("99.9"),
        non_member_price=Decimal("1234.56"),
        currency="CNY",
        registration_closes_at=None,
        by="secretariat-1",
        now=NOW,
    )
    session.register(
        registration_id="r1",
        attendee_name="A",
        attendee_email="a@example.com",
        organisation_id="org-1",
        member_in_good_standing=True,
        by="a@example.com",
        now=NOW,
    )
    session.register(
        registration_id="r2",
        attendee_name="B",
        attendee_email="b@example.com",
        organisation_id=None,
        member_in_good_standing=False,
        by="b@example.com",
        now=NOW,
    )
    return session


def test_money_is_stored_as_decimal_strings() -> None:
    doc = to_document(session_with_registrations())
    assert doc["member_price"] == "99.90"
    assert doc["non_member_price"] == "1234.56"
    assert [r["price"] for r in doc["registrations"]] == ["99.90", "1234.56"]


def test_document_leaves_out_id_version_and_events() -> None:
    assert not {"id", "version", "events"} & to_document(session_with_registrations()).keys()


def test_round_trip_keeps_every_field_and_exact_prices() -> None:
    session = session_with_registrations()
    back = from_document(session.id, 2, to_document(session))
    session.events = []
    session.version = 2
    assert back == session
    assert str(back.member_price) == "99.90"
    assert str(back.registrations[1].price) == "1234.56"
    assert all(isinstance(r.price, Decimal) for r in back.registrations)


def test_to_document_does_not_mutate_the_aggregate() -> None:
    session = session_with_registrations()
    to_document(session)
    assert isinstance(session.member_price, Decimal)
    assert all(isinstance(r.price, Decimal) for r in session.registrations)


def test_a_document_without_registrations_loads_an_empty_session() -> None:
    doc = to_document(session_with_registrations())
    del doc["registrations"]
    back = from_document("sess-1", 1, doc)
    assert back.registrations == []
    assert back.seats_left == 10
