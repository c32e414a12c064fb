"""Statistics: read models folded from archived events, for any date or period. Plain Python, no I/O.

A ``Period`` is either a date (the state as of the end of that day, UTC, and the flows from the
beginning through it) or a range ``from``..``to`` (both days inclusive: the state as of the end of
``to`` and the flows within the range). Every figure is computed from the archived events whose
``time`` is before the end of the period, read once, in archive order: each fold keeps only the
little state its figures need (a few fields per member, patent, project or session) and answers
with ``Table``s. Folds read the payloads as published (JSON: dates and decimals as strings) without
validating them into models, which is what keeps a pass over a million events cheap.

Which date counts:
- states (members by status, patents in force, standards by stage, licences) are as of the end of
  the period, from the events archived with a ``time`` before it;
- flows (admissions, departures, contributions, evaluations, proposals) count the events whose
  ``time`` lies within the period;
- tables per year or quarter go by the date the fact names: a standard's ``published_on``, the
  quarter a royalty report is for (payments and distributions count towards the quarter of the
  report or distribution they belong to), a session's start.

Privacy: figures are counts and pool totals. No fold emits a person, a contact or one company's
money: royalties are summed over the whole pool per quarter, and a quarter whose reports come from
fewer than ``MIN_LICENSEES`` licensees shows no amounts (``withheld``), since a total of one or
two licensees' reports is their own sales figure.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from integration.domain.archive import ArchivedEvent
from integration.domain.tables import Column, ColumnType, Table

ZERO = Decimal("0")
MIN_LICENSEES = 3  # a quarter's royalty amounts are shown only when at least this many licensees reported

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

# The vocabularies (rows with zero are shown too, so a table's shape does not depend on the data).
MEMBER_STATUSES = ("new", "current", "grace", "expired", "suspended", "withdrawn", "expelled")
ENDED = frozenset({"withdrawn", "expelled"})  # no longer a member
TIERS = ("council_member", "ordinary_member", "observer")
SEGMENTS = ("substrate", "epitaxy", "chip", "packaging", "application", "equipment", "materials")
OFFICES = ("CN", "US", "EP", "JP", "KR", "DE", "FR", "GB", "RU", "AU", "WO")
STAGES = (
    "proposed",
    "accepted",
    "working_group",
    "working_draft",
    "committee_draft",
    "public_comment",
    "ballot",
    "approved",
    "published",
    "filed",
    "under_review",
    "confirmed",
    "revised",
    "withdrawn",
    "rejected",
    "abandoned",
)
COMMITMENTS = ("royalty_free", "frand", "declaration_later", "unwilling")


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


def _ordered(counts: Mapping[str, int], known: Sequence[str]) -> list[tuple[str, int]]:
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


# --- members -------------------------------------------------------------------------------------


class _Member:
    __slots__ = ("admitted", "left", "region", "segments", "since", "status", "tier")

    def __init__(self, tier: str, segments: list[str], region: str, status: str, since: date, admitted: datetime):
        self.tier = tier
        self.segments = segments
        self.region = region
        self.status = status
        self.since = since
        self.admitted = admitted  # when the admission was archived as happening (event time)
        self.left: datetime | None = None


class MembersFold(Fold):
    """Members by status, tier, segment and region; admissions and departures."""

    title = "Members"

    def __init__(self, period: Period) -> None:
        super().__init__(period)
        self.members: dict[str, _Member] = {}
        self.admitted = 0
        self.withdrawn = 0
        self.expelled = 0

    def handlers(self) -> dict[str, Handler]:
        return {
            ADMITTED: self.on_admitted,
            SUSPENDED: self.on_suspended,
            REINSTATED: self.on_reinstated,
            STATUS_CHANGED: self.on_status_changed,
            WITHDRAWN: self.on_withdrawn,
            EXPELLED: self.on_expelled,
        }

    def on_admitted(self, e: ArchivedEvent) -> None:
        d = e.data
        status = d.get("status") or ("current" if d.get("in_good_standing", True) else "expired")
        since = day_of(d.get("start_date")) or day_of(d.get("admitted_at")) or e.time.date()
        self.members[d["member_id"]] = _Member(
            d.get("tier", ""), list(d.get("segments") or ()), d.get("region", ""), status, since, e.time
        )
        if self.period.within(e.time):
            self.admitted += 1

    def _set(self, e: ArchivedEvent, status: str) -> _Member | None:
        member = self.members.get(e.data["member_id"])
        if member is not None:
            member.status = status
        return member

    def on_suspended(self, e: ArchivedEvent) -> None:
        self._set(e, "suspended")

    def on_reinstated(self, e: ArchivedEvent) -> None:
        d = e.data
        self._set(e, d.get("status") or ("current" if d.get("in_good_standing", True) else "expired"))

    def on_status_changed(self, e: ArchivedEvent) -> None:
        self._set(e, e.data["new_status"])

    def on_withdrawn(self, e: ArchivedEvent) -> None:
        member = self._set(e, "withdrawn")
        if member is not None:
            member.left = e.time
        if self.period.within(e.time):
            self.withdrawn += 1

    def on_expelled(self, e: ArchivedEvent) -> None:
        member = self._set(e, "expelled")
        if member is not None:
            member.left = e.time
        if self.period.within(e.time):
            self.expelled += 1

    def current(self) -> list[_Member]:
        """Members as of the end of the period (admitted, not withdrawn or expelled)."""
        return [m for m in self.members.values() if m.status not in ENDED]

    def members_at_start(self) -> int:
        since = self.period.since
        if since is None:
            return 0
        return sum(1 for m in self.members.values() if m.admitted < since and (m.left is None or m.left >= since))

    def tables(self) -> list[Table]:
        current = self.current()
        by_status = Counter(m.status for m in self.members.values())
        by_tier = Counter(m.tier for m in current)
        by_segment = Counter(s for m in current for s in m.segments)
        by_region = Counter(m.region for m in current)
        members = Column("members", ColumnType.INTEGER, "members as of the end of the period")
        return [
            Table(
                "members_by_status",
                "Members by status",
                (
                    Column("status", description="new, current, grace, expired, suspended, withdrawn, expelled"),
                    Column("members", ColumnType.INTEGER, "organisations with this status at the end of the period"),
                ),
                list(_ordered(by_status, MEMBER_STATUSES)),
            ),
            Table(
                "members_by_tier",
                "Members by tier",
                (Column("tier", description="council_member, ordinary_member, observer"), members),
                list(_ordered(by_tier, TIERS)),
            ),
            Table(
                "members_by_segment",
                "Members by industry-chain segment (a member in several segments counts in each)",
                (Column("segment", description="industry-chain segment"), members),
                list(_ordered(by_segment, SEGMENTS)),
            ),
            Table(
                "members_by_region",
                "Members by region",
                (Column("region", description="ISO 3166-2 region code, e.g. CN-FJ"), members),
                sorted(by_region.items()),
            ),
            Table(
                "admissions_and_departures",
                "Admissions and departures in the period",
                (
                    Column("from", ColumnType.DATE, "first day of the period (empty: from the beginning)"),
                    Column("to", ColumnType.DATE, "last day of the period"),
                    Column("members_at_start", ColumnType.INTEGER, "members at the start of the period"),
                    Column("admitted", ColumnType.INTEGER, "organisations admitted in the period"),
                    Column("withdrawn", ColumnType.INTEGER, "members that withdrew in the period"),
                    Column("expelled", ColumnType.INTEGER, "members expelled in the period"),
                    Column("members_at_end", ColumnType.INTEGER, "members at the end of the period"),
                ),
                [
                    (
                        self.period.start,
                        self.period.end,
                        self.members_at_start(),
                        self.admitted,
                        self.withdrawn,
                        self.expelled,
                        len(current),
                    )
                ],
            ),
        ]


# --- patents -------------------------------------------------------------------------------------


class _Patent:
    __slots__ = ("ended_on", "expiry", "grant_date", "office", "segment", "status", "validated_in")

    def __init__(
        self,
        office: str,
        segment: str,
        status: str | None,
        grant_date: date | None,
        expiry: date | None,
        validated_in: list[str],
    ) -> None:
        self.office = office
        self.segment = segment
        self.status = status  # None: an event from before the contract carried it
        self.grant_date = grant_date
        self.expiry = expiry
        self.ended_on: date | None = None
        self.validated_in = validated_in

    def in_force_on(self, day: date) -> bool:
        """As licensing's ``Patent.in_force_on``: granted by ``day``, not expired, invalidated or lapsed."""
        if self.status == "pending":
            return False
        if self.status is not None and (self.grant_date is None or day < self.grant_date):
            return False
        if self.expiry is not None and day >= self.expiry:
            return False
        return self.ended_on is None or day < self.ended_on

    def territory(self) -> list[str]:
        """Where the patent has effect: its office's country; an EP patent where validated; WO nowhere."""
        if self.office == "EP":
            return self.validated_in
        if self.office == "WO":
            return []
        return [self.office]


