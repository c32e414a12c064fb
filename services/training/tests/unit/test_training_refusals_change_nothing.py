"""A refused command changes nothing: the rule that lets concurrent changes be combined in one write.

The service applies racing changes to a session in one batch (alliance_common.combiner); a
refusal in the middle must leave the session exactly as it was, or the others would save its
half-made change. Random command sequences check it: after every refusal, the stored form of
the session (its document and its registrations' documents) and its pending events are
unchanged. After every command, refused or not, the counts the session keeps (places held,
people waiting, who is registered) agree with its registrations.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from alliance_common.errors import DomainError
from alliance_common.testing import InMemoryStore
from training.adapters.repository import SessionRepository
from training.domain.model import ACTIVE, HOLDS_PLACE, Audience, RegistrationStatus, Session, SessionFormat

stored_form = SessionRepository(InMemoryStore()).stored_form

START = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
BEFORE = START - timedelta(days=20)
OFFER = timedelta(hours=24)

commands = st.lists(
    st.tuples(
        st.sampled_from(["register", "group", "cancel", "approve", "reject", "accept", "expire", "check_in", "close"]),
        st.integers(min_value=0, max_value=7),  # which person / registration
        st.booleans(),  # waiting-list consent
        st.integers(min_value=-2, max_value=40),  # hours after BEFORE or START
    ),
    min_size=1,
    max_size=40,
)


def new_session(requires_approval: bool, capacity: int) -> Session:
    s = Session.schedule(
        id="sess-1",
        title="Multi-day LED course",
        audience=Audience.ENGINEERS,
        format=SessionFormat.COURSE,
        starts_at=START,
        ends_at=START + timedelta(days=1, hours=8),
        venue="Suzhou",
        online=False,
        capacity=capacity,
        member_price=Decimal("800"),
        non_member_price=Decimal("1500"),
        currency="CNY",
        registration_closes_at=None,
        by="secretariat",
        now=BEFORE - timedelta(days=1),
        requires_approval=requires_approval,
        cancellation_deadline=START - timedelta(days=10),
        cancellation_fee=Decimal("200"),
    )
    s.events.clear()
    return s


def run(s: Session, command: tuple[str, int, bool, int], ids: Any) -> None:
    action, who, consent, hours = command
    ids_known = [r.id for r in s.registrations]
    target = ids_known[who % len(ids_known)] if ids_known else "nobody"
    early, late = BEFORE + timedelta(hours=hours), START + timedelta(hours=hours)
    if action == "register":
        s.register(
            registration_id=next(ids),
            attendee_name=f"P{who}",
            attendee_email=f"p{who}@x.example",
            organisation_id="org-1",
            member_in_good_standing=bool(who % 2),
            by="u",
            now=early,
            waitlist=consent,
        )
    elif action == "group":
        from training.domain.model import Attendee

        people = [Attendee(f"P{who + k}", f"p{(who + k) % 8}@x.example") for k in range(3)]
        s.register_group(
            registration_ids=[next(ids) for _ in people],
            attendees=people,
            organisation_id="org-1",
            member_in_good_standing=True,
            by="u",
            now=early,
            waitlist=consent,
        )
    elif action == "cancel":
        s.cancel(target, by="u", now=early if consent else late, offer_for=OFFER)
    elif action == "approve":
        s.approve(target, by="staff", now=early)
    elif action == "reject":
        s.reject(target, reason="" if consent else "not eligible", by="staff", now=early, offer_for=OFFER)
    elif action == "accept":
        s.accept_offer(target, by="u", now=early + timedelta(hours=hours))
    elif action == "expire":
        s.expire_offers(now=early + timedelta(days=2), offer_for=OFFER)
    elif action == "check_in":
        s.check_in(target, day=(late + timedelta(hours=hours)).date() if consent else None, by="staff", now=late)
    else:
        s.close_attendance(by="staff", now=late, new_code=lambda: f"CODE{next(ids)}")


@settings(max_examples=300, deadline=None)
@given(commands, st.booleans(), st.integers(min_value=1, max_value=4))
def test_a_refused_command_leaves_the_session_exactly_as_it_was(
    sequence: list[tuple[str, int, bool, int]], requires_approval: bool, capacity: int
) -> None:
    s = new_session(requires_approval, capacity)
    ids = (f"r{i}" for i in itertools.count())
    for command in sequence:
        before, events = stored_form(s), list(s.events)
        try:
            run(s, command, ids)
        except DomainError as exc:
            event(f"refused {command[0]}: {type(exc).__name__}")
            assert stored_form(s) == before, command
            assert s.events == events, command
        assert s.held == sum(1 for r in s.registrations if r.status in HOLDS_PLACE), command
        assert s.waiting_count == sum(1 for r in s.registrations if r.status is RegistrationStatus.WAITLISTED)
        assert s.active_emails == {r.attendee_email for r in s.registrations if r.status in ACTIVE}, command
        assert s.registration_count == len(s.registrations)
        assert [r.number for r in s.registrations] == list(range(1, len(s.registrations) + 1))
    assert s.places_held <= s.capacity
