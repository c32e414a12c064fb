"""Membership standing: rule windows and their edges, overrides, administrative holds, renewal, the daily job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance_common.errors import Conflict, InvalidInput
from membership.domain.model import Tier
from membership.domain.standing import (
    DEFAULT_RULES,
    Boundary,
    DateEvent,
    Membership,
    MembershipStatus,
    MembershipType,
    Outcome,
    PeriodKind,
    StatusChange,
    StatusRule,
    add_months,
    apply_change,
    clear_override,
    compute_status,
    expel,
    is_good_standing,
    open_membership,
    recalculate,
    refresh,
    reinstate,
    renew,
    set_override,
    suspend,
    validate_rules,
    withdraw,
)

S = MembershipStatus
ROLLING = MembershipType(Tier.ORDINARY_MEMBER, Decimal("5000.00"), PeriodKind.ROLLING)
FIXED_JAN = MembershipType(Tier.COUNCIL_MEMBER, Decimal("20000.00"), PeriodKind.FIXED)
FIXED_APR = MembershipType(Tier.OBSERVER, Decimal("800.00"), PeriodKind.FIXED, fixed_start_month=4, fixed_start_day=1)
DAY = timedelta(days=1)

JOIN = date(2025, 1, 15)


def rolling(status: MembershipStatus = S.PENDING, member_id: str = "m-1") -> Membership:
    """Joined and started 2025-01-15, ends 2026-01-14."""
    return replace(open_membership(member_id, ROLLING, JOIN), status=status)


def status_on(membership: Membership, day: date) -> MembershipStatus:
    return compute_status(membership, DEFAULT_RULES, day)


# ----------------------------------------------------------------------------- types and periods


def test_open_rolling_membership_covers_twelve_months() -> None:
    m = open_membership("m-1", ROLLING, JOIN)
    assert (m.join_date, m.start_date, m.end_date, m.status) == (JOIN, JOIN, date(2026, 1, 14), S.PENDING)


def test_open_fixed_membership_runs_to_the_end_of_the_fixed_period() -> None:
    m = open_membership("m-1", FIXED_JAN, date(2025, 11, 20))
    assert (m.start_date, m.end_date) == (date(2025, 11, 20), date(2025, 12, 31))
    m = open_membership("m-1", FIXED_APR, date(2025, 11, 20))
    assert (m.start_date, m.end_date) == (date(2025, 11, 20), date(2026, 3, 31))
    m = open_membership("m-1", FIXED_APR, date(2025, 3, 31))
    assert m.end_date == date(2025, 3, 31)


def test_open_membership_with_a_later_start_and_not_before_joining() -> None:
    m = open_membership("m-1", FIXED_JAN, date(2025, 11, 20), start_date=date(2026, 1, 1))
    assert (m.start_date, m.end_date) == (date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(InvalidInput) as error:
        open_membership("m-1", ROLLING, JOIN, start_date=JOIN - DAY)
    assert error.value.field == "start_date"


def test_rolling_period_from_29_february_ends_on_28_february() -> None:
    assert ROLLING.period_from(date(2024, 2, 29)) == (date(2024, 2, 29), date(2025, 2, 28))
    assert ROLLING.period_from(date(2023, 3, 1)) == (date(2023, 3, 1), date(2024, 2, 29))


def test_fixed_period_containing_its_first_and_last_day() -> None:
    assert FIXED_APR.fixed_period_containing(date(2025, 4, 1)) == (date(2025, 4, 1), date(2026, 3, 31))
    assert FIXED_APR.fixed_period_containing(date(2025, 3, 31)) == (date(2024, 4, 1), date(2025, 3, 31))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"annual_fee": 5000.0}, "annual_fee"),
        ({"annual_fee": Decimal("10.005")}, "annual_fee"),
        ({"annual_fee": Decimal("-1.00")}, "annual_fee"),
        ({"annual_fee": Decimal("NaN")}, "annual_fee"),
        ({"fixed_start_month": 13}, "fixed_start_month"),
        ({"fixed_start_month": 2, "fixed_start_day": 29}, "fixed_start_day"),
        ({"fixed_start_month": 4, "fixed_start_day": 31}, "fixed_start_day"),
    ],
)
def test_membership_type_refuses_bad_values(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "tier": Tier.ORDINARY_MEMBER,
        "annual_fee": Decimal("5000.00"),
        "period": PeriodKind.FIXED,
    }
    values.update(changes)
    with pytest.raises(InvalidInput) as error:
        MembershipType(**values)  # type: ignore[arg-type]
    assert error.value.field == field


def test_fee_is_quantized_to_the_cent() -> None:
    assert str(MembershipType(Tier.OBSERVER, Decimal("800"), PeriodKind.ROLLING).annual_fee) == "800.00"


def test_a_membership_cannot_end_before_it_starts() -> None:
    with pytest.raises(InvalidInput) as error:
        Membership("m-1", ROLLING, JOIN, JOIN, JOIN - DAY)
    assert error.value.field == "end_date"


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert add_months(date(2025, 1, 31), -2) == date(2024, 11, 30)
    assert add_months(date(2025, 12, 15), 1) == date(2026, 1, 15)


# ----------------------------------------------------------------------------- rules


def test_default_rules_in_order_with_their_good_standing_flags() -> None:
    assert [(r.status, r.in_good_standing) for r in DEFAULT_RULES] == [
        (S.PENDING, False),
        (S.NEW, True),
        (S.CURRENT, True),
        (S.GRACE, True),
        (S.EXPIRED, False),
    ]


def test_default_rule_windows_as_dates() -> None:
    m = rolling()  # join = start = 2025-01-15, end = 2026-01-14
    windows = {r.status: r.window(m) for r in DEFAULT_RULES}
    assert windows == {
        S.PENDING: (None, date(2025, 1, 14)),
        S.NEW: (date(2025, 1, 15), date(2025, 4, 14)),
        S.CURRENT: (date(2025, 1, 15), date(2026, 1, 14)),
        S.GRACE: (date(2026, 1, 15), date(2026, 2, 13)),
        S.EXPIRED: (date(2026, 2, 14), None),
    }


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2020, 1, 1), S.PENDING),  # long before the start
        (date(2025, 1, 14), S.PENDING),  # Pending: through start_date - 1 (inclusive)
        (date(2025, 1, 15), S.NEW),  # New: from join_date (inclusive); Pending no longer
        (date(2025, 4, 14), S.NEW),  # New: through join_date + 3 months - 1 day (inclusive)
        (date(2025, 4, 15), S.CURRENT),  # join_date + 3 months: Current
        (date(2026, 1, 14), S.CURRENT),  # Current: through end_date (inclusive)
        (date(2026, 1, 15), S.GRACE),  # Grace: from end_date + 1 (inclusive)
        (date(2026, 2, 13), S.GRACE),  # Grace: through end_date + 30 (inclusive)
        (date(2026, 2, 14), S.EXPIRED),  # Expired: from end_date + 31 (inclusive)
        (date(2040, 1, 1), S.EXPIRED),  # open-ended
    ],
)
def test_every_default_window_on_its_boundary_days(day: date, expected: MembershipStatus) -> None:
    assert status_on(rolling(), day) is expected


def test_new_after_30_november_ends_with_the_clamped_month() -> None:
    m = open_membership("m-1", ROLLING, date(2024, 11, 30))
    assert status_on(m, date(2025, 2, 27)) is S.NEW
    assert status_on(m, date(2025, 2, 28)) is S.CURRENT


def test_pending_wins_over_new_between_joining_and_starting() -> None:
    m = open_membership("m-1", FIXED_JAN, date(2025, 11, 20), start_date=date(2026, 1, 1))
    assert status_on(m, date(2025, 11, 20)) is S.PENDING
    assert status_on(m, date(2025, 12, 31)) is S.PENDING
    assert status_on(m, date(2026, 1, 1)) is S.NEW  # still within join + 3 months
    assert status_on(m, date(2026, 2, 19)) is S.NEW
    assert status_on(m, date(2026, 2, 20)) is S.CURRENT


def test_a_renewed_lapsed_member_is_current_not_new() -> None:
    m = Membership("m-1", ROLLING, join_date=date(2020, 5, 1), start_date=date(2025, 6, 1), end_date=date(2026, 5, 31))
    assert status_on(m, date(2025, 6, 1)) is S.CURRENT


def test_first_matching_rule_wins_when_windows_overlap() -> None:
    overlapping = (
        StatusRule(S.CURRENT, Boundary(DateEvent.START_DATE), Boundary(DateEvent.END_DATE), in_good_standing=True),
        StatusRule(S.GRACE, Boundary(DateEvent.END_DATE), Boundary(DateEvent.END_DATE, days=30), in_good_standing=True),
    )
    m = rolling()
    assert compute_status(m, overlapping, m.end_date) is S.CURRENT
    assert compute_status(m, overlapping, m.end_date + DAY) is S.GRACE


def test_no_matching_rule_keeps_the_stored_status() -> None:
    only_current = (
        StatusRule(S.CURRENT, Boundary(DateEvent.START_DATE), Boundary(DateEvent.END_DATE), in_good_standing=True),
    )
    m = rolling(status=S.GRACE)
    assert compute_status(m, only_current, m.end_date + DAY) is S.GRACE
    assert recalculate([m], only_current, m.end_date + DAY) == []


@pytest.mark.parametrize("status", [S.SUSPENDED, S.WITHDRAWN, S.EXPELLED])
def test_administrative_statuses_cannot_be_rules(status: MembershipStatus) -> None:
    with pytest.raises(InvalidInput) as error:
        StatusRule(status, None, None, in_good_standing=False)
    assert error.value.field == "rules"


def test_a_status_has_at_most_one_rule() -> None:
    with pytest.raises(InvalidInput) as error:
        validate_rules((*DEFAULT_RULES, StatusRule(S.CURRENT, None, None, in_good_standing=True)))
    assert error.value.field == "rules"


def test_good_standing_follows_the_rule_flags() -> None:
    assert [s for s in S if is_good_standing(s)] == [S.NEW, S.CURRENT, S.GRACE]


# ----------------------------------------------------------------------------- override

TODAY = date(2025, 6, 1)  # rolling() is Current on this day


def test_override_requires_a_reason() -> None:
    for reason in (None, "", "   "):
        with pytest.raises(InvalidInput) as error:
            set_override(rolling(S.CURRENT), S.GRACE, reason, TODAY)
        assert error.value.field == "reason"


@pytest.mark.parametrize("until", [TODAY, TODAY - DAY])
def test_override_until_must_be_in_the_future(until: date) -> None:
    with pytest.raises(InvalidInput) as error:
        set_override(rolling(S.CURRENT), S.GRACE, "waiver", TODAY, until=until)
    assert error.value.field == "until"


@pytest.mark.parametrize("status", [S.WITHDRAWN, S.EXPELLED])
def test_terminal_statuses_are_actions_not_overrides(status: MembershipStatus) -> None:
    with pytest.raises(InvalidInput) as error:
        set_override(rolling(S.CURRENT), status, "because", TODAY)
    assert error.value.field == "status"


def test_override_takes_effect_at_once_and_wins_through_its_until_day() -> None:
    until = TODAY + timedelta(days=10)
    m, change = set_override(rolling(S.CURRENT), S.EXPIRED, "  unpaid dues  ", TODAY, until=until)
    assert change == StatusChange("m-1", S.CURRENT, S.EXPIRED, True, False, TODAY, "unpaid dues")
    assert m.status is S.EXPIRED
    assert m.override is not None and m.override.reason == "unpaid dues" and m.override.set_on == TODAY
    assert status_on(m, until) is S.EXPIRED  # inclusive
    assert status_on(m, until + DAY) is S.CURRENT  # passed: the rules again
    assert recalculate([m], DEFAULT_RULES, until) == []
    [back] = recalculate([m], DEFAULT_RULES, until + DAY)
    assert (back.old, back.new, back.reason) == (S.EXPIRED, S.CURRENT, None)


def test_open_ended_override_lasts_until_cleared() -> None:
    m, _ = set_override(rolling(S.CURRENT), S.GRACE, "extension granted", TODAY)
    assert status_on(m, date(2040, 1, 1)) is S.GRACE
    cleared, change = clear_override(m, TODAY)
    assert cleared.override is None and cleared.status is S.CURRENT
    assert change is not None and (change.old, change.new) == (S.GRACE, S.CURRENT)
    assert clear_override(cleared, TODAY) == (cleared, None)


def test_override_to_the_status_already_held_changes_nothing_now() -> None:
    m, change = set_override(rolling(S.CURRENT), S.CURRENT, "keep current", TODAY, until=date(2026, 6, 1))
    assert change is None and m.override is not None


def test_suspended_by_override_ends_with_the_override() -> None:
    m, change = set_override(rolling(S.CURRENT), S.SUSPENDED, "audit", TODAY, until=TODAY + DAY)
    assert change is not None and change.new is S.SUSPENDED and change.in_good_standing_new is False
    assert m.administrative_hold is None  # an override, not a hold
    assert status_on(m, TODAY + 2 * DAY) is S.CURRENT


def test_override_on_a_held_membership_is_refused() -> None:
    held, _ = suspend(rolling(S.CURRENT), "breach", TODAY)
    with pytest.raises(Conflict):
        set_override(held, S.CURRENT, "please", TODAY)


# ----------------------------------------------------------------------------- administrative actions


def test_suspension_is_never_left_by_recalculation_and_clears_the_override() -> None:
    overridden, _ = set_override(rolling(S.CURRENT), S.GRACE, "waiver", TODAY)
    m, change = suspend(overridden, "code of conduct", TODAY)
    assert change == StatusChange("m-1", S.GRACE, S.SUSPENDED, True, False, TODAY, "code of conduct")
    assert m.override is None and m.administrative_hold is S.SUSPENDED
    for day in (TODAY, m.end_date + DAY, date(2040, 1, 1)):
        assert recalculate([m], DEFAULT_RULES, day) == []


def test_suspend_needs_a_reason_and_not_twice() -> None:
    with pytest.raises(InvalidInput) as error:
        suspend(rolling(S.CURRENT), " ", TODAY)
    assert error.value.field == "reason"
    m, _ = suspend(rolling(S.CURRENT), "breach", TODAY)
    with pytest.raises(Conflict):
        suspend(m, "again", TODAY)


def test_reinstatement_returns_to_the_status_the_rules_give() -> None:
    m, _ = suspend(rolling(S.CURRENT), "breach", TODAY)
    back, change = reinstate(m, "resolved", TODAY)
    assert back.status is S.CURRENT
    assert change == StatusChange("m-1", S.SUSPENDED, S.CURRENT, False, True, TODAY, "resolved")
    later, change = reinstate(m, None, date(2026, 3, 1))  # the period lapsed meanwhile
    assert later.status is S.EXPIRED and change is not None and change.in_good_standing_new is False


def test_only_a_suspended_membership_can_be_reinstated() -> None:
    with pytest.raises(Conflict):
        reinstate(rolling(S.CURRENT), None, TODAY)
    overridden, _ = set_override(rolling(S.CURRENT), S.SUSPENDED, "audit", TODAY)
    with pytest.raises(Conflict):  # an override is cleared, not reinstated
        reinstate(overridden, None, TODAY)


@pytest.mark.parametrize("action", [withdraw, expel])
def test_withdrawn_and_expelled_are_terminal(action: Callable[[Membership, str, date], Outcome]) -> None:
    m, change = action(rolling(S.CURRENT), "decided", TODAY)
    assert change is not None and change.in_good_standing_new is False
    for day in (TODAY, date(2040, 1, 1)):
        assert recalculate([m], DEFAULT_RULES, day) == []
    for forbidden in (
        lambda: suspend(m, "x", TODAY),
        lambda: withdraw(m, None, TODAY),
        lambda: expel(m, "x", TODAY),
        lambda: reinstate(m, None, TODAY),
        lambda: set_override(m, S.CURRENT, "x", TODAY),
        lambda: renew(m, TODAY),
    ):
        with pytest.raises(Conflict):
            forbidden()


def test_expulsion_needs_a_reason_withdrawal_does_not() -> None:
    with pytest.raises(InvalidInput) as error:
        expel(rolling(S.CURRENT), None, TODAY)
    assert error.value.field == "reason"
    m, change = withdraw(rolling(S.CURRENT), None, TODAY)
    assert m.status is S.WITHDRAWN and change is not None and change.reason is None


# ----------------------------------------------------------------------------- renewal


@pytest.mark.parametrize(
    "today",
    [date(2025, 2, 1), date(2025, 12, 15), date(2026, 1, 14), date(2026, 1, 15), date(2026, 2, 13)],
    ids=["new", "current", "last-current-day", "first-grace-day", "last-grace-day"],
)
def test_rolling_renewal_in_good_standing_extends_from_the_end_date(today: date) -> None:
    m = renew(rolling(S.CURRENT), today)
    assert (m.join_date, m.start_date, m.end_date) == (JOIN, JOIN, date(2027, 1, 14))
    assert m.status is S.CURRENT  # renew changes dates only


@pytest.mark.parametrize("today", [date(2026, 2, 14), date(2026, 9, 30)], ids=["first-expired-day", "later"])
def test_rolling_renewal_after_lapse_starts_a_new_period_today(today: date) -> None:
    m = renew(rolling(S.EXPIRED), today)
    assert (m.join_date, m.start_date, m.end_date) == (JOIN, today, ROLLING.period_from(today)[1])
    assert m.end_date == date(today.year + 1, today.month, today.day) - DAY


def test_rolling_renewal_after_lapse_on_29_february() -> None:
    m = Membership("m-1", ROLLING, date(2022, 6, 1), date(2022, 6, 1), date(2023, 5, 31), S.EXPIRED)
    renewed = renew(m, date(2024, 2, 29))
    assert (renewed.start_date, renewed.end_date) == (date(2024, 2, 29), date(2025, 2, 28))


def fixed_member(kind: MembershipType, start: date, end: date) -> Membership:
    return Membership("m-2", kind, join_date=date(2020, 3, 1), start_date=start, end_date=end, status=S.CURRENT)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 12, 1), (date(2024, 1, 1), date(2026, 12, 31))),  # Current: start kept, end + 1 year
        (date(2026, 1, 20), (date(2024, 1, 1), date(2026, 12, 31))),  # Grace: the same
        (date(2026, 1, 30), (date(2024, 1, 1), date(2026, 12, 31))),  # last Grace day
        (date(2026, 1, 31), (date(2026, 1, 1), date(2026, 12, 31))),  # first Expired day: this fixed year
        (date(2026, 3, 10), (date(2026, 1, 1), date(2026, 12, 31))),
        (date(2027, 2, 1), (date(2027, 1, 1), date(2027, 12, 31))),  # lapsed for more than a year
    ],
)
def test_fixed_calendar_year_renewal(today: date, expected: tuple[date, date]) -> None:
    m = renew(fixed_member(FIXED_JAN, date(2024, 1, 1), date(2025, 12, 31)), today)
    assert (m.start_date, m.end_date) == expected


@pytest.mark.parametrize(
    ("end", "today", "expected"),
    [
        (date(2026, 3, 31), date(2026, 3, 15), (date(2025, 4, 1), date(2027, 3, 31))),  # in standing
        (date(2025, 3, 31), date(2026, 3, 10), (date(2025, 4, 1), date(2026, 3, 31))),  # lapsed: little remains
        (date(2025, 3, 31), date(2025, 5, 1), (date(2025, 4, 1), date(2026, 3, 31))),  # lapsed on its first day
    ],
)
def test_fixed_april_year_renewal(end: date, today: date, expected: tuple[date, date]) -> None:
    start = FIXED_APR.fixed_period_containing(end)[0]
    m = renew(fixed_member(FIXED_APR, start, end), today)
    assert (m.start_date, m.end_date) == expected


def test_a_short_first_fixed_period_renews_to_a_full_year() -> None:
    m = open_membership("m-1", FIXED_JAN, date(2025, 11, 20))
    renewed = renew(m, date(2025, 12, 10))
    assert (renewed.start_date, renewed.end_date) == (date(2025, 11, 20), date(2026, 12, 31))


def test_renewing_before_the_period_starts_is_a_conflict() -> None:
    m = open_membership("m-1", FIXED_JAN, date(2025, 11, 20), start_date=date(2026, 1, 1))
    with pytest.raises(Conflict):
        renew(m, date(2025, 12, 1))


def test_renewal_ignores_overrides_and_suspension_when_judging_standing() -> None:
    overridden, _ = set_override(rolling(S.CURRENT), S.EXPIRED, "test", TODAY)
    assert renew(overridden, TODAY).end_date == date(2027, 1, 14)
    suspended, _ = suspend(rolling(S.CURRENT), "breach", TODAY)
    renewed = renew(suspended, TODAY)
    assert renewed.end_date == date(2027, 1, 14) and renewed.status is S.SUSPENDED


def test_renewal_in_grace_then_refresh_is_current_again() -> None:
    day = date(2026, 1, 20)
    m = rolling(S.GRACE)
    renewed, change = refresh(renew(m, day), DEFAULT_RULES, day)
    assert renewed.status is S.CURRENT
    assert change == StatusChange("m-1", S.GRACE, S.CURRENT, True, True, day)


def test_renewal_after_lapse_then_refresh_is_current_again() -> None:
    day = date(2026, 3, 1)
    renewed, change = refresh(renew(rolling(S.EXPIRED), day), DEFAULT_RULES, day)
    assert renewed.status is S.CURRENT
    assert change == StatusChange("m-1", S.EXPIRED, S.CURRENT, False, True, day)


# ----------------------------------------------------------------------------- the daily job


def test_recalculate_emits_exactly_the_changed_memberships() -> None:
    day = date(2026, 1, 15)  # first Grace day of rolling()
    unchanged_current = Membership("a", ROLLING, JOIN, date(2025, 6, 1), date(2026, 5, 31), S.CURRENT)
    becomes_grace = rolling(S.CURRENT, "b")
    stays_grace = Membership("c", ROLLING, JOIN, JOIN, date(2026, 1, 10), S.GRACE)
    becomes_expired = Membership("d", ROLLING, JOIN, JOIN, date(2025, 12, 15), S.GRACE)
    held, _ = suspend(rolling(S.CURRENT, "e"), "breach", day)
    pending_to_new = open_membership("f", ROLLING, day)
    changes = recalculate(
        [unchanged_current, becomes_grace, stays_grace, becomes_expired, held, pending_to_new], DEFAULT_RULES, day
    )
    assert changes == [
        StatusChange("b", S.CURRENT, S.GRACE, True, True, day),
        StatusChange("d", S.GRACE, S.EXPIRED, True, False, day),
        StatusChange("f", S.PENDING, S.NEW, False, True, day),
    ]


def test_recalculate_is_idempotent_once_changes_are_applied() -> None:
    day = date(2026, 1, 15)
    memberships = [rolling(S.CURRENT, "b"), Membership("d", ROLLING, JOIN, JOIN, date(2025, 12, 15), S.GRACE)]
    changes = {c.member_id: c for c in recalculate(memberships, DEFAULT_RULES, day)}
    applied = [apply_change(m, changes[m.member_id]) if m.member_id in changes else m for m in memberships]
    assert recalculate(applied, DEFAULT_RULES, day) == []


def test_apply_change_checks_member_and_stored_status() -> None:
    change = StatusChange("b", S.CURRENT, S.GRACE, True, True, TODAY)
    with pytest.raises(ValueError):
        apply_change(rolling(S.CURRENT, "a"), change)
    with pytest.raises(Conflict):
        apply_change(rolling(S.NEW, "b"), change)


def test_a_year_of_daily_runs_walks_the_lifecycle_once() -> None:
    m = open_membership("m-1", ROLLING, JOIN)
    seen = []
    day = JOIN - timedelta(days=3)
    while day <= date(2026, 6, 1):
        for change in recalculate([m], DEFAULT_RULES, day):
            m = apply_change(m, change)
            seen.append((change.on, change.old, change.new))
        day += DAY
    assert seen == [
        (date(2025, 1, 15), S.PENDING, S.NEW),
        (date(2025, 4, 15), S.NEW, S.CURRENT),
        (date(2026, 1, 15), S.CURRENT, S.GRACE),
        (date(2026, 2, 14), S.GRACE, S.EXPIRED),
    ]


# ----------------------------------------------------------------------------- properties

days = st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31))
kinds = st.sampled_from([ROLLING, FIXED_JAN, FIXED_APR])
rule_statuses = {rule.status for rule in DEFAULT_RULES}


@st.composite
def memberships(draw: st.DrawFn) -> Membership:
    kind = draw(kinds)
    join = draw(days)
    start = join + timedelta(days=draw(st.integers(0, 400)))
    m = open_membership("m-p", kind, join, start)
    m = replace(m, status=draw(st.sampled_from([s for s in S if s not in (S.WITHDRAWN, S.EXPELLED)])))
    if draw(st.booleans()):
        set_on = draw(days)
        until = draw(st.none() | st.integers(1, 400).map(lambda n: set_on + timedelta(days=n)))
        override_status = draw(st.sampled_from([s for s in S if s not in (S.WITHDRAWN, S.EXPELLED)]))
        m = replace(m, status=S.CURRENT)
        m, _ = set_override(m, override_status, "property", set_on, until)
    return m


@given(memberships(), days)
def test_status_is_a_rule_status_or_the_override(m: Membership, today: date) -> None:
    status = compute_status(m, DEFAULT_RULES, today)
    if m.administrative_hold is not None:
        assert status is m.administrative_hold
    elif m.override is not None and m.override.active_on(today):
        assert status is m.override.status
    else:
        assert status in rule_statuses


@given(memberships(), days)
def test_recalculation_is_idempotent_on_any_day(m: Membership, today: date) -> None:
    changes = recalculate([m], DEFAULT_RULES, today)
    assert len(changes) <= 1
    applied = apply_change(m, changes[0]) if changes else m
    assert recalculate([applied], DEFAULT_RULES, today) == []
    assert applied.status is compute_status(m, DEFAULT_RULES, today)


@given(kinds, days, st.integers(0, 800))
def test_renewal_never_leaves_a_gap_and_covers_today(kind: MembershipType, join: date, after: int) -> None:
    m = open_membership("m-p", kind, join)
    today = join + timedelta(days=after)
    renewed = renew(m, today)
    assert renewed.end_date > m.end_date
    assert renewed.start_date <= today <= renewed.end_date
    if renewed.start_date == m.start_date:  # extended: the new period follows the old one
        assert compute_status(m, DEFAULT_RULES, today) in (S.NEW, S.CURRENT, S.GRACE)
    else:
        assert compute_status(m, DEFAULT_RULES, today) is S.EXPIRED
