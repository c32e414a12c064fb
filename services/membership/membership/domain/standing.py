"""Membership standing: types and periods, ordered status rules, overrides, renewal, the daily job.

Plain Python, no I/O, no clock: every function takes ``today``. Values are frozen; functions
return new values. Modelled on association-management systems (CiviCRM's membership status
rules): a membership has a ``join_date`` (member since), and a current period
``start_date`` .. ``end_date`` (both days inclusive: ``end_date`` is the last day covered).

Status, in order of precedence (``compute_status``):

1. an *administrative hold*: SUSPENDED, WITHDRAWN or EXPELLED set by an action (``suspend``,
   ``withdraw``, ``expel``). Never computed by rules and never left by recalculation;
   WITHDRAWN and EXPELLED are terminal, SUSPENDED ends only by ``reinstate``;
2. an active manual override (``set_override``): wins from the day it is set through its
   ``until`` day inclusive, or indefinitely when open-ended; once it has passed, the rules apply;
3. the status rules: the first rule, in order, whose window contains ``today``;
4. if no rule matches (only possible with custom rules that leave gaps), the stored status.

Default rules (``DEFAULT_RULES``), both window edges inclusive, first match wins; the windows are
written so that they do not overlap, so each one reads as its effective range:

=====  =========  ===========================  ===============================  ================
order  status     from (inclusive)             through (inclusive)              good standing
=====  =========  ===========================  ===============================  ================
1      pending    (always)                     start_date - 1 day               no
2      new        join_date                    join_date + 3 months - 1 day     yes
3      current    start_date                   end_date                         yes
4      grace      end_date + 1 day             end_date + 30 days               yes
5      expired    end_date + 31 days           (for ever)                       no
=====  =========  ===========================  ===============================  ================

Month offsets are added first (clamped to the month's last day: 30 Nov + 3 months = 28/29 Feb),
then day offsets.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from alliance_common.errors import Conflict, InvalidInput

CENT = Decimal("0.01")
ONE_DAY = timedelta(days=1)


def to_cents(value: Decimal, field: str) -> Decimal:
    """``value`` quantized to the cent; refuses floats, non-finite values and fractions of a cent."""
    if not isinstance(value, Decimal):
        raise InvalidInput(f"{field} must be a decimal amount, not {type(value).__name__}", field=field)
    if not value.is_finite():
        raise InvalidInput(f"{field} must be a finite amount", field=field)
    quantized = value.quantize(CENT)
    if quantized != value:
        raise InvalidInput(f"{field} has more than two decimal places: {value}", field=field)
    return quantized


# ---------------------------------------------------------------------------------------------
# Types and periods


class Tier(StrEnum):
    COUNCIL_MEMBER = "council_member"
    ORDINARY_MEMBER = "ordinary_member"
    OBSERVER = "observer"


class PeriodKind(StrEnum):
    FIXED = "fixed"  # the same year for everyone, starting on a configured month/day
    ROLLING = "rolling"  # twelve months from the member's own start date


@dataclass(frozen=True)
class MembershipType:
    tier: Tier
    annual_fee: Decimal
    period: PeriodKind
    fixed_start_month: int = 1  # FIXED only: the day each period starts (29 February is refused)
    fixed_start_day: int = 1

    def __post_init__(self) -> None:
        fee = to_cents(self.annual_fee, "annual_fee")
        if fee < 0:
            raise InvalidInput("the annual fee cannot be negative", field="annual_fee")
        object.__setattr__(self, "annual_fee", fee)
        if not 1 <= self.fixed_start_month <= 12:
            raise InvalidInput("the period start month must be 1 to 12", field="fixed_start_month")
        # 2001 is not a leap year: a period may not start on 29 February.
        if not 1 <= self.fixed_start_day <= calendar.monthrange(2001, self.fixed_start_month)[1]:
            raise InvalidInput("the period start day does not exist in every year", field="fixed_start_day")

    def fixed_period_containing(self, day: date) -> tuple[date, date]:
        """The FIXED period (first day, last day) that contains ``day``."""
        start = date(day.year, self.fixed_start_month, self.fixed_start_day)
        if start > day:
            start = date(day.year - 1, self.fixed_start_month, self.fixed_start_day)
        return start, date(start.year + 1, self.fixed_start_month, self.fixed_start_day) - ONE_DAY

    def period_from(self, start: date) -> tuple[date, date]:
        """The period that a membership starting on ``start`` is given.

        ROLLING: ``start`` through the day before the same date a year later (29 February is
        followed a year later by 1 March, so that period ends on 28 February). FIXED: ``start``
        through the end of the fixed period that contains it.
        """
        if self.period is PeriodKind.ROLLING:
            return start, _anniversary(start) - ONE_DAY
        return start, self.fixed_period_containing(start)[1]


def _anniversary(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the last day of the target month."""
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