class PatentsFold(Fold):
    """Patents by office, segment and essentiality; in force by country."""

    title = "Patents"

    def __init__(self, period: Period) -> None:
        super().__init__(period)
        self.patents: dict[str, _Patent] = {}
        self.programmes: dict[str, tuple[str, str]] = {}  # id -> (name, standard)
        self.submissions: dict[str, tuple[str, str]] = {}  # id -> (programme, patent)
        self.findings: dict[str, bool] = {}  # submission id -> essential
        self.contributed_in_period: Counter[str] = Counter()  # by office
        self.evaluated_in_period: Counter[str] = Counter()  # by programme

    def handlers(self) -> dict[str, Handler]:
        return {
            PROGRAMME_CREATED: self.on_programme,
            PATENT_CONTRIBUTED: self.on_contributed,
            LEGAL_STATUS_CHANGED: self.on_legal_status,
            PATENT_SUBMITTED: self.on_submitted,
            PATENT_EVALUATED: self.on_evaluated,
        }

    def on_programme(self, e: ArchivedEvent) -> None:
        d = e.data
        self.programmes[d["programme_id"]] = (d.get("name", ""), d.get("standard_ref", ""))

    def on_contributed(self, e: ArchivedEvent) -> None:
        d = e.data
        office = d.get("office", "")
        self.patents[d["patent_id"]] = _Patent(
            office,
            d.get("segment") or "",
            d.get("status"),
            day_of(d.get("grant_date")),
            day_of(d.get("expiry_date")),
            list(d.get("validated_in") or ()),
        )
        if self.period.within(e.time):
            self.contributed_in_period[office] += 1

    def on_legal_status(self, e: ArchivedEvent) -> None:
        patent = self.patents.get(e.data["patent_id"])
        if patent is not None:
            patent.status = e.data.get("status") or patent.status
            patent.ended_on = day_of(e.data.get("ended_on"))

    def on_submitted(self, e: ArchivedEvent) -> None:
        d = e.data
        self.submissions[d["submission_id"]] = (d["programme_id"], d["patent_id"])

    def on_evaluated(self, e: ArchivedEvent) -> None:
        d = e.data
        self.submissions.setdefault(d["submission_id"], (d["programme_id"], d["patent_id"]))
        self.findings[d["submission_id"]] = bool(d.get("essential"))
        if self.period.within(e.time):
            self.evaluated_in_period[d["programme_id"]] += 1

    def essential_patents(self) -> set[str]:
        return {self.submissions[s][1] for s, essential in self.findings.items() if essential}

    def tables(self) -> list[Table]:
        day = self.period.end
        essential = self.essential_patents()
        in_force = {pid for pid, p in self.patents.items() if p.in_force_on(day)}
        by_office: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        by_segment: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        by_country: Counter[str] = Counter()
        for pid, p in self.patents.items():
            for key, into in ((p.office, by_office), (p.segment, by_segment)):
                row = into[key]
                row[0] += 1
                row[1] += pid in in_force
                row[2] += pid in essential
            if pid in in_force:
                by_country.update(p.territory())
        for office in OFFICES:
            by_office[office]  # noqa: B018 (the known offices are shown with zeros)
        for segment in SEGMENTS:
            by_segment[segment]  # noqa: B018
        registered = Column("registered", ColumnType.INTEGER, "patents on the alliance's register")
        in_force_col = Column("in_force", ColumnType.INTEGER, "of them in force at the end of the period")
        essential_col = Column(
            "essential", ColumnType.INTEGER, "of them evaluated essential to at least one programme's standard"
        )
        office_keys = list(OFFICES) + sorted(k for k in by_office if k not in OFFICES)
        segment_keys = list(SEGMENTS) + sorted(k for k in by_segment if k not in SEGMENTS)
        per_programme: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for submission, (programme, _) in self.submissions.items():
            row = per_programme[programme]
            row[0] += 1
            finding = self.findings.get(submission)
            if finding is True:
                row[1] += 1
            elif finding is False:
                row[2] += 1
        for programme in self.programmes:
            per_programme[programme]  # noqa: B018
        return [
            Table(
                "patents_by_office",
                "Patents by patent office",
                (
                    Column("office", description="CN, US, EP, JP, KR, DE, FR, GB, RU, AU, WO"),
                    registered,
                    in_force_col,
                    essential_col,
                    Column("contributed_in_period", ColumnType.INTEGER, "patents contributed within the period"),
                ),
                [(o, *by_office[o], self.contributed_in_period.get(o, 0)) for o in office_keys],
            ),
            Table(
                "patents_by_segment",
                "Patents by industry-chain segment",
                (
                    Column("segment", description="industry-chain segment (empty: not stated)"),
                    registered,
                    in_force_col,
                    essential_col,
                ),
                [(s, *by_segment[s]) for s in segment_keys],
            ),
            Table(
                "patents_by_essentiality",
                "Essentiality evaluations by pool programme",
                (
                    Column("programme_id", description="the pool programme"),
                    Column("programme", description="its name"),
                    Column("standard", description="the standard it licenses"),
                    Column("submitted", ColumnType.INTEGER, "patents submitted for an evaluation"),
                    Column("essential", ColumnType.INTEGER, "found essential (listed in the programme)"),
                    Column("not_essential", ColumnType.INTEGER, "found not essential"),
                    Column("awaiting", ColumnType.INTEGER, "submitted, not evaluated yet"),
                    Column("evaluated_in_period", ColumnType.INTEGER, "evaluations recorded within the period"),
                ),
                [
                    (
                        pid,
                        *self.programmes.get(pid, ("", "")),
                        row[0],
                        row[1],
                        row[2],
                        row[0] - row[1] - row[2],
                        self.evaluated_in_period.get(pid, 0),
                    )
                    for pid, row in sorted(per_programme.items())
                ],
            ),
            Table(
                "patents_in_force_by_country",
                "Patents in force by country at the end of the period (an EP patent counts where validated)",
                (
                    Column("country", description="ISO 3166-1 alpha-2"),
                    Column("patents", ColumnType.INTEGER, "patents in force there"),
                ),
                sorted(by_country.items()),
            ),
        ]


