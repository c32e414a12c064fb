"""Session ↔ documents: the session's own document (its counts, no registrations) and one
document per registration, written after the session's versioned write from its journal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pymongo.errors import PyMongoError

from alliance_common.errors import Conflict
from alliance_common.mongo import Document
from alliance_common.outbox import Loaded
from alliance_common.testing import InMemoryStore
from training.adapters.repository import InMemoryRegistrations, SessionRepository
from training.domain.events import SessionScheduled
from training.domain.model import Audience, RegistrationStatus, Session, SessionFormat

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
REPO = SessionRepository(InMemoryStore())
to_document = REPO.to_document


def from_document(doc_id: str, version: int, doc: Document) -> Session:
    return REPO.from_document(Loaded(doc_id, version, doc, ()))


def new_session(capacity: int = 10) -> Session:
    return Session.schedule(
        id="sess-1",
        title="Salon",
        audience=Audience.EXECUTIVES,
        format=SessionFormat.SALON,
        starts_at=NOW + timedelta(days=10),
        ends_at=NOW + timedelta(days=10, hours=2),
        venue="Fuzhou",
        online=False,
        capacity=capacity,
        member_price=Decimal("99.9"),
        non_member_price=Decimal("1234.56"),
        currency="CNY",
        registration_closes_at=None,
        by="secretariat-1",
        now=NOW,
    )


def register(session: Session, rid: str, email: str, member: bool = False, waitlist: bool = False) -> None:
    session.register(
        registration_id=rid,
        attendee_name=email[0].upper(),
        attendee_email=email,
        organisation_id="org-1" if member else None,
        member_in_good_standing=member,
        by=email,
        now=NOW,
        waitlist=waitlist,
    )


def session_with_registrations() -> Session:
    session = new_session()
    register(session, "r1", "a@example.com", member=True)
    register(session, "r2", "b@example.com")
    return session


def test_money_is_stored_as_decimal_strings() -> None:
    session = session_with_registrations()
    doc, registrations = REPO.stored_form(session)
    assert doc["member_price"] == "99.90"
    assert doc["non_member_price"] == "1234.56"
    assert [r["price"] for r in registrations] == ["99.90", "1234.56"]


def test_the_session_document_holds_its_counts_and_no_registration() -> None:
    doc = to_document(session_with_registrations())
    assert not {"id", "version", "events", "registrations"} & doc.keys()
    assert (doc["held"], doc["waiting_count"], doc["registration_count"]) == (2, 0, 2)
    assert sorted(doc["active_emails"]) == ["a@example.com", "b@example.com"]


def test_a_registration_document_is_keyed_by_its_id_and_names_its_session() -> None:
    _, (first, _) = REPO.stored_form(session_with_registrations())
    assert (first["_id"], first["session_id"], first["number"]) == ("r1", "sess-1", 1)
    assert "id" not in first


async def test_round_trip_keeps_every_field_and_exact_prices() -> None:
    repo = SessionRepository(InMemoryStore())
    session = session_with_registrations()
    await repo.add(session)
    back = await repo.get(session.id)
    assert back == session
    assert back is not None and str(back.member_price) == "99.90"
    assert str(back.registrations[1].price) == "1234.56"
    assert all(isinstance(r.price, Decimal) for r in back.registrations)
    summary = await repo.get_summary(session.id)
    assert summary is not None and summary.registrations == [] and summary.seats_left == 8


def test_to_document_does_not_mutate_the_aggregate() -> None:
    session = session_with_registrations()
    REPO.stored_form(session)
    assert isinstance(session.member_price, Decimal)
    assert all(isinstance(r.price, Decimal) for r in session.registrations)


def test_a_document_without_registrations_loads_an_empty_session() -> None:
    back = from_document("sess-1", 1, to_document(new_session()))
    assert back.registrations == []
    assert back.seats_left == 10


async def test_only_changed_registrations_are_journalled_and_written() -> None:
    store, registrations = InMemoryStore(), InMemoryRegistrations()
    repo = SessionRepository(store, registrations)
    await repo.add(session_with_registrations())
    session = await repo.get("sess-1")
    assert session is not None
    session.cancel("r2", by="b@example.com", now=NOW, offer_for=timedelta(hours=1))
    await repo.save(session)
    journal = store.docs["sess-1"].state["journal"]
    assert [(d["_id"], d["sv"], d["status"]) for d in journal] == [("r2", 2, "cancelled")]
    assert registrations.docs["r1"]["sv"] == 1 and registrations.docs["r2"]["status"] == "cancelled"


async def test_admitting_on_the_summary_writes_the_new_registration_beside_the_others() -> None:
    repo = SessionRepository(InMemoryStore())
    session = new_session(capacity=1)
    register(session, "r1", "a@example.com")
    await repo.add(session)
    for rid, email in (("r2", "b@example.com"), ("r3", "c@example.com")):
        summary = await repo.get_summary("sess-1")
        assert summary is not None
        register(summary, rid, email, waitlist=True)
        assert summary.place_in_line(summary.registrations[0]) == int(rid[1]) - 1
        await repo.save(summary)
    full = await repo.get("sess-1")
    assert full is not None
    assert [r.id for r in full.registrations] == ["r1", "r2", "r3"]
    assert [full.place_in_line(r) for r in full.registrations] == [None, 1, 2]
    with pytest.raises(Conflict, match="registered for this session already"):
        summary = await repo.get_summary("sess-1")
        assert summary is not None
        register(summary, "r4", "b@example.com", waitlist=True)


class FailingOnce(InMemoryRegistrations):
    """The store refuses the next write of registrations (the process 'crashed' after the session write)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    async def put(self, docs: Sequence[Document], *, new: bool) -> None:
        if self.fail:
            self.fail = False
            raise PyMongoError("store unreachable")
        await super().put(docs, new=new)


