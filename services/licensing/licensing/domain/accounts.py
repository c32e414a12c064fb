"""A licensee's royalty account for one programme: its reports, invoices and year to date.

Plain Python, no I/O. One aggregate per (programme, licensee group): filing a report
reads and advances the year-to-date position (tiers, free units, cap) in the same
versioned write that stores the report and its invoice, so two filings can never both
use the same free units or the same room under the cap.

Filing date. A report is filed today, unless the secretariat records one filed earlier (history
imported from paper or another system) and gives its filing date: then compliance (was the
licensee current on that day?), the late-filing flag and the invoice's due date all count from
that date. History is entered in the order it happened: a filing date is never in the future,
never on or before the last day of the quarter reported, and never before the filing date of a
report already in the account. Each report keeps a history of who entered what, and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from alliance_common.errors import Conflict, InvalidInput
from licensing.domain import limits
from licensing.domain.distribution import CollectedLine, collected_lines
from licensing.domain.events import LicensingEvent, RoyaltyPaid, RoyaltyReported
from licensing.domain.patents import Patent
from licensing.domain.royalties import (
    ZERO,
    Period,
    RateSchedule,
    ReportResult,
    RoyaltyReport,
    YearToDate,
    compute_report,
    is_cents,
    late_interest,
)

PAYMENT_TERMS = timedelta(days=30)
FILING_DEADLINE = timedelta(days=30)  # after the end of the quarter


@dataclass(frozen=True, slots=True)
class ExplainedStep:
    """One step of a priced line as stored: the rule applied, why, and what it added."""

    rule: str
    detail: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ExplainedLine:
    """A priced report line as stored: the amount and the steps that explain it."""

    index: int
    product_category: str
    units: int
    country_of_manufacture: str
    country_of_sale: str
    period: str
    amount: Decimal
    covered_by: tuple[str, ...]
    steps: tuple[ExplainedStep, ...]


@dataclass(frozen=True)
class Payment:
    amount: Decimal
    received_on: date
    late_interest: Decimal  # interest charged on what was overdue when this payment arrived
    key: str | None = None  # the client's idempotency key: a retried request is recorded once


@dataclass(frozen=True)
class ReportHistoryEntry:
    """Who entered what about a report, and when (``at``: the time it was entered, not the date it names)."""

    at: datetime
    action: str  # "filed", "recorded" (a report filed earlier, entered by the secretariat), "payment"
    by: str  # the user who entered it
    detail: str


@dataclass
class FiledReport:
    id: str
    period: Period
    filed_on: date
    lines: tuple[ExplainedLine, ...]
    collected: tuple[CollectedLine, ...]  # what distribution shares once the invoice is paid
    total: Decimal
    due_on: date
    payments: list[Payment] = field(default_factory=list)
    filed_by: str = ""  # the company that filed: the group's parent or one of its subsidiaries
    history: list[ReportHistoryEntry] = field(default_factory=list)

    @property
    def interest(self) -> Decimal:
        return sum((p.late_interest for p in self.payments), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)

    @property
    def outstanding(self) -> Decimal:
        return max(ZERO, self.total + self.interest - self.paid)

    @property
    def settled(self) -> bool:
        return self.outstanding == ZERO

    def outstanding_on(self, day: date) -> Decimal:
        """What was owed at the end of ``day``: only the payments received by then count."""
        received = [p for p in self.payments if p.received_on <= day]
        return max(
            ZERO, self.total + sum((p.late_interest for p in received), ZERO) - sum((p.amount for p in received), ZERO)
        )

    def overdue(self, today: date) -> bool:
        return today > self.due_on and self.outstanding_on(today) > ZERO

    @property
    def filed_late(self) -> bool:
        return self.filed_on > self.period.end + FILING_DEADLINE


@dataclass
class RoyaltyAccount:
    id: str
    programme_id: str
    licensee_id: str  # the licensee group: a company and its >50% subsidiaries
    year_to_date: dict[int, YearToDate] = field(default_factory=dict)
    reports: list[FiledReport] = field(default_factory=list)
    version: int = 0
    events: list[LicensingEvent] = field(default_factory=list, repr=False)

    @staticmethod
    def id_for(programme_id: str, licensee_id: str) -> str:
        return f"{programme_id}:{licensee_id}"

    def compliant(self, today: date) -> bool:
        """In compliance: no invoice overdue, and the last report filed on time.

        A late filer or payer loses the compliant rate until it is current again.
        """
        if any(r.overdue(today) for r in self.reports):
            return False
        latest = max(self.reports, key=lambda r: (r.period, r.filed_on), default=None)
        return latest is None or not latest.filed_late

    def file(
        self,
        report_id: str,
        report: RoyaltyReport,
        schedule: RateSchedule,
        patents: Iterable[Patent],
        *,
        member_in_good_standing: bool,
        today: date,
        filed_by: str = "",
        filed_on: date | None = None,
        entered_by: str = "",
        entered_at: datetime | None = None,
    ) -> FiledReport:
        """Price and store ``report``, filed ``today`` or, for history the secretariat records, on ``filed_on``."""
        if any(r.period == report.period for r in self.reports):
            raise Conflict(f"{report.period} is reported already; correct it with back-royalty lines", field="period")
        on = today if filed_on is None else self._check_filing_date(filed_on, report.period, today)
        check_report_bounds(report, today)
        years = {line.period.year for line in report.lines} | {report.period.year}
        prior = {year: self.year_to_date.get(year, YearToDate()) for year in years}
        result = compute_report(
            report,
            schedule,
            patents,
            compliant=self.compliant(on),
            member_in_good_standing=member_in_good_standing,
            prior=prior,
            today=on,
        )
        filed = FiledReport(
            id=report_id,
            period=report.period,
            filed_on=on,
            lines=explain(result),
            collected=collected_lines(result, report_id),
            total=result.total,
            due_on=on + PAYMENT_TERMS,
            filed_by=filed_by or self.licensee_id,
        )
        late = " (late: the deadline was " + str(report.period.end + FILING_DEADLINE) + ")" if filed.filed_late else ""
        if filed_on is None:
            detail = f"filed on {on}{late}"
        else:
            detail = f"recorded by the secretariat for {filed.filed_by}: filed on {on} (date given){late}"
        filed.history.append(
            ReportHistoryEntry(
                entered_at or datetime.combine(today, time(), UTC),
                "filed" if filed_on is None else "recorded",
                entered_by or filed.filed_by,
                detail,
            )
        )
        self.year_to_date.update(result.year_to_date)
        self.reports.append(filed)
        self.events.append(
            RoyaltyReported(
                report_id=report_id,
                programme_id=self.programme_id,
                licensee_id=self.licensee_id,
                period=str(report.period),
                total=result.total,
                currency=schedule.currency,
                due_on=filed.due_on,
                lines=len(result.lines),
            )
        )
        return filed

    def _check_filing_date(self, filed_on: date, period: Period, today: date) -> date:
        if filed_on > today:
            raise InvalidInput(f"the filing date {filed_on} is in the future", field="filed_on")
        if not period.has_ended(filed_on):
            raise InvalidInput(
                f"{period} could be filed from {period.end + timedelta(days=1)}, not on {filed_on}", field="filed_on"
            )
        latest = max((r.filed_on for r in self.reports), default=None)
        if latest is not None and filed_on < latest:
            raise InvalidInput(
                f"a report of this account was filed on {latest}: enter history in the order it was filed",
                field="filed_on",
            )
        return filed_on

    def pay(
        self,
        report_id: str,
        amount: Decimal,
        received_on: date,
        annual_interest_percent: Decimal,
        key: str | None = None,
        *,
        entered_by: str = "",
        entered_at: datetime | None = None,
    ) -> Payment:
        report = self.report(report_id)
        if len(report.payments) >= limits.PAYMENTS_PER_REPORT_MAX:
            raise Conflict(
                f"report {report_id} has {len(report.payments)} payments, the most one report takes "
                f"({limits.PAYMENTS_PER_REPORT_MAX})",
                field="payments",
            )
        if not is_cents(amount) or amount <= 0:
            raise InvalidInput("a payment is a positive amount in cents", field="amount")
        if report.settled:
            raise Conflict(f"report {report_id} is paid in full")
        if received_on < report.filed_on:
            raise InvalidInput(
                f"report {report_id} was filed on {report.filed_on}: a payment for it is received then or later",
                field="received_on",
            )
        last = max((p.received_on for p in report.payments), default=None)
        if last is not None and received_on < last:
            raise InvalidInput(
                f"a payment received on {last} is recorded already: enter payments in the order received",
                field="received_on",
            )
        interest = ZERO
        if received_on > report.due_on:  # simple interest on what was outstanding, for the days late
            owed = report.total - report.paid
            days_paid_for = max((p.received_on for p in report.payments), default=report.due_on)
            start = max(report.due_on, days_paid_for)
            interest = late_interest(max(ZERO, owed), annual_interest_percent, start, received_on).interest
        payment = Payment(amount=amount, received_on=received_on, late_interest=interest, key=key)
        report.payments.append(payment)
        report.history.append(
            ReportHistoryEntry(
                entered_at or datetime.combine(received_on, time(), UTC),
                "payment",
                entered_by or "secretariat",
                f"{amount} received on {received_on}" + (f", with {interest} late interest" if interest else ""),
            )
        )
        self.events.append(
            RoyaltyPaid(
                report_id=report_id,
                programme_id=self.programme_id,
                licensee_id=self.licensee_id,
                amount=amount,
                late_interest=interest,
                outstanding=report.outstanding,
                received_on=received_on,
            )
        )
        return payment

    def report(self, report_id: str) -> FiledReport:
        for report in self.reports:
            if report.id == report_id:
                return report
        raise InvalidInput(f"no report {report_id} in this account", field="report_id")


def check_report_bounds(report: RoyaltyReport, today: date) -> None:
    """Refuse (422, the field named) a report with too many lines or reaching too far back."""
    if len(report.lines) > limits.REPORT_LINES_MAX:
        raise InvalidInput(
            f"a report has at most {limits.REPORT_LINES_MAX} lines, not {len(report.lines)}; "
            "sum the units of lines with the same category, countries and quarter",
            field="lines",
        )
    earliest = today.year - limits.REPORT_LOOKBACK_YEARS
    if report.period.year < earliest:
        raise InvalidInput(f"reports reach back to {earliest} at most, not {report.period}", field="period")
    for i, line in enumerate(report.lines):
        if line.period.year < earliest:
            raise InvalidInput(
                f"back-royalty lines reach back to {earliest} at most, not {line.period}", field=f"lines.{i}.period"
            )


def explain(result: ReportResult) -> tuple[ExplainedLine, ...]:
    return tuple(
        ExplainedLine(
            index=r.index,
            product_category=r.line.product_category,
            units=r.line.units,
            country_of_manufacture=r.line.country_of_manufacture,
            country_of_sale=r.line.country_of_sale,
            period=str(r.line.period),
            amount=r.amount,
            covered_by=r.covered_by,
            steps=tuple(ExplainedStep(str(s.rule), s.detail, s.amount) for s in r.steps),
        )
        for r in result.lines
    )