# ---------------------------------------------------------------------------------------------
# Statuses and rules


class MembershipStatus(StrEnum):
    PENDING = "pending"
    NEW = "new"
    CURRENT = "current"
    GRACE = "grace"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPELLED = "expelled"


ADMINISTRATIVE_STATUSES = frozenset({MembershipStatus.SUSPENDED, MembershipStatus.WITHDRAWN, MembershipStatus.EXPELLED})
TERMINAL_STATUSES = frozenset({MembershipStatus.WITHDRAWN, MembershipStatus.EXPELLED})


class DateEvent(StrEnum):
    JOIN_DATE = "join_date"
    START_DATE = "start_date"
    END_DATE = "end_date"


@dataclass(frozen=True)
class Boundary:
    """A date of the membership moved by signed offsets: months first, then days."""

    event: DateEvent
    months: int = 0
    days: int = 0

    def resolve(self, membership: Membership) -> date:
        base = {
            DateEvent.JOIN_DATE: membership.join_date,
            DateEvent.START_DATE: membership.start_date,
            DateEvent.END_DATE: membership.end_date,
        }[self.event]
        return add_months(base, self.months) + timedelta(days=self.days)


@dataclass(frozen=True)
class StatusRule:
    """``status`` applies from ``start`` through ``end``, both inclusive; ``None`` is unbounded."""

    status: MembershipStatus
    start: Boundary | None
    end: Boundary | None
    in_good_standing: bool

    def __post_init__(self) -> None:
        if self.status in ADMINISTRATIVE_STATUSES:
            raise InvalidInput(f"{self.status} is set by an action, never by a rule", field="rules")

    def window(self, membership: Membership) -> tuple[date | None, date | None]:
        return (
            self.start.resolve(membership) if self.start else None,
            self.end.resolve(membership) if self.end else None,
        )

    def contains(self, membership: Membership, day: date) -> bool:
        first, last = self.window(membership)
        return (first is None or first <= day) and (last is None or day <= last)


DEFAULT_RULES: tuple[StatusRule, ...] = (
    StatusRule(MembershipStatus.PENDING, None, Boundary(DateEvent.START_DATE, days=-1), in_good_standing=False),
    StatusRule(
        MembershipStatus.NEW,
        Boundary(DateEvent.JOIN_DATE),
        Boundary(DateEvent.JOIN_DATE, months=3, days=-1),
        in_good_standing=True,
    ),
    StatusRule(
        MembershipStatus.CURRENT, Boundary(DateEvent.START_DATE), Boundary(DateEvent.END_DATE), in_good_standing=True
    ),
    StatusRule(
        MembershipStatus.GRACE,
        Boundary(DateEvent.END_DATE, days=1),
        Boundary(DateEvent.END_DATE, days=30),
        in_good_standing=True,
    ),
    StatusRule(MembershipStatus.EXPIRED, Boundary(DateEvent.END_DATE, days=31), None, in_good_standing=False),
)


def validate_rules(rules: Sequence[StatusRule]) -> None:
    """Each status at most once (administrative statuses are refused by ``StatusRule`` itself)."""
    seen: set[MembershipStatus] = set()
    for rule in rules:
        if rule.status in seen:
            raise InvalidInput(f"more than one rule for {rule.status}", field="rules")
        seen.add(rule.status)