# --- programmes, licences, royalties -------------------------------------------------------------


class _Quarter:
    __slots__ = ("admin_fee", "collected", "distributed", "late_interest", "licensees", "reported", "reports")

    def __init__(self) -> None:
        self.reports = 0
        self.licensees: set[str] = set()
        self.reported = ZERO
        self.collected = ZERO
        self.late_interest = ZERO
        self.distributed = ZERO
        self.admin_fee = ZERO


class RoyaltiesFold(Fold):
    """Programmes, licences, and royalties reported, collected and distributed per quarter (pool totals)."""

    title = "Programmes, licences and royalties"

    def __init__(self, period: Period, min_licensees: int = MIN_LICENSEES) -> None:
        super().__init__(period)
        self.min_licensees = min_licensees
        self.programmes: dict[str, tuple[str, str]] = {}
        self.licences: dict[str, tuple[str, str, bool]] = {}  # id -> (kind, programme, in force)
        self.granted_in_period: Counter[str] = Counter()  # by kind
        self.submissions: dict[str, str] = {}  # submission -> programme
        self.essential: dict[str, set[str]] = defaultdict(set)  # programme -> patents found essential
        self.reports: dict[str, tuple[str, str]] = {}  # report id -> (quarter, currency)
        self.quarters: dict[tuple[str, str], _Quarter] = defaultdict(_Quarter)  # (quarter, currency)
        self.programme_currency: dict[str, str] = {}

    def handlers(self) -> dict[str, Handler]:
        return {
            PROGRAMME_CREATED: self.on_programme,
            LICENCE_GRANTED: self.on_granted,
            LICENCE_SUSPENDED: self.on_suspended,
            LICENCE_RESTORED: self.on_restored,
            PATENT_EVALUATED: self.on_evaluated,
            ROYALTY_REPORTED: self.on_reported,
            ROYALTY_PAID: self.on_paid,
            ROYALTIES_DISTRIBUTED: self.on_distributed,
        }

    def on_programme(self, e: ArchivedEvent) -> None:
        d = e.data
        self.programmes[d["programme_id"]] = (d.get("name", ""), d.get("standard_ref", ""))

    def on_granted(self, e: ArchivedEvent) -> None:
        d = e.data
        kind = d.get("kind", "")
        self.licences[d["licence_id"]] = (kind, d.get("programme", ""), True)
        if self.period.within(e.time):
            self.granted_in_period[kind] += 1

    def _force(self, e: ArchivedEvent, in_force: bool) -> None:
        licence = self.licences.get(e.data["licence_id"])
        if licence is not None:
            self.licences[e.data["licence_id"]] = (licence[0], licence[1], in_force)

    def on_suspended(self, e: ArchivedEvent) -> None:
        self._force(e, False)

    def on_restored(self, e: ArchivedEvent) -> None:
        self._force(e, True)

    def on_evaluated(self, e: ArchivedEvent) -> None:
        d = e.data
        if d.get("essential"):
            self.essential[d["programme_id"]].add(d["patent_id"])
        else:
            self.essential[d["programme_id"]].discard(d["patent_id"])

    def on_reported(self, e: ArchivedEvent) -> None:
        d = e.data
        period, currency = str(d.get("period", "")), str(d.get("currency", ""))
        self.reports[d["report_id"]] = (period, currency)
        self.programme_currency.setdefault(d.get("programme_id", ""), currency)
        quarter = self.quarters[(period, currency)]
        quarter.reports += 1
        quarter.licensees.add(d.get("licensee_id", ""))
        quarter.reported += money(d.get("total"))

    def on_paid(self, e: ArchivedEvent) -> None:
        d = e.data
        report = self.reports.get(d["report_id"])
        if report is None:
            return  # a payment for a report archived later than it (never in practice): not guessed
        quarter = self.quarters[report]
        quarter.collected += money(d.get("amount"))
        quarter.late_interest += money(d.get("late_interest"))

    def on_distributed(self, e: ArchivedEvent) -> None:
        d = e.data
        currency = self.programme_currency.get(d.get("programme_id", ""), "")
        quarter = self.quarters[(str(d.get("period", "")), currency)]
        quarter.distributed += money(d.get("distributed"))
        quarter.admin_fee += money(d.get("admin_fee"))

    def tables(self) -> list[Table]:
        licences_by_programme: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for kind, programme, in_force in self.licences.values():
            licences_by_programme[programme][0] += 1
            licences_by_programme[programme][1] += in_force
            by_kind[kind][0] += in_force
            by_kind[kind][1] += not in_force
        for kind in self.granted_in_period:
            by_kind[kind]  # noqa: B018
        rows: list[tuple[Any, ...]] = []
        for (period, currency), q in sorted(self.quarters.items()):
            shown = len(q.licensees) >= self.min_licensees
            amounts: tuple[Decimal | None, ...] = (
                (q.reported, q.collected, q.late_interest, q.distributed, q.admin_fee) if shown else (None,) * 5
            )
            rows.append((period, currency, q.reports, len(q.licensees), *amounts, not shown))
        amount = ColumnType.DECIMAL
        return [
            Table(
                "programmes",
                "Pool programmes",
                (
                    Column("programme_id", description="the pool programme"),
                    Column("name", description="its name"),
                    Column("standard", description="the standard it licenses"),
                    Column("essential_patents", ColumnType.INTEGER, "patents evaluated essential to it"),
                    Column("licences", ColumnType.INTEGER, "licences to it"),
                    Column("licences_in_force", ColumnType.INTEGER, "of them in force (not suspended)"),
                ),
                [
                    (pid, name, standard, len(self.essential.get(pid, ())), *licences_by_programme.get(pid, (0, 0)))
                    for pid, (name, standard) in sorted(self.programmes.items())
                ],
            ),
            Table(
                "licences_by_kind",
                "Licences by kind",
                (
                    Column("kind", description="internal_cross_licence (members) or programme_licence (licensees)"),
                    Column("in_force", ColumnType.INTEGER, "licences active (not suspended) at the end of the period"),
                    Column("suspended", ColumnType.INTEGER, "licences suspended at the end of the period"),
                    Column("granted_in_period", ColumnType.INTEGER, "licences granted within the period"),
                ),
                [(k, *v, self.granted_in_period.get(k, 0)) for k, v in sorted(by_kind.items())],
            ),
            Table(
                "royalties_by_quarter",
                "Royalties per quarter, whole pool (amounts withheld when fewer than "
                f"{self.min_licensees} licensees reported for the quarter)",
                (
                    Column("quarter", description="the quarter the royalty reports are for, e.g. 2026-Q1"),
                    Column("currency", description="ISO 4217"),
                    Column("reports", ColumnType.INTEGER, "royalty reports filed for the quarter"),
                    Column("licensees", ColumnType.INTEGER, "licensees that reported"),
                    Column("reported", amount, "royalties due by the reports"),
                    Column("collected", amount, "payments received against them (any late interest included)"),
                    Column("late_interest", amount, "late interest charged on those payments"),
                    Column("distributed", amount, "shared among the licensors"),
                    Column("admin_fee", amount, "kept by the pool administrator"),
                    Column("withheld", ColumnType.BOOLEAN, "amounts not shown: too few licensees to keep them private"),
                ),
                rows,
            ),
        ]