async def test_registrations_not_written_after_the_commit_are_written_by_the_next_reader() -> None:
    store, registrations = InMemoryStore(), FailingOnce()
    first = SessionRepository(store, registrations)
    await first.add(new_session(capacity=2))
    summary = await first.get_summary("sess-1")
    assert summary is not None
    register(summary, "r1", "a@example.com")
    registrations.fail = True
    await first.save(summary)  # committed: the session counts the place, the journal holds r1
    assert "r1" not in registrations.docs and store.docs["sess-1"].state["held"] == 1
    other = SessionRepository(store, registrations)  # another process reads the session
    full = await other.get("sess-1")
    assert full is not None and [r.id for r in full.registrations] == ["r1"]
    assert registrations.docs["r1"]["status"] == RegistrationStatus.CONFIRMED.value


async def test_the_sweep_writes_out_a_journal_left_behind() -> None:
    store, registrations = InMemoryStore(), FailingOnce()
    repo = SessionRepository(store, registrations)
    session = session_with_registrations()
    registrations.fail = True
    await repo.add(session)
    assert registrations.docs == {}
    assert await SessionRepository(store, registrations).write_out_journals(everything=True) == 1
    assert sorted(registrations.docs) == ["r1", "r2"]
    assert await repo.ids_with_offers() == []


async def test_an_older_copy_never_replaces_a_newer_registration() -> None:
    registrations = InMemoryRegistrations()
    await registrations.put([{"_id": "r1", "sv": 3, "status": "cancelled"}], new=True)
    await registrations.put([{"_id": "r1", "sv": 2, "status": "confirmed"}], new=False)
    await registrations.put([{"_id": "r1", "sv": 3, "status": "confirmed"}], new=False)
    assert registrations.docs["r1"]["status"] == "cancelled"


def test_the_scheduled_event_carries_the_public_calendars_fields() -> None:
    (scheduled,) = [e for e in new_session().events if isinstance(e, SessionScheduled)]
    assert (scheduled.ends_at, scheduled.format, scheduled.venue, scheduled.online) == (
        NOW + timedelta(days=10, hours=2),
        "salon",
        "Fuzhou",
        False,
    )
