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

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from integration.domain.archive import ArchivedEvent
from integration.domain.folding import (
    ADMITTED,
    CERTIFICATE_ISSUED,
    CREDIT_HOURS_EARNED,
    EXPELLED,
    PROJECT_PROPOSED,
    REGISTRATION_CONFIRMED,
    REGISTRATION_STATUS_CHANGED,
    REINSTATED,
    SESSION_SCHEDULED,
    STAGE_CHANGED,
    STANDARD_PUBLISHED,
    STATUS_CHANGED,
    SUSPENDED,
    WITHDRAWN,
    ZERO,
    Fold,
    Handler,
    Period,
    day_of,
    money,
    ordered,
    run,
)
from integration.domain.statistics_pool import SEGMENTS, PatentsFold, RoyaltiesFold
from integration.domain.tables import Column, ColumnType, Table

# The vocabularies (rows with zero are shown too, so a table's shape does not depend on the data).
MEMBER_STATUSES = ("new", "current", "grace", "expired", "suspended", "withdrawn", "expelled")
ENDED = frozenset({"withdrawn", "expelled"})  # no longer a member
TIERS = ("council_member", "ordinary_member", "observer")
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
                list(ordered(by_status, MEMBER_STATUSES)),
            ),
            Table(
                "members_by_tier",
                "Members by tier",
                (Column("tier", description="council_member, ordinary_member, observer"), members),
                list(ordered(by_tier, TIERS)),
            ),
            Table(
                "members_by_segment",
                "Members by industry-chain segment (a member in several segments counts in each)",
                (Column("segment", description="industry-chain segment"), members),
                list(ordered(by_segment, SEGMENTS)),
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
                list(ordered(by_stage, STAGES)),
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
                [(c, n, standards_with.get(c, 0)) for c, n in ordered(by_commitment, COMMITMENTS)],
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