# --- standards -----------------------------------------------------------------------------------


class StandardsFold(Fold):
    """Standards by stage, published and withdrawn per year, IPR declarations by commitment."""

    title = "Standards"

    def __init__(self, period: Period) -> None:
        super().__init__(period)
        self.stages: dict[str, str] = {}  # project -> stage
        self.declarations: dict[str, list[str]] = {}  # project -> commitments at its (last) publication
        self.published: Counter[int] = Counter()  # by year of published_on
        self.withdrawn: Counter[int] = Counter()  # by year of the withdrawal
        self.flows: Counter[str] = Counter()  # proposed / published / withdrawn within the period

    def handlers(self) -> dict[str, Handler]:
        return {
            PROJECT_PROPOSED: self.on_proposed,
            STAGE_CHANGED: self.on_stage_changed,
            STANDARD_PUBLISHED: self.on_published,
        }

    def on_proposed(self, e: ArchivedEvent) -> None:
        self.stages[e.data["project_id"]] = e.data.get("stage") or "proposed"
        if self.period.within(e.time):
            self.flows["proposed"] += 1

    def on_stage_changed(self, e: ArchivedEvent) -> None:
        to_stage = e.data["to_stage"]
        self.stages[e.data["project_id"]] = to_stage
        if to_stage == "withdrawn":
            self.withdrawn[e.time.year] += 1
            if self.period.within(e.time):
                self.flows["withdrawn"] += 1

    def on_published(self, e: ArchivedEvent) -> None:
        d = e.data
        published_on = day_of(d.get("published_on")) or e.time.date()
        self.published[published_on.year] += 1
        self.declarations[d["project_id"]] = [str(x.get("commitment", "")) for x in d.get("declarations") or ()]
        if self.period.within(e.time):
            self.flows["published"] += 1

    def tables(self) -> list[Table]:
        by_stage = Counter(self.stages.values())
        years = sorted(set(self.published) | set(self.withdrawn))
        by_commitment: Counter[str] = Counter()
        standards_with: Counter[str] = Counter()
        for commitments in self.declarations.values():
            by_commitment.update(commitments)
            standards_with.update(set(commitments))
        return [
            Table(
                "standards_by_stage",
                "Standards projects by stage at the end of the period",
                (
                    Column("stage", description="the project's life-cycle stage"),
                    Column("projects", ColumnType.INTEGER, "projects in this stage"),
                ),
                list(_ordered(by_stage, STAGES)),
            ),
            Table(
                "standards_per_year",
                "Standards published and withdrawn per year",
                (
                    Column("year", ColumnType.INTEGER, "calendar year"),
                    Column("published", ColumnType.INTEGER, "standards published (by publication date)"),
                    Column("withdrawn", ColumnType.INTEGER, "standards withdrawn"),
                ),
                [(y, self.published.get(y, 0), self.withdrawn.get(y, 0)) for y in years],
            ),
            Table(
                "ipr_declarations_by_commitment",
                "IPR declarations on published standards, by licensing commitment",
                (
                    Column("commitment", description="royalty_free, frand, declaration_later, unwilling"),
                    Column("declarations", ColumnType.INTEGER, "patents declared with this commitment"),
                    Column("standards", ColumnType.INTEGER, "published standards with at least one such declaration"),
                ),
                [(c, n, standards_with.get(c, 0)) for c, n in _ordered(by_commitment, COMMITMENTS)],
            ),
            Table(
                "standards_in_period",
                "Standards activity in the period",
                (
                    Column("from", ColumnType.DATE, "first day of the period (empty: from the beginning)"),
                    Column("to", ColumnType.DATE, "last day of the period"),
                    Column("proposed", ColumnType.INTEGER, "projects proposed (revisions included)"),
                    Column("published", ColumnType.INTEGER, "standards published"),
                    Column("withdrawn", ColumnType.INTEGER, "standards withdrawn"),
                ),
                [
                    (
                        self.period.start,
                        self.period.end,
                        self.flows["proposed"],
                        self.flows["published"],
                        self.flows["withdrawn"],
                    )
                ],
            ),
        ]


