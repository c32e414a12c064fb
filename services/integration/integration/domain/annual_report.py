"""The annual report for the civil-affairs authority: a year's figures, each traceable to its events.

Compiled from archived events only, in ONE pass in archive order (``seq``) over every event of the
types below that happened before the end of the year (``time < end``): events of earlier years
are needed for who was a member on 1 January and at which stage each project stood. A figure
counts events by when they happened (the envelope's ``time``, UTC), never by when they were
archived; the one exception is a training session "held in the year", which is a session whose
``starts_at`` falls in the year.

Every figure keeps the archive positions (``seq``) of exactly the events it counts, so an auditor
can list them (``/annual-reports/{year}/figures/{figure}/events``): a *count* figure equals the
number of its events, a *sum* figure (money, credit hours, declared patents) the sum of one
quantity over its events. Members at a date are the organisations admitted before it and not
withdrawn or expelled before it (an expired or suspended membership is still on the register);
their events are the admissions that made each of them a member.

Memory: per organisation its admissions and departures, per project its latest stage, per session
its schedule, per programme its currency; and 8 bytes (an ``array('q')`` slot) per counted event.
The pass never holds events themselves.

The order of events in the archive is not the order in which they happened (an event can be
archived late): every "latest" below is by ``(time, seq)``, never by arrival.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from integration.domain.archive import ArchivedEvent

FIRST_YEAR = 2000  # no alliance on this platform reports on an earlier year
CENT = Decimal("0.01")

# The event types the report reads (the wire format's names; see libs/contracts/alliance_contracts).
APPLICATION_DECIDED = "alliance.membership.application.decided.v1"
MEMBER_ADMITTED = "alliance.membership.member.admitted.v1"
MEMBER_WITHDRAWN = "alliance.membership.member.withdrawn.v1"
MEMBER_EXPELLED = "alliance.membership.member.expelled.v1"
DUES_INVOICED = "alliance.membership.dues.invoiced.v1"
DUES_PAID = "alliance.membership.dues.paid.v1"
PROJECT_PROPOSED = "alliance.standards.project.proposed.v1"
STAGE_CHANGED = "alliance.standards.project.stage_changed.v1"
STANDARD_PUBLISHED = "alliance.standards.standard.published.v1"
IPR_CALL_ANSWERED = "alliance.standards.ipr_call.answered.v1"
PATENT_CONTRIBUTED = "alliance.licensing.patent.contributed.v1"
PATENT_EVALUATED = "alliance.licensing.patent.evaluated.v1"
LICENCE_GRANTED = "alliance.licensing.licence.granted.v1"
ROYALTY_REPORTED = "alliance.licensing.royalty.reported.v1"
ROYALTY_PAID = "alliance.licensing.royalty.paid.v1"
ROYALTIES_DISTRIBUTED = "alliance.licensing.royalties.distributed.v1"
SESSION_SCHEDULED = "alliance.training.session.scheduled.v1"
CERTIFICATE_ISSUED = "alliance.training.certificate.issued.v1"
CREDIT_HOURS_EARNED = "alliance.training.credit_hours.earned.v1"

# The standards life cycle's stages, in order, and the actions only the council takes
# (standards/domain/lifecycle.py: approve or reject a proposal; after a periodic review,
# confirm, revise or withdraw a standard). Data of the wire format: services never import each other.
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
COUNCIL_ACTIONS = frozenset({"approve_proposal", "reject_proposal", "confirm", "revise", "withdraw"})
COMMITMENTS = ("royalty_free", "frand", "declaration_later", "unwilling")
PROGRAMME_LICENCE = "programme_licence"
INTERNAL_CROSS_LICENCE = "internal_cross_licence"
QUARTERS = ("q1", "q2", "q3", "q4")
MONTHS = tuple(f"{m:02d}" for m in range(1, 13))


class Kind(StrEnum):
    COUNT = "count"  # the number of its events
    SUM = "sum"  # a quantity summed over its events


class Unit(StrEnum):
    ORGANISATIONS = "organisations"
    DECISIONS = "decisions"
    PROJECTS = "projects"
    DECLARATIONS = "declarations"
    PATENTS = "patents"
    LICENCES = "licences"
    SESSIONS = "sessions"
    ATTENDANCES = "attendances"
    CERTIFICATES = "certificates"
    HOURS = "hours"
    MONEY = "money"  # Decimal, to the cent


@dataclass(frozen=True)
class FigureDef:
    """What a figure counts: its section of the report, its kind and unit, the event types it links."""

    key: str
    section: str
    kind: Kind
    unit: Unit
    types: frozenset[str]


def _defs() -> dict[str, FigureDef]:
    out: dict[str, FigureDef] = {}

    def add(key: str, section: str, unit: Unit, *types: str, kind: Kind = Kind.COUNT) -> None:
        out[key] = FigureDef(key, section, kind, unit, frozenset(types))

    org, membership = Unit.ORGANISATIONS, "members"
    add("members_start", membership, org, MEMBER_ADMITTED)
    add("members_end", membership, org, MEMBER_ADMITTED)
    add("members_admitted", membership, org, MEMBER_ADMITTED)
    add("members_withdrawn", membership, org, MEMBER_WITHDRAWN)
    add("members_expelled", membership, org, MEMBER_EXPELLED)
    for month in MONTHS:  # members at the end of each month: the chart "members over the year"
        add(f"members_month_end.{month}", "members_by_month", org, MEMBER_ADMITTED)
    council = "council"
    add("council_decisions", council, Unit.DECISIONS, APPLICATION_DECIDED, MEMBER_EXPELLED, STAGE_CHANGED)
    add("council_application_decisions", council, Unit.DECISIONS, APPLICATION_DECIDED)
    add("council_admissions", council, Unit.DECISIONS, APPLICATION_DECIDED)
    add("council_rejections", council, Unit.DECISIONS, APPLICATION_DECIDED)
    add("council_expulsions", council, Unit.DECISIONS, MEMBER_EXPELLED)
    add("council_standards_decisions", council, Unit.DECISIONS, STAGE_CHANGED)
    standards = "standards"
    add("standards_proposed", standards, Unit.PROJECTS, PROJECT_PROPOSED)
    add("standards_published", standards, Unit.PROJECTS, STANDARD_PUBLISHED)
    add("standards_under_review", standards, Unit.PROJECTS, STAGE_CHANGED)
    for stage in STAGES:  # every project's stage at the end of the year: the chart "standards by stage"
        add(f"standards_stage.{stage}", "standards_by_stage", Unit.PROJECTS, PROJECT_PROPOSED, STAGE_CHANGED)
    ipr = "ipr"
    add("ipr_declarations", ipr, Unit.DECLARATIONS, IPR_CALL_ANSWERED)
    add("declared_patents", ipr, Unit.PATENTS, STANDARD_PUBLISHED, kind=Kind.SUM)
    for commitment in COMMITMENTS:
        add(f"declared_patents.{commitment}", ipr, Unit.PATENTS, STANDARD_PUBLISHED, kind=Kind.SUM)
    patents = "patents"
    add("patents_contributed", patents, Unit.PATENTS, PATENT_CONTRIBUTED)
    add("patents_evaluated", patents, Unit.PATENTS, PATENT_EVALUATED)
    add("patents_evaluated_essential", patents, Unit.PATENTS, PATENT_EVALUATED)
    add("patents_evaluated_not_essential", patents, Unit.PATENTS, PATENT_EVALUATED)
    licences = "licences"
    add("licences_signed", licences, Unit.LICENCES, LICENCE_GRANTED)
    add("licences_internal", licences, Unit.LICENCES, LICENCE_GRANTED)
    royalties = "royalties"
    add("royalties_collected", royalties, Unit.MONEY, ROYALTY_PAID, kind=Kind.SUM)
    add("royalties_distributed", royalties, Unit.MONEY, ROYALTIES_DISTRIBUTED, kind=Kind.SUM)
    add("royalties_admin_fee", royalties, Unit.MONEY, ROYALTIES_DISTRIBUTED, kind=Kind.SUM)
    for quarter in QUARTERS:  # the chart "royalties per quarter"
        add(f"royalties_collected.{quarter}", "royalties_by_quarter", Unit.MONEY, ROYALTY_PAID, kind=Kind.SUM)
        add(
            f"royalties_distributed.{quarter}",
            "royalties_by_quarter",
            Unit.MONEY,
            ROYALTIES_DISTRIBUTED,
            kind=Kind.SUM,
        )
    training = "training"
    add("training_held", training, Unit.SESSIONS, SESSION_SCHEDULED)
    add("training_participants", training, Unit.ATTENDANCES, CREDIT_HOURS_EARNED)
    add("training_credit_hours", training, Unit.HOURS, CREDIT_HOURS_EARNED, kind=Kind.SUM)
    add("training_certificates", training, Unit.CERTIFICATES, CERTIFICATE_ISSUED)
    dues = "dues"
    add("dues_invoiced", dues, Unit.MONEY, DUES_INVOICED, kind=Kind.SUM)
    add("dues_paid", dues, Unit.MONEY, DUES_PAID, kind=Kind.SUM)
    return out


FIGURES: dict[str, FigureDef] = _defs()
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(d.section for d in FIGURES.values()))
# Every type the pass reads: the archive is scanned for these only.
TYPES: frozenset[str] = frozenset().union(*(d.types for d in FIGURES.values())) | {ROYALTY_REPORTED}


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """``[1 January year, 1 January year + 1)`` in UTC."""
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


class Tally:
    """A figure being compiled: the positions of its events and, for a sum, the running total."""

    __slots__ = ("seqs", "total")

    def __init__(self) -> None:
        self.seqs = array("q")
        self.total: Decimal | int = 0


@dataclass(frozen=True)
class Figure:
    key: str
    definition: FigureDef
    value: int | Decimal  # a count, or the sum (Decimal for money, to the cent, and hours)
    seqs: array[int]  # the archive positions of the events it counts, ascending
    currency: str | None = None  # money: the one currency of its events when the archive says it

    @property
    def events(self) -> int:
        return len(self.seqs)

    def page(self, after_seq: int, limit: int) -> tuple[list[int], bool]:
        """The next ``limit`` positions after ``after_seq``, and whether more follow."""
        start = bisect_right(self.seqs, after_seq)
        chunk = list(self.seqs[start : start + limit])
        return chunk, start + limit < len(self.seqs)


@dataclass(frozen=True)
class AnnualReport:
    year: int
    start: datetime
    end: datetime
    as_of: datetime  # end of the year, or the compile time for the year in progress
    archive_seq: int  # the archive's version it was compiled from (every event up to this seq)
    figures: dict[str, Figure] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.as_of >= self.end

    def value(self, key: str) -> int | Decimal:
        return self.figures[key].value


def _money(value: Any) -> Decimal:
    # Amounts travel as JSON strings (pydantic's Decimal); never through a float.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _about(event: ArchivedEvent, name: str) -> str:
    """The aggregate an event is about, as its payload names it (the envelope's subject otherwise)."""
    value = event.data.get(name)
    return value if isinstance(value, str) else event.subject


def _time(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class AnnualReportCompiler:
    """Feed it every event of ``TYPES`` with ``time < end`` (any order), then ``report()``."""

    def __init__(self, year: int, as_of: datetime | None = None) -> None:
        self.year = year
        self.start, self.end = year_bounds(year)
        self.as_of = min(self.end, as_of) if as_of is not None else self.end
        self.tallies: dict[str, Tally] = {key: Tally() for key in FIGURES}
        # organisation -> its admissions and departures: (time, seq, admitted?)
        self._memberships: dict[str, list[tuple[datetime, int, bool]]] = {}
        self._stages: dict[str, tuple[datetime, int, str]] = {}  # project -> latest (time, seq, stage)
        self._sessions: dict[str, tuple[datetime, int, datetime]] = {}  # session -> latest (time, seq, starts_at)
        self._currencies: dict[str, str] = {}  # programme -> currency of its royalty reports
        self._paid_programmes: set[str] = set()
        self._distributed_programmes: set[str] = set()
        self._handlers: dict[str, Callable[[ArchivedEvent, bool], None]] = {
            APPLICATION_DECIDED: self._application_decided,
            MEMBER_ADMITTED: self._admitted,
            MEMBER_WITHDRAWN: self._departed,
            MEMBER_EXPELLED: self._departed,
            DUES_INVOICED: self._dues,
            DUES_PAID: self._dues,
            PROJECT_PROPOSED: self._proposed,
            STAGE_CHANGED: self._stage_changed,
            STANDARD_PUBLISHED: self._published,
            IPR_CALL_ANSWERED: self._ipr_answered,
            PATENT_CONTRIBUTED: self._patent_contributed,
            PATENT_EVALUATED: self._patent_evaluated,
            LICENCE_GRANTED: self._licence_granted,
            ROYALTY_REPORTED: self._royalty_reported,
            ROYALTY_PAID: self._royalty_paid,
            ROYALTIES_DISTRIBUTED: self._royalties_distributed,
            SESSION_SCHEDULED: self._session_scheduled,
            CERTIFICATE_ISSUED: self._certificate,
            CREDIT_HOURS_EARNED: self._credit_hours,
        }

    def feed_all(self, events: Iterable[ArchivedEvent]) -> None:
        for event in events:
            self.feed(event)

    def feed(self, event: ArchivedEvent) -> None:
        handler = self._handlers.get(event.type)
        if handler is not None and event.time < self.end:
            handler(event, event.time >= self.start)

    # ------------------------------------------------------------------ the handlers

    def _count(self, key: str, event: ArchivedEvent) -> None:
        self.tallies[key].seqs.append(event.seq)

    def _sum(self, key: str, event: ArchivedEvent, amount: Decimal | int) -> None:
        tally = self.tallies[key]
        tally.seqs.append(event.seq)
        tally.total += amount

    def _application_decided(self, event: ArchivedEvent, in_year: bool) -> None:
        if not in_year or event.data.get("decided_by") != "council":
            return
        self._count("council_decisions", event)
        self._count("council_application_decisions", event)
        decision = event.data.get("decision")
        if decision == "admitted":
            self._count("council_admissions", event)
        elif decision == "rejected":
            self._count("council_rejections", event)

    def _admitted(self, event: ArchivedEvent, in_year: bool) -> None:
        self._memberships.setdefault(_about(event, "member_id"), []).append((event.time, event.seq, True))
        if in_year:
            self._count("members_admitted", event)

    def _departed(self, event: ArchivedEvent, in_year: bool) -> None:
        self._memberships.setdefault(_about(event, "member_id"), []).append((event.time, event.seq, False))
        if not in_year:
            return
        if event.type == MEMBER_WITHDRAWN:
            self._count("members_withdrawn", event)
        else:
            self._count("members_expelled", event)
            self._count("council_expulsions", event)
            self._count("council_decisions", event)

    def _dues(self, event: ArchivedEvent, in_year: bool) -> None:
        if in_year:
            key = "dues_invoiced" if event.type == DUES_INVOICED else "dues_paid"
            self._sum(key, event, _money(event.data["amount"]))

    def _proposed(self, event: ArchivedEvent, in_year: bool) -> None:
        self._stage(_about(event, "project_id"), (event.time, event.seq, "proposed"))
        if in_year:
            self._count("standards_proposed", event)

    def _stage_changed(self, event: ArchivedEvent, in_year: bool) -> None:
        self._stage(_about(event, "project_id"), (event.time, event.seq, str(event.data["to_stage"])))
        if in_year and event.data.get("action") in COUNCIL_ACTIONS:
            self._count("council_standards_decisions", event)
            self._count("council_decisions", event)

    def _stage(self, project: str, stage: tuple[datetime, int, str]) -> None:
        known = self._stages.get(project)
        if known is None or stage[:2] > known[:2]:
            self._stages[project] = stage

    def _published(self, event: ArchivedEvent, in_year: bool) -> None:
        if not in_year:
            return
        self._count("standards_published", event)
        declarations = event.data.get("declarations") or []
        self._sum("declared_patents", event, len(declarations))
        by_commitment: dict[str, int] = {}
        for declaration in declarations:
            commitment = declaration.get("commitment")
            by_commitment[commitment] = by_commitment.get(commitment, 0) + 1
        for commitment, n in by_commitment.items():
            if commitment in COMMITMENTS:
                self._sum(f"declared_patents.{commitment}", event, n)

    def _ipr_answered(self, event: ArchivedEvent, in_year: bool) -> None:
        if in_year and event.data.get("answer") == "declared":
            self._count("ipr_declarations", event)

    def _patent_contributed(self, event: ArchivedEvent, in_year: bool) -> None:
        if in_year:
            self._count("patents_contributed", event)

    def _patent_evaluated(self, event: ArchivedEvent, in_year: bool) -> None:
        if not in_year:
            return
        self._count("patents_evaluated", event)
        essential = event.data.get("essential") is True
        self._count("patents_evaluated_essential" if essential else "patents_evaluated_not_essential", event)

    def _licence_granted(self, event: ArchivedEvent, in_year: bool) -> None:
        if not in_year:
            return
        kind = event.data.get("kind")
        if kind == PROGRAMME_LICENCE:
            self._count("licences_signed", event)
        elif kind == INTERNAL_CROSS_LICENCE:
            self._count("licences_internal", event)

    def _royalty_reported(self, event: ArchivedEvent, in_year: bool) -> None:
        currency = event.data.get("currency")
        if isinstance(currency, str):
            self._currencies.setdefault(str(event.data.get("programme_id")), currency)

    def _quarter(self, event: ArchivedEvent) -> str:
        return QUARTERS[(event.time.month - 1) // 3]

    def _royalty_paid(self, event: ArchivedEvent, in_year: bool) -> None:
        if not in_year:
            return
        amount = _money(event.data["amount"])
        self._sum("royalties_collected", event, amount)
        self._sum(f"royalties_collected.{self._quarter(event)}", event, amount)
        self._paid_programmes.add(str(event.data.get("programme_id")))

    def _royalties_distributed(self, event: ArchivedEvent, in_year: bool) -> None:
        if not in_year:
            return
        amount = _money(event.data["distributed"])
        self._sum("royalties_distributed", event, amount)
        self._sum(f"royalties_distributed.{self._quarter(event)}", event, amount)
        self._sum("royalties_admin_fee", event, _money(event.data["admin_fee"]))
        self._distributed_programmes.add(str(event.data.get("programme_id")))

    def _session_scheduled(self, event: ArchivedEvent, in_year: bool) -> None:
        entry = (event.time, event.seq, _time(event.data["starts_at"]))
        session = _about(event, "session_id")
        known = self._sessions.get(session)
        if known is None or entry[:2] > known[:2]:
            self._sessions[session] = entry

    def _certificate(self, event: ArchivedEvent, in_year: bool) -> None:
        if in_year:
            self._count("training_certificates", event)

    def _credit_hours(self, event: ArchivedEvent, in_year: bool) -> None:
        if in_year:
            self._count("training_participants", event)
            self._sum("training_credit_hours", event, _money(event.data["hours"]))

    # ------------------------------------------------------------------ the end of the pass

    def report(self, archive_seq: int) -> AnnualReport:
        self._members_at()
        for project_stage in self._stages.values():
            _, seq, stage = project_stage
            if stage in STAGES:
                self.tallies[f"standards_stage.{stage}"].seqs.append(seq)
                if stage == "under_review":
                    self.tallies["standards_under_review"].seqs.append(seq)
        for _, seq, starts_at in self._sessions.values():
            if self.start <= starts_at < self.end:
                self.tallies["training_held"].seqs.append(seq)
        figures = {key: self._figure(key, tally) for key, tally in self.tallies.items()}
        return AnnualReport(self.year, self.start, self.end, self.as_of, archive_seq, figures)

    def _members_at(self) -> None:
        """Members on 1 January, at each month's end, and at the end of the year (or now)."""
        instants = [("members_start", self.start)]
        for month in range(1, 13):
            month_end = datetime(self.year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
            instants.append((f"members_month_end.{month:02d}", month_end))
        instants.append(("members_end", self.end))
        for timeline in self._memberships.values():
            timeline.sort()
            for key, instant in instants:
                admission = _member_by(timeline, instant)
                if admission is not None:
                    self.tallies[key].seqs.append(admission)

    def _figure(self, key: str, tally: Tally) -> Figure:
        definition = FIGURES[key]
        seqs = array("q", sorted(tally.seqs))
        currency = None
        value: int | Decimal
        if definition.kind is Kind.COUNT:
            value = len(seqs)
        elif definition.unit is Unit.MONEY:
            value = Decimal(tally.total).quantize(CENT)
            currency = self._currency_of(definition)
        elif definition.unit is Unit.HOURS:
            value = Decimal(tally.total)
        else:
            value = int(tally.total)
        return Figure(key, definition, value, seqs, currency)

    def _currency_of(self, definition: FigureDef) -> str | None:
        """Royalties: the currency of the programmes' reports when they all share one (else None)."""
        if ROYALTY_PAID in definition.types:
            programmes = self._paid_programmes
        elif ROYALTIES_DISTRIBUTED in definition.types:
            programmes = self._distributed_programmes
        else:
            return None  # dues: no membership event states a currency
        currencies = {self._currencies.get(p) for p in programmes}
        return currencies.pop() if len(currencies) == 1 else None


def _member_by(timeline: list[tuple[datetime, int, bool]], instant: datetime) -> int | None:
    """The admission that makes this organisation a member just before ``instant``, if it is one."""
    latest = None
    for moment, seq, admitted in timeline:  # sorted by (time, seq)
        if moment >= instant:
            break
        latest = seq if admitted else None
    return latest


def compile_report(
    year: int, events: Iterable[ArchivedEvent], archive_seq: int, as_of: datetime | None = None
) -> AnnualReport:
    """The report of ``year`` from ``events`` (those of other types or after the year are ignored)."""
    compiler = AnnualReportCompiler(year, as_of)
    compiler.feed_all(events)
    return compiler.report(archive_seq)