def is_good_standing(status: MembershipStatus, rules: Sequence[StatusRule] = DEFAULT_RULES) -> bool:
    """The flag of the rule for ``status``; administrative statuses and unruled ones are not good."""
    return any(rule.status is status and rule.in_good_standing for rule in rules)


# ---------------------------------------------------------------------------------------------
# Memberships


@dataclass(frozen=True)
class StatusOverride:
    """A manual status, active from ``set_on`` through ``until`` (inclusive), or open-ended."""

    status: MembershipStatus
    reason: str
    set_on: date
    until: date | None = None

    def active_on(self, day: date) -> bool:
        return self.until is None or day <= self.until


@dataclass(frozen=True)
class Membership:
    member_id: str
    membership_type: MembershipType
    join_date: date  # member since; unchanged by renewals
    start_date: date  # first day of the current run of periods
    end_date: date  # last day covered (inclusive)
    status: MembershipStatus = MembershipStatus.PENDING  # as stored: last computed or set
    override: StatusOverride | None = None

    def __post_init__(self) -> None:
        if self.end_date < self.start_date:
            raise InvalidInput("a membership cannot end before it starts", field="end_date")

    @property
    def administrative_hold(self) -> MembershipStatus | None:
        """The administrative status set by an action, which recalculation never leaves.

        A stored administrative status that equals the override's status came from that
        override (actions clear the override), so it lasts only as long as the override.
        """
        if self.status not in ADMINISTRATIVE_STATUSES:
            return None
        if self.override is not None and self.override.status is self.status:
            return None
        return self.status


@dataclass(frozen=True)
class StatusChange:
    member_id: str
    old: MembershipStatus
    new: MembershipStatus
    in_good_standing_old: bool
    in_good_standing_new: bool
    on: date
    reason: str | None = None  # the action's or override's reason; None for a change by the rules


class Outcome(NamedTuple):
    """A membership after an action, and the status change it made (``None`` if none)."""

    membership: Membership
    change: StatusChange | None


def open_membership(
    member_id: str, membership_type: MembershipType, join_date: date, start_date: date | None = None
) -> Membership:
    """A new membership: its first period starts on ``start_date`` (default: the join date).

    ROLLING: twelve months from the start. FIXED: from the start through the end of the fixed
    period that contains it, for the full fee (no pro rata; see ``dues.issue_invoice``). The stored
    status is PENDING until the first recalculation (or ``refresh``) computes it.
    """
    start = join_date if start_date is None else start_date
    if start < join_date:
        raise InvalidInput("a membership cannot start before the member joins", field="start_date")
    first, last = membership_type.period_from(start)
    return Membership(member_id, membership_type, join_date=join_date, start_date=first, end_date=last)


def rule_status(
    membership: Membership, rules: Sequence[StatusRule], today: date
) -> tuple[MembershipStatus, bool] | None:
    """The status and good-standing flag of the first rule whose window contains ``today``."""
    for rule in rules:
        if rule.contains(membership, today):
            return rule.status, rule.in_good_standing
    return None


def compute_status(membership: Membership, rules: Sequence[StatusRule], today: date) -> MembershipStatus:
    """Hold, else active override, else the first matching rule, else the stored status."""
    validate_rules(rules)
    hold = membership.administrative_hold
    if hold is not None:
        return hold
    if membership.override is not None and membership.override.active_on(today):
        return membership.override.status
    matched = rule_status(membership, rules, today)
    return matched[0] if matched else membership.status


def _change(
    membership: Membership,
    new: MembershipStatus,
    rules: Sequence[StatusRule],
    today: date,
    reason: str | None = None,
) -> StatusChange | None:
    if new is membership.status:
        return None
    return StatusChange(
        member_id=membership.member_id,
        old=membership.status,
        new=new,
        in_good_standing_old=is_good_standing(membership.status, rules),
        in_good_standing_new=is_good_standing(new, rules),
        on=today,
        reason=reason,
    )