# --- training ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Session:
    title: str
    starts_at: date
    capacity: int
    registrations: dict[str, str] = field(default_factory=dict)  # registration -> status
    attended: set[str] = field(default_factory=set)  # registrations that earned credit hours
    certificates: int = 0
    hours: Decimal = ZERO


class TrainingFold(Fold):
    """Training sessions held in the period, their participants, certificates and credit hours."""

    title = "Training"

    def __init__(self, period: Period) -> None:
        super().__init__(period)
        self.sessions: dict[str, _Session] = {}

    def handlers(self) -> dict[str, Handler]:
        return {
            SESSION_SCHEDULED: self.on_scheduled,
            REGISTRATION_CONFIRMED: self.on_confirmed,
            REGISTRATION_STATUS_CHANGED: self.on_status_changed,
            CERTIFICATE_ISSUED: self.on_certificate,
            CREDIT_HOURS_EARNED: self.on_hours,
        }

    def _session(self, e: ArchivedEvent) -> _Session:
        found = self.sessions.get(e.data["session_id"])
        if found is None:  # an event of a session scheduled before the archive began: kept, undated
            found = self.sessions[e.data["session_id"]] = _Session("", e.time.date(), 0)
        return found

    def on_scheduled(self, e: ArchivedEvent) -> None:
        d = e.data
        session = self._session(e)
        session.title = d.get("title", "")
        session.starts_at = day_of(d.get("starts_at")) or e.time.date()
        session.capacity = int(d.get("capacity") or 0)

    def on_confirmed(self, e: ArchivedEvent) -> None:
        self._session(e).registrations[e.data["registration_id"]] = "confirmed"

    def on_status_changed(self, e: ArchivedEvent) -> None:
        self._session(e).registrations[e.data["registration_id"]] = str(e.data.get("status", ""))

    def on_certificate(self, e: ArchivedEvent) -> None:
        self._session(e).certificates += 1

    def on_hours(self, e: ArchivedEvent) -> None:
        session = self._session(e)
        session.attended.add(e.data["registration_id"])
        session.hours += money(e.data.get("hours"))

    def held(self) -> list[tuple[str, _Session]]:
        """The sessions that start within the period, by start then id."""
        return sorted(
            ((sid, s) for sid, s in self.sessions.items() if self.period.holds(s.starts_at)),
            key=lambda item: (item[1].starts_at, item[0]),
        )

    def tables(self) -> list[Table]:
        rows = [
            (
                sid,
                s.title,
                s.starts_at,
                s.capacity,
                sum(1 for status in s.registrations.values() if status == "confirmed"),
                len(s.attended),
                s.certificates,
                s.hours,
            )
            for sid, s in self.held()
        ]
        confirmed = Column("confirmed", ColumnType.INTEGER, "registrations confirmed (cancellations excluded)")
        participants = Column("participants", ColumnType.INTEGER, "people who attended (earned credit hours)")
        certificates = Column("certificates", ColumnType.INTEGER, "certificates issued")
        hours = Column("credit_hours", ColumnType.DECIMAL, "credit hours earned")
        return [
            Table(
                "training_summary",
                "Training held in the period (sessions starting within it)",
                (
                    Column("from", ColumnType.DATE, "first day of the period (empty: from the beginning)"),
                    Column("to", ColumnType.DATE, "last day of the period"),
                    Column("sessions", ColumnType.INTEGER, "sessions starting within the period"),
                    confirmed,
                    participants,
                    certificates,
                    hours,
                ),
                [
                    (
                        self.period.start,
                        self.period.end,
                        len(rows),
                        sum(r[4] for r in rows),
                        sum(r[5] for r in rows),
                        sum(r[6] for r in rows),
                        sum((r[7] for r in rows), ZERO),
                    )
                ],
            ),
            Table(
                "training_by_session",
                "Training sessions held in the period",
                (
                    Column("session_id", description="the session"),
                    Column("title", description="its title"),
                    Column("starts_on", ColumnType.DATE, "its first day"),
                    Column("capacity", ColumnType.INTEGER, "places offered"),
                    confirmed,
                    participants,
                    certificates,
                    hours,
                ),
                rows,
            ),
        ]


# --- the topics served ---------------------------------------------------------------------------

TOPICS: dict[str, Callable[[Period], Fold]] = {
    "members": MembersFold,
    "patents": PatentsFold,
    "royalties": RoyaltiesFold,
    "standards": StandardsFold,
    "training": TrainingFold,
}


def compute(topic: str, period: Period, events: Iterable[ArchivedEvent]) -> list[Table]:
    """One topic's tables from events (already limited to ``time < period.until``): for tests and tools."""
    fold = TOPICS[topic](period)
    run([fold], events)
    return fold.tables()
