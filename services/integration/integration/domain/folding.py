"""Folding archived events into read models: the period, the event types, the fold and one pass.

Plain Python, no I/O. A ``Fold`` names a handler per event type and answers with ``Table``s; ``run``
applies a scan's events to several folds in one pass, each event to the handlers of its type only.
Handlers read the payloads as published (JSON: dates and decimals as strings) without validating
them into models, which is what keeps a pass over a million events cheap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from integration.domain.archive import ArchivedEvent
from integration.domain.tables import Table

ZERO = Decimal("0")

# --- event types (as published; alliance_contracts declares them) ---------------------------------
M = "alliance.membership."
ADMITTED = M + "member.admitted.v1"
SUSPENDED = M + "member.suspended.v1"
REINSTATED = M + "member.reinstated.v1"
STATUS_CHANGED = M + "member.status_changed.v1"
WITHDRAWN = M + "member.withdrawn.v1"
EXPELLED = M + "member.expelled.v1"
L = "alliance.licensing."
PROGRAMME_CREATED = L + "programme.created.v1"
PATENT_CONTRIBUTED = L + "patent.contributed.v1"
PATENT_SUBMITTED = L + "patent.submitted.v1"
PATENT_EVALUATED = L + "patent.evaluated.v1"
LEGAL_STATUS_CHANGED = L + "patent.legal_status_changed.v1"
LICENCE_GRANTED = L + "licence.granted.v1"
LICENCE_SUSPENDED = L + "licence.suspended.v1"
LICENCE_RESTORED = L + "licence.restored.v1"
ROYALTY_REPORTED = L + "royalty.reported.v1"
ROYALTY_PAID = L + "royalty.paid.v1"
ROYALTIES_DISTRIBUTED = L + "royalties.distributed.v1"
S = "alliance.standards."
PROJECT_PROPOSED = S + "project.proposed.v1"
STAGE_CHANGED = S + "project.stage_changed.v1"
STANDARD_PUBLISHED = S + "standard.published.v1"
T = "alliance.training."
SESSION_SCHEDULED = T + "session.scheduled.v1"
REGISTRATION_CONFIRMED = T + "registration.confirmed.v1"
REGISTRATION_STATUS_CHANGED = T + "registration.status_changed.v1"
CERTIFICATE_ISSUED = T + "certificate.issued.v1"
CREDIT_HOURS_EARNED = T + "credit_hours.earned.v1"


# --- the period ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """``start`` None: a date (from the beginning through ``end``); else the days ``start``..``end``."""

    end: date
    start: date | None = None
    # Computed once (every event of a scan is compared with them): the first instant of the period
    # (None: from the beginning) and the end, the start of the day after ``end`` (exclusive).
    since: datetime | None = field(init=False, compare=False, repr=False)
    until: datetime = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.start is not None and self.start > self.end:
            raise ValueError("the period's start is after its end")
        since = None if self.start is None else datetime.combine(self.start, time(), UTC)
        object.__setattr__(self, "since", since)
        object.__setattr__(self, "until", datetime.combine(self.end + timedelta(days=1), time(), UTC))

    def within(self, moment: datetime) -> bool:
        """Whether an event of the scan (all before ``until``) falls within the period."""
        return self.since is None or moment >= self.since

    def holds(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and day <= self.end

    def as_json(self) -> dict[str, str | None]:
        return {"from": self.start.isoformat() if self.start else None, "to": self.end.isoformat()}


# --- reading payloads as published ---------------------------------------------------------------


def day_of(value: Any) -> date | None:
    """A date from a payload's date or date-time (ISO text as published, or an already parsed value)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    text = str(value)
    if len(text) > 10:  # a date-time: its UTC date
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (moment.astimezone(UTC) if moment.tzinfo else moment).date()
    return date.fromisoformat(text)


def money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def ordered(counts: Mapping[str, int], known: Sequence[str]) -> list[tuple[str, int]]:
    """The known values in their order (zeros included), then any other value alphabetically."""
    return [(k, counts.get(k, 0)) for k in known] + sorted((k, v) for k, v in counts.items() if k not in known)


Handler = Callable[[ArchivedEvent], None]


class Fold:
    """A read model: handlers by event type, and the tables it answers with."""

    title = ""

    def __init__(self, period: Period) -> None:
        self.period = period

    def handlers(self) -> dict[str, Handler]:
        raise NotImplementedError

    def tables(self) -> list[Table]:
        raise NotImplementedError


def run(folds: Sequence[Fold], events: Iterable[ArchivedEvent]) -> None:
    """Apply events (already limited to ``time < period.until``) to every fold: one pass."""
    dispatch = dispatch_table(folds)
    get = dispatch.get
    for event in events:
        handlers = get(event.type)
        if handlers is not None:
            for handle in handlers:
                handle(event)


def dispatch_table(folds: Sequence[Fold]) -> dict[str, list[Handler]]:
    dispatch: dict[str, list[Handler]] = defaultdict(list)
    for fold in folds:
        for event_type, handle in fold.handlers().items():
            dispatch[event_type].append(handle)
    return dict(dispatch)


def types_of(folds: Sequence[Fold]) -> frozenset[str]:
    return frozenset(t for fold in folds for t in fold.handlers())
