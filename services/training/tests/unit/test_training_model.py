"""Training sessions: scheduling rules, prices, capacity and registrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from alliance_common.errors import Conflict, InvalidInput
from training.domain.events import RegistrationConfirmed, SessionScheduled
from training.domain.model import Audience, Registration, Session, SessionFormat

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=30)
END = START + timedelta(hours=3)


def schedule(**overrides: object) -> Session:
    values: dict[str, object] = {
        "id": "sess-1",
        "title": "Patent pools for LED makers",
        "audience": Audience.IP_MANAGERS,
        "format": SessionFormat.SEMINAR,
        "starts_at": START,
        "ends_at": END,
        "venue": "Xiamen, Room 3",
        "online": False,
        "capacity": 2,
        "member_price": Decimal("800"),
        "non_member_price": Decimal("1200.5"),
        "currency": "CNY",
        "registration_closes_at": None,
        "by": "secretariat-1",
        "now": NOW,
    }
    values.update(overrides)
    return Session.schedule(**values)  # type: ignore[arg-type]


def register(
    session: Session,
    email: str = "a@example.com",
    member: bool = True,
    now: datetime = NOW,
    registration_id: str = "reg-1",
) -> Registration:
    return session.register(
        registration_id=registration_id,
        attendee_name="Attendee",
        attendee_email=email,
        organisation_id="org-1" if member else None,
        member_in_good_standing=member,
        by=email,
        now=now,
    )


# --- schedule ------------------------------------------------------------------------------


@pytest.mark.parametrize("starts_at", [NOW, NOW - timedelta(seconds=1)])
def test_a_session_must_start_in_the_future(starts_at: datetime) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        schedule(starts_at=starts_at, ends_at=starts_at + timedelta(hours=1))
    assert excinfo.value.field == "starts_at"


@pytest.mark.parametrize("ends_at", [START, START - timedelta(minutes=1)])
def test_a_session_must_end_after_it_starts(ends_at: datetime) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        schedule(ends_at=ends_at)
    assert excinfo.value.field == "ends_at"


@pytest.mark.parametrize("venue", [None, ""])
def test_an_in_person_session_needs_a_venue(venue: str | None) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        schedule(venue=venue, online=False)
    assert excinfo.value.field == "venue"


def test_an_online_session_needs_no_venue() -> None:
    assert schedule(venue=None, online=True).venue is None


def test_the_member_price_may_not_exceed_the_non_member_price() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        schedule(member_price=Decimal("1200.51"), non_member_price=Decimal("1200.50"))
    assert excinfo.value.field == "member_price"


def test_equal_member_and_non_member_prices_are_allowed() -> None:
    session = schedule(member_price=Decimal("500"), non_member_price=Decimal("500"))
    assert session.member_price == session.non_member_price == Decimal("500.00")


def test_registration_may_not_close_after_the_start() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        schedule(registration_closes_at=START + timedelta(seconds=1))
    assert excinfo.value.field == "registration_closes_at"


def test_registration_closes_at_the_start_by_default() -> None:
    assert schedule(registration_closes_at=None).registration_closes_at == START


def test_registration_may_close_before_the_start() -> None:
    closes = START - timedelta(days=2)
    assert schedule(registration_closes_at=closes).registration_closes_at == closes


def test_prices_are_quantized_to_cents() -> None:
    session = schedule()
    assert str(session.member_price) == "800.00"
    assert str(session.non_member_price) == "1200.50"


def test_schedule_emits_session_scheduled_with_exact_prices() -> None:
    (event,) = schedule().events
    assert isinstance(event, SessionScheduled)
    assert (event.session_id, event.capacity, event.currency, event.starts_at) == ("sess-1", 2, "CNY", START)
    assert event.member_price == Decimal("800.00")
    assert event.non_member_price == Decimal("1200.50")


# --- register ------------------------------------------------------------------------------


def test_a_member_in_good_standing_pays_the_member_price() -> None:
    registration = register(schedule(), member=True)
    assert registration.price == Decimal("800.00")
    assert isinstance(registration.price, Decimal)
    assert registration.member_price_applied is True


def test_anyone_else_pays_the_non_member_price() -> None:
    registration = register(schedule(), member=False)
    assert registration.price == Decimal("1200.50")
    assert str(registration.price) == "1200.50"
    assert registration.member_price_applied is False


def test_registration_emits_registration_confirmed_with_the_price() -> None:
    session = schedule()
    register(session, email="Li.Wei@Example.com", member=False, registration_id="reg-9")
    event = session.events[-1]
    assert isinstance(event, RegistrationConfirmed)
    assert (event.session_id, event.registration_id, event.organisation_id, event.attendee_email) == (
        "sess-1",
        "reg-9",
        None,
        "li.wei@example.com",
    )
    assert event.price == Decimal("1200.50")
    assert (event.currency, event.member_price_applied) == ("CNY", False)


def test_registration_counts_against_capacity() -> None:
    session = schedule(capacity=2)
    register(session, "a@example.com")
    assert (session.confirmed, session.seats_left) == (1, 1)


def test_the_registration_after_capacity_is_full() -> None:
    session = schedule(capacity=2)
    register(session, "a@example.com", registration_id="r1")
    register(session, "b@example.com", registration_id="r2")
    events = len(session.events)
    with pytest.raises(Conflict) as excinfo:
        register(session, "c@example.com", registration_id="r3")
    assert "full" in excinfo.value.detail
    assert session.confirmed == 2
    assert len(session.events) == events


@pytest.mark.parametrize("again", ["a@example.com", "A@Example.COM"])
def test_the_same_email_cannot_register_twice(again: str) -> None:
    session = schedule()
    register(session, "a@example.com", registration_id="r1")
    with pytest.raises(Conflict) as excinfo:
        register(session, again, registration_id="r2")
    assert excinfo.value.field == "attendee_email"
    assert session.confirmed == 1


def test_emails_are_stored_in_lower_case() -> None:
    assert register(schedule(), "Chen.Li@Example.COM").attendee_email == "chen.li@example.com"


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=1)])
def test_registration_at_or_after_closing_is_a_conflict(offset: timedelta) -> None:
    closes = START - timedelta(days=1)
    session = schedule(registration_closes_at=closes)
    with pytest.raises(Conflict) as excinfo:
        register(session, now=closes + offset)
    assert "closed" in excinfo.value.detail
    assert session.registrations == []


def test_registration_just_before_closing_is_accepted() -> None:
    closes = START - timedelta(days=1)
    session = schedule(registration_closes_at=closes)
    register(session, now=closes - timedelta(seconds=1))
    assert session.confirmed == 1