def recalculate(memberships: Iterable[Membership], rules: Sequence[StatusRule], today: date) -> list[StatusChange]:
    """The daily job: one change for every membership whose computed status differs from its stored one.

    Pure and idempotent: after ``apply_change`` on each result, recalculating on the same day
    returns nothing. Changes carry no reason, except when an active override made them.
    """
    validate_rules(rules)
    changes = []
    for membership in memberships:
        new = compute_status(membership, rules, today)
        override = membership.override
        reason = override.reason if override and override.active_on(today) and override.status is new else None
        change = _change(membership, new, rules, today, reason)
        if change is not None:
            changes.append(change)
    return changes


def apply_change(membership: Membership, change: StatusChange) -> Membership:
    if change.member_id != membership.member_id:
        raise ValueError(f"a change for {change.member_id} applied to {membership.member_id}")
    if change.old is not membership.status:
        raise Conflict(f"the status changed meanwhile: expected {change.old}, stored {membership.status}")
    return replace(membership, status=change.new)


def refresh(membership: Membership, rules: Sequence[StatusRule], today: date) -> Outcome:
    """Recalculate one membership now (e.g. after a renewal) and store its status."""
    changes = recalculate([membership], rules, today)
    if not changes:
        return Outcome(membership, None)
    return Outcome(apply_change(membership, changes[0]), changes[0])


# ---------------------------------------------------------------------------------------------
# Renewal


def _in_good_standing_by_rules(membership: Membership, rules: Sequence[StatusRule], today: date) -> bool:
    matched = rule_status(membership, rules, today)
    return matched is not None and matched[1]


def next_period(membership: Membership, today: date, rules: Sequence[StatusRule] = DEFAULT_RULES) -> tuple[date, date]:
    """The period the next renewal pays for: see ``renew`` (same dates, same conflicts)."""
    hold = membership.administrative_hold
    if hold in TERMINAL_STATUSES:
        raise Conflict(f"a {hold} membership cannot be renewed")
    if today < membership.start_date:
        raise Conflict("the membership period has not started yet; there is nothing to renew")
    kind = membership.membership_type
    if _in_good_standing_by_rules(membership, rules, today):
        return membership.end_date + ONE_DAY, kind.period_from(membership.end_date + ONE_DAY)[1]
    if kind.period is PeriodKind.ROLLING:
        return kind.period_from(today)
    return kind.fixed_period_containing(today)


def renew(membership: Membership, today: date, rules: Sequence[StatusRule] = DEFAULT_RULES) -> Membership:
    """Renew for one period; the stored status is unchanged (``refresh`` computes and records it).

    Whether the member is in good standing is decided by the *rules* alone (dates, not overrides
    or a suspension): renewal is about whether the period has lapsed.

    - In good standing (by default New, Current or Grace): the start date stays, the end date
      moves one period on from the current end date, so the new period follows without a gap
      (Grace days count as covered). ROLLING: to the day before the same date a year after
      ``end_date + 1``. FIXED: to the end of the fixed period that contains ``end_date + 1``.
    - Not in good standing (by default Expired): a new period. ROLLING: ``today`` through the day
      before the same date a year later. FIXED: the fixed period that contains ``today``.
    - Pending (the period has not started) → Conflict; Withdrawn or Expelled → Conflict.

    FIXED, periods from 1 January: end 2025-12-31, renewed on 2025-12-01 (Current) or on
    2026-01-20 (Grace) → start unchanged, end 2026-12-31; lapsed, renewed on 2026-03-10 (Expired
    since 2026-01-31) → start 2026-01-01, end 2026-12-31. Periods from 1 April: end 2026-03-31,
    renewed on 2026-03-15 → end 2027-03-31; lapsed (end 2025-03-31), renewed on 2026-03-10
    → start 2025-04-01, end 2026-03-31 (the fixed period containing today, even if little remains).
    """
    start, end = next_period(membership, today, rules)
    if _in_good_standing_by_rules(membership, rules, today):
        return replace(membership, end_date=end)
    return replace(membership, start_date=start, end_date=end)


