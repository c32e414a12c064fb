"""Registrations in depth: the state machine, approval, waiting list and offers, groups, pricing,
cancellation fees, attendance, certificates and credit hours, and sessions proposed from standards."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from alliance_common.errors import Conflict, InvalidInput, NotFound
from training.domain.events import (
    CertificateIssued,
    CreditHoursEarned,
    RegistrationConfirmed,
    RegistrationStatusChanged,
    SessionProposed,
)
from training.domain.model import (
    CODE_ALPHABET,
    TRANSITIONS,
    Attendee,
    Audience,
    Registration,
    RegistrationStatus,
    Session,
    SessionFormat,
    default_credit_hours,
    new_verification_code,
)
from training.domain.proposal import Proposal, ProposalStatus

S = RegistrationStatus
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
OFFER = timedelta(hours=24)
_ids = itertools.count(1)


def session(**overrides: object) -> Session:
    values: dict[str, object] = {
        "id": "sess-1",
        "title": "LED patent landscape course",
        "audience": Audience.ENGINEERS,
        "format": SessionFormat.COURSE,
        "starts_at": START,
        "ends_at": START + timedelta(hours=8),
        "venue": "Suzhou",
        "online": False,
        "capacity": 2,
        "member_price": Decimal("800"),
        "non_member_price": Decimal("1500"),
        "currency": "CNY",
        "registration_closes_at": None,
        "by": "secretariat",
        "now": NOW,
    }
    values.update(overrides)
    s = Session.schedule(**values)  # type: ignore[arg-type]
    s.events = []
    return s


def reg(s: Session, email: str, *, waitlist: bool = False, now: datetime = NOW, member: bool = True) -> Registration:
    return s.register(
        registration_id=f"r{next(_ids)}",
        attendee_name=email.split("@")[0],
        attendee_email=email,
        organisation_id="org-1",
        member_in_good_standing=member,
        by="admin@org-1",
        now=now,
        waitlist=waitlist,
    )


def statuses(s: Session) -> list[tuple[str, RegistrationStatus]]:
    return [(r.attendee_email, r.status) for r in s.registrations]


# --- the state machine: every allowed and every forbidden transition ------------------------

ALL_MOVES = [(a, b) for a in S for b in S]


@pytest.mark.parametrize(("start", "to"), ALL_MOVES)
def test_every_transition_is_allowed_exactly_as_the_table_says(start: S, to: S) -> None:
    r = Registration("r", "A", "a@x.example", "org", "a", Decimal("1"), True, start, NOW)
    if to in TRANSITIONS[start]:
        r.move(to, at=NOW, by="someone", reason="why")
        assert r.status is to
        assert (r.history[-1].status, r.history[-1].by, r.history[-1].reason) == (to, "someone", "why")
    else:
        with pytest.raises(Conflict):
            r.move(to, at=NOW, by="someone")
        assert r.status is start and r.history == []


def test_terminal_states_allow_nothing() -> None:
    assert TRANSITIONS[S.REJECTED] == TRANSITIONS[S.CANCELLED] == TRANSITIONS[S.OFFER_EXPIRED] == frozenset()


def test_a_new_registration_is_confirmed_when_a_place_is_free() -> None:
    s = session()
    r = reg(s, "a@x.example")
    assert r.status is S.CONFIRMED
    assert [h.status for h in r.history] == [S.CONFIRMED]
    assert isinstance(s.events[-1], RegistrationConfirmed)


# --- approval --------------------------------------------------------------------------------


def test_a_pending_registration_holds_its_place_so_approval_never_overbooks() -> None:
    s = session(requires_approval=True, capacity=1)
    first = reg(s, "a@x.example")
    assert first.status is S.PENDING and s.seats_left == 0
    with pytest.raises(Conflict) as excinfo:
        reg(s, "b@x.example")
    assert excinfo.value.field == "waitlist"
    s.approve(first.id, by="secretariat", now=NOW)
    assert first.status is S.CONFIRMED and s.confirmed == 1
    assert isinstance(s.events[-1], RegistrationConfirmed)


def test_rejection_needs_a_reason_and_frees_the_place_for_the_next_person() -> None:
    s = session(requires_approval=True, capacity=1)
    first = reg(s, "a@x.example")
    waiting = reg(s, "b@x.example", waitlist=True)
    with pytest.raises(InvalidInput) as excinfo:
        s.reject(first.id, reason="  ", by="secretariat", now=NOW, offer_for=OFFER)
    assert excinfo.value.field == "reason" and first.status is S.PENDING
    s.reject(first.id, reason="not an engineer", by="secretariat", now=NOW, offer_for=OFFER)
    assert first.status is S.REJECTED and first.history[-1].reason == "not an engineer"
    assert waiting.status is S.OFFERED


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_only_pending_registrations_are_decided(action: str) -> None:
    s = session()
    r = reg(s, "a@x.example")
    with pytest.raises(Conflict):
        if action == "approve":
            s.approve(r.id, by="secretariat", now=NOW)
        else:
            s.reject(r.id, reason="no", by="secretariat", now=NOW, offer_for=OFFER)
    assert r.status is S.CONFIRMED


def test_an_unknown_registration_is_not_found() -> None:
    with pytest.raises(NotFound) as excinfo:
        session().approve("nope", by="secretariat", now=NOW)
    assert excinfo.value.field == "registration_id"


# --- capacity and the waiting list -------------------------------------------------------------


def test_registering_beyond_capacity_without_consent_is_a_conflict_naming_the_field() -> None:
    s = session(capacity=1)
    reg(s, "a@x.example")
    events = len(s.events)
    with pytest.raises(Conflict) as excinfo:
        reg(s, "b@x.example")
    assert excinfo.value.field == "waitlist" and "full" in excinfo.value.detail
    assert len(s.registrations) == 1 and len(s.events) == events


def test_the_waiting_list_keeps_order_and_promotes_the_first_on_cancellation() -> None:
    s = session(capacity=1)
    a = reg(s, "a@x.example")
    b = reg(s, "b@x.example", waitlist=True)
    c = reg(s, "c@x.example", waitlist=True)
    assert [r.attendee_email for r in s.waiting] == ["b@x.example", "c@x.example"]
    s.cancel(a.id, by="admin@org-1", now=NOW, offer_for=OFFER)
    assert (b.status, c.status) == (S.OFFERED, S.WAITLISTED)
    assert b.offer_expires_at == NOW + OFFER
    offered = s.events[-1]
    assert isinstance(offered, RegistrationStatusChanged) and offered.status == "offered"
    assert s.seats_left == 0  # the offer holds the place


def test_nobody_jumps_the_queue_while_people_wait() -> None:
    s = session(capacity=1)
    reg(s, "a@x.example")
    reg(s, "b@x.example", waitlist=True)
    s.capacity = 2  # a place appears without a promotion having run
    late = reg(s, "late@x.example", waitlist=True)
    assert late.status is S.WAITLISTED


def test_an_accepted_offer_confirms_the_place() -> None:
    s = session(capacity=1)
    a = reg(s, "a@x.example")
    b = reg(s, "b@x.example", waitlist=True)
    s.cancel(a.id, by="a", now=NOW, offer_for=OFFER)
    s.accept_offer(b.id, by="b", now=NOW + timedelta(hours=1))
    assert b.status is S.CONFIRMED and b.offer_expires_at is None
    assert [h.status for h in b.history] == [S.WAITLISTED, S.OFFERED, S.CONFIRMED]


def test_accepting_an_expired_offer_is_a_conflict_and_changes_nothing() -> None:
    s = session(capacity=1)
    a = reg(s, "a@x.example")
    b = reg(s, "b@x.example", waitlist=True)
    s.cancel(a.id, by="a", now=NOW, offer_for=OFFER)
    with pytest.raises(Conflict) as excinfo:
        s.accept_offer(b.id, by="b", now=NOW + OFFER)
    assert excinfo.value.field == "offer_expires_at" and b.status is S.OFFERED


def test_expired_offers_lapse_and_the_place_goes_to_the_next_in_order() -> None:
    s = session(capacity=1)
    a = reg(s, "a@x.example")
    b = reg(s, "b@x.example", waitlist=True)
    c = reg(s, "c@x.example", waitlist=True)
    s.cancel(a.id, by="a", now=NOW, offer_for=OFFER)
    assert s.expire_offers(now=NOW + OFFER - timedelta(seconds=1), offer_for=OFFER) == []
    later = NOW + OFFER
    assert s.expire_offers(now=later, offer_for=OFFER) == [b]
    assert (b.status, c.status) == (S.OFFER_EXPIRED, S.OFFERED)
    assert c.offer_expires_at == later + OFFER
    with pytest.raises(Conflict):
        s.accept_offer(b.id, by="b", now=later)


def test_an_offer_never_outlasts_the_start() -> None:
    s = session(capacity=1)
    a = reg(s, "a@x.example")
    b = reg(s, "b@x.example", waitlist=True)
    s.cancel(a.id, by="a", now=START - timedelta(hours=2), offer_for=OFFER)
    assert b.offer_expires_at == START


def test_an_accepted_offer_on_an_approval_session_waits_for_approval() -> None:
    s = session(capacity=1, requires_approval=True)
    a = reg(s, "a@x.example")
    b = reg(s, "b@x.example", waitlist=True)
    s.cancel(a.id, by="a", now=NOW, offer_for=OFFER)
    s.accept_offer(b.id, by="b", now=NOW)
    assert b.status is S.PENDING


def test_leaving_the_waiting_list_promotes_nobody_and_costs_nothing() -> None:
    s = session(capacity=1, cancellation_fee=Decimal("100"))
    reg(s, "a@x.example")
    b = reg(s, "b@x.example", waitlist=True)
    c = reg(s, "c@x.example", waitlist=True)
    s.cancel(b.id, by="b", now=START - timedelta(hours=1), offer_for=OFFER)
    assert (b.status, b.cancellation_fee, c.status) == (S.CANCELLED, Decimal("0.00"), S.WAITLISTED)


# --- group registration ------------------------------------------------------------------------


def group(s: Session, *emails: str, waitlist: bool = False) -> list[Registration]:
    return s.register_group(
        registration_ids=[f"g{next(_ids)}" for _ in emails],
        attendees=[Attendee(e.split("@")[0], e) for e in emails],
        organisation_id="org-2",
        member_in_good_standing=False,
        by="admin@org-2",
        now=NOW,
        waitlist=waitlist,
    )


def test_a_group_gets_places_for_all_or_none_without_consent() -> None:
    s = session(capacity=3)
    reg(s, "a@x.example")
    with pytest.raises(Conflict) as excinfo:
        group(s, "b@y.example", "c@y.example", "d@y.example")
    assert excinfo.value.field == "waitlist"
    assert len(s.registrations) == 1


def test_a_group_with_consent_fills_the_places_and_waits_for_the_rest_in_order() -> None:
    s = session(capacity=3)
    reg(s, "a@x.example")
    made = group(s, "b@y.example", "c@y.example", "d@y.example", waitlist=True)
    assert [r.status for r in made] == [S.CONFIRMED, S.CONFIRMED, S.WAITLISTED]
    assert all(r.organisation_id == "org-2" and r.price == Decimal("1500.00") for r in made)


def test_a_group_naming_someone_twice_is_refused_with_the_field() -> None:
    s = session(capacity=5)
    with pytest.raises(InvalidInput) as excinfo:
        group(s, "b@y.example", "B@y.example")
    assert excinfo.value.field == "attendees.1.attendee_email" and s.registrations == []


def test_a_group_naming_someone_already_registered_is_a_conflict() -> None:
    s = session(capacity=5)
    reg(s, "b@y.example")
    with pytest.raises(Conflict) as excinfo:
        group(s, "c@y.example", "b@y.example")
    assert excinfo.value.field == "attendees.1.attendee_email" and len(s.registrations) == 1


def test_someone_who_cancelled_may_register_again() -> None:
    s = session()
    r = reg(s, "a@x.example")
    s.cancel(r.id, by="a", now=NOW, offer_for=OFFER)
    assert reg(s, "a@x.example").status is S.CONFIRMED


# --- registration window -----------------------------------------------------------------------


def test_registration_before_the_window_opens_is_a_conflict() -> None:
    s = session(registration_opens_at=NOW + timedelta(days=1))
    with pytest.raises(Conflict) as excinfo:
        reg(s, "a@x.example")
    assert excinfo.value.field == "registration_opens_at" and s.registrations == []
    assert reg(s, "a@x.example", now=NOW + timedelta(days=1)).status is S.CONFIRMED


def test_the_window_must_open_before_it_closes() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        session(registration_opens_at=START)
    assert excinfo.value.field == "registration_opens_at"


# --- pricing -----------------------------------------------------------------------------------

EARLY = {"early_bird_price": Decimal("600"), "early_bird_until": NOW + timedelta(days=10)}


@pytest.mark.parametrize(
    ("member", "when", "price", "early"),
    [
        (True, NOW, Decimal("600.00"), True),
        (False, NOW, Decimal("600.00"), True),
        (True, NOW + timedelta(days=10), Decimal("800.00"), False),
        (False, NOW + timedelta(days=10), Decimal("1500.00"), False),
    ],
)
def test_the_early_bird_price_applies_until_its_date(member: bool, when: datetime, price: Decimal, early: bool) -> None:
    quote = session(**EARLY).quote(member, when)
    assert (quote.price, quote.member_price_applied, quote.early_bird_applied) == (price, member, early)


def test_a_member_price_below_the_early_bird_price_stays() -> None:
    quote = session(member_price=Decimal("500"), **EARLY).quote(True, NOW)
    assert (quote.price, quote.early_bird_applied) == (Decimal("500.00"), False)


def test_the_price_is_fixed_at_registration_by_standing_then() -> None:
    s = session(capacity=3, **EARLY)
    assert reg(s, "a@x.example", member=False).price == Decimal("600.00")
    late = reg(s, "b@x.example", member=False, now=NOW + timedelta(days=11))
    assert (late.price, late.member_price_applied, late.early_bird_applied) == (Decimal("1500.00"), False, False)
    assert reg(s, "c@x.example", member=True, now=NOW + timedelta(days=11)).price == Decimal("800.00")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"early_bird_price": Decimal("600")}, "early_bird_until"),
        ({"early_bird_until": NOW + timedelta(days=1)}, "early_bird_price"),
        ({"early_bird_price": Decimal("1500"), "early_bird_until": NOW + timedelta(days=1)}, "early_bird_price"),
        ({"early_bird_price": Decimal("600"), "early_bird_until": START + timedelta(days=1)}, "early_bird_until"),
        ({"cancellation_deadline": START + timedelta(seconds=1)}, "cancellation_deadline"),
        ({"cancellation_fee": Decimal("1500.01")}, "cancellation_fee"),
        ({"min_days_for_certificate": 2}, "min_days_for_certificate"),
        ({"credit_hours_per_day": Decimal("25")}, "credit_hours_per_day"),
        ({"capacity": 0}, "capacity"),
    ],
)
def test_bad_session_settings_name_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        session(**overrides)
    assert excinfo.value.field == field


# --- cancellation ------------------------------------------------------------------------------


def test_cancellation_before_the_deadline_is_free_and_after_it_costs_the_fee() -> None:
    deadline = START - timedelta(days=7)
    s = session(capacity=3, cancellation_deadline=deadline, cancellation_fee=Decimal("200"))
    early, late = reg(s, "a@x.example"), reg(s, "b@x.example")
    s.cancel(early.id, by="a", now=deadline, offer_for=OFFER)
    s.cancel(late.id, by="b", now=deadline + timedelta(seconds=1), offer_for=OFFER, reason="ill")
    assert early.cancellation_fee == Decimal("0.00")
    assert late.cancellation_fee == Decimal("200.00") and isinstance(late.cancellation_fee, Decimal)
    assert late.history[-1].reason == "ill"
    event = s.events[-1]
    assert isinstance(event, RegistrationStatusChanged) and event.cancellation_fee == Decimal("200.00")


def test_the_fee_never_exceeds_what_was_paid() -> None:
    s = session(member_price=Decimal("0"), cancellation_fee=Decimal("300"))
    r = reg(s, "a@x.example")
    s.cancel(r.id, by="a", now=START - timedelta(minutes=1), offer_for=OFFER)
    assert r.cancellation_fee == Decimal("0.00")


def test_no_cancellation_once_the_session_started_or_twice() -> None:
    s = session()
    r = reg(s, "a@x.example")
    with pytest.raises(Conflict):
        s.cancel(r.id, by="a", now=START, offer_for=OFFER)
    s.cancel(r.id, by="a", now=NOW, offer_for=OFFER)
    with pytest.raises(Conflict):
        s.cancel(r.id, by="a", now=NOW, offer_for=OFFER)
    assert [h.status for h in r.history] == [S.CONFIRMED, S.CANCELLED]


# --- attendance, certificates and credit hours ---------------------------------------------------

COURSE = {"ends_at": START + timedelta(days=2, hours=8), "capacity": 5, "credit_hours_per_day": Decimal("6.5")}
DAY1, DAY2, DAY3 = (START.date() + timedelta(days=i) for i in range(3))


def test_a_multi_day_course_has_its_days() -> None:
    assert session(**COURSE).days == [DAY1, DAY2, DAY3]


def test_check_in_rules_name_the_field_and_change_nothing() -> None:
    s = session(**COURSE)
    confirmed = reg(s, "a@x.example")
    waiting_room = session(capacity=1)
    with pytest.raises(Conflict) as excinfo:
        s.check_in(confirmed.id, day=DAY1, by="staff", now=START - timedelta(minutes=1))
    assert excinfo.value.field == "day"
    with pytest.raises(InvalidInput) as excinfo2:
        s.check_in(confirmed.id, day=DAY3 + timedelta(days=1), by="staff", now=START)
    assert excinfo2.value.field == "day"
    s.check_in(confirmed.id, day=DAY2, by="staff", now=START)
    with pytest.raises(Conflict):
        s.check_in(confirmed.id, day=DAY2, by="staff", now=START)
    assert confirmed.days_attended == [DAY2]
    reg(waiting_room, "a@x.example")
    other = reg(waiting_room, "b@x.example", waitlist=True)
    with pytest.raises(Conflict) as excinfo3:
        waiting_room.check_in(other.id, day=None, by="staff", now=START)
    assert excinfo3.value.field == "registration_id" and other.attendance == []


def test_certificates_go_to_those_who_attended_every_day_and_hours_to_all_who_came() -> None:
    s = session(**COURSE)
    full, partial, absent = reg(s, "a@x.example"), reg(s, "b@x.example"), reg(s, "c@x.example")
    for day in (DAY1, DAY2, DAY3):
        s.check_in(full.id, day=day, by="staff", now=START)
    s.check_in(partial.id, day=DAY1, by="staff", now=START)
    s.events = []
    certified = s.close_attendance(by="secretariat", now=START + timedelta(days=2), new_code=lambda: "ABCDEFGHJKMN")
    assert certified == [full]
    assert full.certificate is not None and full.certificate.hours == Decimal("19.5")
    assert full.certificate.days == [DAY1, DAY2, DAY3] and full.certificate.code == "ABCDEFGHJKMN"
    assert (partial.certificate, partial.credit_hours) == (None, Decimal("6.5"))
    assert (absent.certificate, absent.credit_hours) == (None, None)
    earned = [e for e in s.events if isinstance(e, CreditHoursEarned)]
    assert [(e.attendee_email, e.hours, e.days) for e in earned] == [
        ("a@x.example", Decimal("19.5"), (DAY1, DAY2, DAY3)),
        ("b@x.example", Decimal("6.5"), (DAY1,)),
    ]
    (issued,) = [e for e in s.events if isinstance(e, CertificateIssued)]
    assert (issued.verification_code, issued.credit_hours) == ("ABCDEFGHJKMN", Decimal("19.5"))


def test_a_stated_minimum_of_days_is_enough_for_a_certificate() -> None:
    s = session(**COURSE, min_days_for_certificate=2)
    r = reg(s, "a@x.example")
    s.check_in(r.id, day=DAY1, by="staff", now=START)
    s.check_in(r.id, day=DAY3, by="staff", now=START)
    assert s.close_attendance(by="secretariat", now=START) == [r]


def test_attendance_closes_once_and_then_takes_no_check_ins() -> None:
    s = session(**COURSE)
    r = reg(s, "a@x.example")
    with pytest.raises(Conflict):
        s.close_attendance(by="secretariat", now=NOW)
    s.close_attendance(by="secretariat", now=START)
    with pytest.raises(Conflict):
        s.close_attendance(by="secretariat", now=START)
    with pytest.raises(Conflict):
        s.check_in(r.id, day=DAY1, by="staff", now=START)


def test_verification_codes_are_long_and_unambiguous() -> None:
    codes = {new_verification_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == 12 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("01OIL") & set(CODE_ALPHABET)


@pytest.mark.parametrize(
    ("hours", "days", "expected"),
    [(timedelta(hours=3), 1, Decimal("3.0")), (timedelta(hours=10), 1, Decimal("8.0")), (timedelta(days=2), 3, 6)],
)
def test_default_credit_hours(hours: timedelta, days: int, expected: Decimal) -> None:
    assert default_credit_hours(START, START + hours, days) == expected


# --- proposals from published standards ----------------------------------------------------------


def test_a_published_standard_proposes_a_session_with_a_stable_id() -> None:
    p = Proposal.from_standard(
        project_id="P1", number="T/LEDA 001—2026", title="LED drivers", published_on=date(2026, 5, 1), now=NOW
    )
    assert (p.id, p.status) == (Proposal.id_for("P1"), ProposalStatus.PROPOSED)
    assert p.title.startswith("T/LEDA 001—2026 LED drivers")
    (event,) = p.events
    assert isinstance(event, SessionProposed) and event.session_id == p.id
    p.mark_scheduled("S1", by="secretariat", now=NOW)
    with pytest.raises(Conflict) as excinfo:
        p.mark_scheduled("S2", by="secretariat", now=NOW)
    assert excinfo.value.field == "proposal_id" and p.session_id == "S1"
