"""Licence-contract filing records: what the patent office is told about each licence the pool signs.

In China a patent licence contract is filed with the patent office (CNIPA) within three months of
taking effect. So every programme licence the pool signs carries a filing record, opened when it is
signed, frozen from what the licence covers at that moment (its licensors, the patents, territory,
term, the kind of royalty) and completed when the secretariat records the filing number and date.

Its status is computed, never stored: ``pending`` until filed, ``overdue`` once today is past the
deadline (effective date + 3 calendar months; filing on the deadline day is in time), ``filed`` once
recorded (``filed_late`` says whether that was after the deadline). ``today`` is always a parameter.

The internal cross-licence is granted automatically on admission, not signed, and has no filing
record. Plain Python, no I/O.

Bounds: one record lists the programme's essential patents in force when the licence took effect
(a ``LicensedPatent`` is under ~700 bytes at the longest title), so a document of 16 MiB holds
more than 20,000 of them: far beyond any pool.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from alliance_common.errors import Conflict, InvalidInput
from licensing.domain.patents import Patent

FILING_PERIOD_MONTHS = 3  # from the contract taking effect to the filing deadline


class RoyaltyKind(StrEnum):
    """How the licensee pays, as the filing form asks it."""

    RUNNING_ROYALTY_PER_UNIT = "running_royalty_per_unit"  # the pool's rate schedule: per unit sold
    LUMP_SUM = "lump_sum"
    LUMP_SUM_AND_RUNNING_ROYALTY = "lump_sum_and_running_royalty"  # an entry fee plus per-unit royalties
    ROYALTY_FREE = "royalty_free"


class FilingStatus(StrEnum):
    PENDING = "pending"
    FILED = "filed"
    OVERDUE = "overdue"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later; the month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def filing_deadline(effective_on: date) -> date:
    """The last day to file a contract that took effect on ``effective_on``."""
    return add_months(effective_on, FILING_PERIOD_MONTHS)


@dataclass(frozen=True)
class LicensedPatent:
    patent_id: str
    office: str
    number: str
    title: str
    owner_id: str
    expiry_date: date


@dataclass(frozen=True)
class Licensor:
    org_id: str
    name: str | None  # from the member's admission (None: not known to licensing)
    patents: int  # how many of the licensed patents it holds


def covered_patents(listed: Iterable[Patent], effective_on: date) -> tuple[LicensedPatent, ...]:
    """The programme's listed patents that the licence covers: those in force when it takes effect."""
    return tuple(
        LicensedPatent(p.id, p.office.value, p.number, p.title, p.owner_id, p.expiry_date)
        for p in sorted(listed, key=lambda p: (p.office.value, p.number))
        if p.in_force_on(effective_on)
    )


def licensors_of(patents: Iterable[LicensedPatent], names: Mapping[str, str]) -> tuple[Licensor, ...]:
    """The holders of ``patents``, each once, with its name where known and how many patents it holds."""
    counts: dict[str, int] = {}
    for p in patents:
        counts[p.owner_id] = counts.get(p.owner_id, 0) + 1
    return tuple(Licensor(org, names.get(org), n) for org, n in sorted(counts.items()))


@dataclass(frozen=True)
class LicenceFiling:
    """A licence's filing record (a value object; recording the filing returns a new one)."""

    signed_on: date
    effective_on: date
    deadline: date
    licensors: tuple[Licensor, ...]
    patents: tuple[LicensedPatent, ...]
    territory: tuple[str, ...]  # () = worldwide
    term_until: date | None  # None: no patent is covered yet, so no term can be stated
    royalty_kind: RoyaltyKind
    filing_number: str | None = None
    filed_on: date | None = None
    recorded_by: str | None = None
    recorded_at: datetime | None = None
    # When the deadline check first found it overdue and told so (once: licence.filing_overdue).
    overdue_noticed_at: datetime | None = None

    @classmethod
    def open(
        cls,
        *,
        signed_on: date,
        effective_on: date,
        listed: Iterable[Patent],
        names: Mapping[str, str],
        territory: tuple[str, ...],
        term_until: date | None,
        royalty_kind: RoyaltyKind,
    ) -> LicenceFiling:
        """The record of a licence signed on ``signed_on``, in effect from ``effective_on``.

        The term runs to ``term_until`` when the contract states it, else to the expiry of the last
        covered patent (a licence to a pool cannot outlast its patents).
        """
        patents = covered_patents(listed, effective_on)
        if term_until is not None and term_until <= effective_on:
            raise InvalidInput("the licence's term must end after it takes effect", field="term_until")
        until = term_until or max((p.expiry_date for p in patents), default=None)
        return cls(
            signed_on=signed_on,
            effective_on=effective_on,
            deadline=filing_deadline(effective_on),
            licensors=licensors_of(patents, names),
            patents=patents,
            territory=tuple(sorted(territory)),
            term_until=until,
            royalty_kind=royalty_kind,
        )

    def status(self, today: date) -> FilingStatus:
        if self.filed_on is not None:
            return FilingStatus.FILED
        return FilingStatus.OVERDUE if today > self.deadline else FilingStatus.PENDING

    def days_left(self, today: date) -> int | None:
        """Days until the deadline (negative once overdue); None once filed."""
        return None if self.filed_on is not None else (self.deadline - today).days

    def overdue_untold(self, today: date) -> bool:
        """Overdue on ``today`` and not told yet: the deadline check tells it (once)."""
        return self.status(today) is FilingStatus.OVERDUE and self.overdue_noticed_at is None

    def overdue_told(self, now: datetime) -> LicenceFiling:
        """The record once its overdue notice is out; refused unless it is overdue and untold."""
        if not self.overdue_untold(now.date()):
            raise Conflict("this filing is not overdue, or its overdue notice was sent already")
        return replace(self, overdue_noticed_at=now)

    @property
    def filed_late(self) -> bool | None:
        return None if self.filed_on is None else self.filed_on > self.deadline

    def record(self, filing_number: str, filed_on: date, by: str, now: datetime) -> LicenceFiling:
        """The filing as the patent office confirmed it: its number and the date it was filed."""
        if self.filed_on is not None:
            raise Conflict(
                f"this licence was filed already (no. {self.filing_number}, {self.filed_on.isoformat()})",
                field="filing_number",
            )
        number = filing_number.strip()
        if not number:
            raise InvalidInput("the patent office's filing number is required", field="filing_number")
        if filed_on > now.date():
            raise InvalidInput("the filing date cannot be in the future", field="filed_on")
        if filed_on < self.signed_on:
            raise InvalidInput(
                f"a contract is filed after it is signed ({self.signed_on.isoformat()}), not before", field="filed_on"
            )
        return replace(self, filing_number=number, filed_on=filed_on, recorded_by=by, recorded_at=now)