# ---------------------------------------------------------------------------------------------
# Manual override and administrative actions


def _required(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise InvalidInput("a reason is required", field="reason")
    return reason.strip()


def set_override(
    membership: Membership,
    status: MembershipStatus,
    reason: str | None,
    today: date,
    until: date | None = None,
    rules: Sequence[StatusRule] = DEFAULT_RULES,
) -> Outcome:
    """Force ``status`` through ``until`` (inclusive; must be after today) or until cleared.

    Any rule status or SUSPENDED may be forced; WITHDRAWN and EXPELLED are terminal and only
    set by ``withdraw`` and ``expel``. A membership under an administrative hold cannot be
    overridden (reinstate first). The status takes effect at once.
    """
    text = _required(reason)
    if status in TERMINAL_STATUSES:
        raise InvalidInput(f"{status} is terminal: use the {status} action, not an override", field="status")
    if until is not None and until <= today:
        raise InvalidInput("an override must end after today (or be open-ended)", field="until")
    hold = membership.administrative_hold
    if hold is not None:
        raise Conflict(f"a {hold} membership cannot be overridden", field="status")
    return refresh(replace(membership, override=StatusOverride(status, text, today, until)), rules, today)


def clear_override(membership: Membership, today: date, rules: Sequence[StatusRule] = DEFAULT_RULES) -> Outcome:
    """Remove the override (active or passed); the rules apply from today."""
    if membership.override is None:
        return Outcome(membership, None)
    return refresh(replace(membership, override=None), rules, today)


def _hold(
    membership: Membership,
    status: MembershipStatus,
    reason: str | None,
    today: date,
    rules: Sequence[StatusRule],
) -> Outcome:
    hold = membership.administrative_hold
    if hold in TERMINAL_STATUSES:
        raise Conflict(f"a {hold} membership cannot become {status}")
    if hold is status:
        raise Conflict(f"the membership is already {status}")
    held = replace(membership, status=status, override=None)
    change = StatusChange(
        member_id=membership.member_id,
        old=membership.status,
        new=status,
        in_good_standing_old=is_good_standing(membership.status, rules),
        in_good_standing_new=False,
        on=today,
        reason=reason,
    )
    return Outcome(held, change if status is not membership.status else None)


def suspend(
    membership: Membership, reason: str | None, today: date, rules: Sequence[StatusRule] = DEFAULT_RULES
) -> Outcome:
    """Suspend until ``reinstate``; clears any override. A reason is required."""
    return _hold(membership, MembershipStatus.SUSPENDED, _required(reason), today, rules)


def withdraw(
    membership: Membership, reason: str | None, today: date, rules: Sequence[StatusRule] = DEFAULT_RULES
) -> Outcome:
    """The member leaves (terminal). The reason is optional."""
    text = reason.strip() if reason and reason.strip() else None
    return _hold(membership, MembershipStatus.WITHDRAWN, text, today, rules)


def expel(
    membership: Membership, reason: str | None, today: date, rules: Sequence[StatusRule] = DEFAULT_RULES
) -> Outcome:
    """Expulsion (terminal). A reason is required."""
    return _hold(membership, MembershipStatus.EXPELLED, _required(reason), today, rules)


def reinstate(
    membership: Membership, reason: str | None, today: date, rules: Sequence[StatusRule] = DEFAULT_RULES
) -> Outcome:
    """End a suspension: the status the rules give today (Expired if the period lapsed meanwhile)."""
    if membership.administrative_hold is not MembershipStatus.SUSPENDED:
        raise Conflict(f"only a suspended membership can be reinstated (status: {membership.status})")
    matched = rule_status(membership, rules, today)
    new = matched[0] if matched else MembershipStatus.EXPIRED
    text = reason.strip() if reason and reason.strip() else None
    return Outcome(replace(membership, status=new), _change(membership, new, rules, today, text))
