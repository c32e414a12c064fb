"""Statistics of the patent pool: patents by office, segment and essentiality, in force by country;
programmes, licences and royalties per quarter. Plain Python, no I/O (see ``statistics``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from integration.domain.archive import ArchivedEvent
from integration.domain.folding import (
    LEGAL_STATUS_CHANGED,
    LICENCE_GRANTED,
    LICENCE_RESTORED,
    LICENCE_SUSPENDED,
    PATENT_CONTRIBUTED,
    PATENT_EVALUATED,
    PATENT_SUBMITTED,
    PROGRAMME_CREATED,
    ROYALTIES_DISTRIBUTED,
    ROYALTY_PAID,
    ROYALTY_REPORTED,
    ZERO,
    Fold,
    Handler,
    Period,
    day_of,
    money,
)
from integration.domain.tables import Column, ColumnType, Table

MIN_LICENSEES = 3  # a quarter's royalty amounts are shown only when at least this many licensees reported
SEGMENTS = ("substrate", "epitaxy", "chip", "packaging", "application", "equipment", "materials")
OFFICES = ("CN", "US", "EP", "JP", "KR", "DE", "FR", "GB", "RU", "AU", "WO")


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

    def copy(self) -> _Quarter:
        quarter = _Quarter()
        quarter.reports, quarter.licensees, quarter.reported = self.reports, set(self.licensees), self.reported
        return quarter


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
        self.payments: dict[str, list[Decimal]] = {}  # report id -> [amount, late interest]
        self.distributions: list[tuple[str, str, Decimal, Decimal]] = []  # programme, period, distributed, fee

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

    # Reports, payments and distributions are keyed by different aggregates (report, programme), so
    # they travel on different partitions and may be archived in any order between them: each is kept
    # as it comes and they are put together only when the tables are made.
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
        paid = self.payments.setdefault(d["report_id"], [ZERO, ZERO])
        paid[0] += money(d.get("amount"))
        paid[1] += money(d.get("late_interest"))

    def on_distributed(self, e: ArchivedEvent) -> None:
        d = e.data
        self.distributions.append(
            (
                d.get("programme_id", ""),
                str(d.get("period", "")),
                money(d.get("distributed")),
                money(d.get("admin_fee")),
            )
        )

    def by_quarter(self) -> dict[tuple[str, str], _Quarter]:
        """The quarters with their payments and distributions (a payment of a report not archived: left out)."""
        quarters = {key: q.copy() for key, q in self.quarters.items()}
        for report_id, (amount, interest) in self.payments.items():
            key = self.reports.get(report_id)
            if key is not None:
                quarters[key].collected += amount
                quarters[key].late_interest += interest
        for programme, period, distributed, fee in self.distributions:
            quarter = quarters.setdefault((period, self.programme_currency.get(programme, "")), _Quarter())
            quarter.distributed += distributed
            quarter.admin_fee += fee
        return quarters

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
        for (period, currency), q in sorted(self.by_quarter().items()):
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
