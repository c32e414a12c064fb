"""Patents contributed to the pool: where and when each one is in force, and essentiality evaluation.

Plain Python, no I/O.

Territory. A patent has effect only in the territory of the office that granted it:
- a national office (CN, US, JP, KR, DE, FR, GB, RU, AU) covers its own country;
- an EP (European) patent is, after grant, a bundle of national patents that exist only where it
  was validated, so an EP patent carries ``validated_in`` (a subset of ``EP_VALIDATION_COUNTRIES``)
  and is in force nowhere else — an EP patent with no validations is in force nowhere;
- a WO (PCT) application is never granted: it confers no rights until it enters the national or
  regional phase, and each national-phase patent is recorded as its own ``Patent`` with its own
  office. A WO record alone is in force nowhere.

Time. A patent is in force from its grant date up to, not including, its expiry date, and up to,
not including, the date an invalidation or lapse took effect (``ended_on``). The status says what
is true today; ``in_force_on`` answers for any date, so back royalties for past periods still see a
patent that has since expired. Invalidation counts from its effective date, not retroactively:
royalties already collected are not reopened.

Countries are ISO 3166-1 alpha-2 codes (the United Kingdom is GB, not UK).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from alliance_common.errors import Forbidden, InvalidInput
from licensing.domain.patent_rights import Claim, StatusReview

# Every ISO 3166-1 alpha-2 code (249, as published by the ISO 3166 maintenance agency).
COUNTRY_CODES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW
    """.split()
)

# Where a granted EP patent can be validated: the 39 EPC contracting states, the extension state
# (BA) and the validation states (MA, MD, TN, KH, GE). Each EP patent lists its own validations.
EP_VALIDATION_COUNTRIES: frozenset[str] = frozenset(
    """
    AL AT BE BG CH CY CZ DE DK EE ES FI FR GB GR HR HU IE IS IT LI LT LU LV MC ME MK MT NL NO PL PT RO RS SE
    SI SK SM TR
    BA
    MA MD TN KH GE
    """.split()
)


class PatentOffice(StrEnum):
    CN = "CN"
    US = "US"
    EP = "EP"
    JP = "JP"
    KR = "KR"
    DE = "DE"
    FR = "FR"
    GB = "GB"
    RU = "RU"
    AU = "AU"
    WO = "WO"


# A national office's patents are in force in exactly its country (EP and WO are not national).
NATIONAL_OFFICE_COUNTRY: dict[PatentOffice, str] = {
    PatentOffice.CN: "CN",
    PatentOffice.US: "US",
    PatentOffice.JP: "JP",
    PatentOffice.KR: "KR",
    PatentOffice.DE: "DE",
    PatentOffice.FR: "FR",
    PatentOffice.GB: "GB",
    PatentOffice.RU: "RU",
    PatentOffice.AU: "AU",
}


class LegalStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    EXPIRED = "expired"
    INVALIDATED = "invalidated"
    LAPSED = "lapsed"


# Statuses whose end of force is dated by ``ended_on`` (expiry is dated by ``expiry_date``).
ENDED_STATUSES = frozenset({LegalStatus.INVALIDATED, LegalStatus.LAPSED})


class ChainSegment(StrEnum):
    # The alliance's industry-chain segments (the same values as membership's; services share no code).
    SUBSTRATE = "substrate"
    EPITAXY = "epitaxy"
    CHIP = "chip"
    PACKAGING = "packaging"
    APPLICATION = "application"
    EQUIPMENT = "equipment"
    MATERIALS = "materials"


@dataclass(frozen=True)
class Patent:
    id: str
    owner_id: str  # the contributing organisation: the licensor in distribution
    office: PatentOffice
    number: str
    family_id: str
    title: str
    filing_date: date
    expiry_date: date  # end of the term (known from filing): out of force from this date
    status: LegalStatus
    segment: ChainSegment
    grant_date: date | None = None
    ended_on: date | None = None  # when an invalidation or lapse took effect: out of force from this date
    validated_in: frozenset[str] = field(default_factory=frozenset)  # EP only: the countries of validation
    review: StatusReview | None = None  # the owner's request for a change only the secretariat makes
    claim: Claim = Claim.UNDISPUTED  # another organisation registered the same number: see patent_rights

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise InvalidInput("a patent number is required", field="number")
        if self.expiry_date <= self.filing_date:
            raise InvalidInput("the expiry date must be after the filing date", field="expiry_date")
        if self.grant_date is not None and not self.filing_date <= self.grant_date < self.expiry_date:
            raise InvalidInput("the grant date must lie between filing and expiry", field="grant_date")
        if self.status is LegalStatus.PENDING and self.grant_date is not None:
            raise InvalidInput("a pending application has no grant date", field="grant_date")
        if self.status in (LegalStatus.GRANTED, LegalStatus.EXPIRED) and self.grant_date is None:
            raise InvalidInput(f"a {self.status} patent needs its grant date", field="grant_date")
        if (self.status in ENDED_STATUSES) != (self.ended_on is not None):
            raise InvalidInput("ended_on is required for, and only for, invalidated or lapsed", field="ended_on")
        if self.office is PatentOffice.WO and self.status not in (LegalStatus.PENDING, LegalStatus.LAPSED):
            raise InvalidInput(
                "a WO (PCT) application is never granted: record each national phase as its own patent",
                field="status",
            )
        if self.office is not PatentOffice.EP and self.validated_in:
            raise InvalidInput("only an EP patent lists validation countries", field="validated_in")
        unknown = self.validated_in - EP_VALIDATION_COUNTRIES
        if unknown:
            raise InvalidInput(f"not an EP validation country: {', '.join(sorted(unknown))}", field="validated_in")

    def in_force_on(self, on: date) -> bool:
        """Granted on or before ``on`` and neither expired nor invalidated/lapsed by then (anywhere)."""
        if self.grant_date is None or on < self.grant_date or on >= self.expiry_date:
            return False
        return self.ended_on is None or on < self.ended_on

    @property
    def territory(self) -> frozenset[str]:
        """Where the patent has effect while it is in force (nowhere for a WO application)."""
        if self.office is PatentOffice.EP:
            return self.validated_in
        if self.office is PatentOffice.WO:
            return frozenset()
        return frozenset({NATIONAL_OFFICE_COUNTRY[self.office]})

    def countries_in_force(self, on: date) -> frozenset[str]:
        if not self.in_force_on(on):
            return frozenset()
        return self.territory

    def in_force_in(self, country: str, on: date) -> bool:
        return country in self.countries_in_force(on)


def coverage(patents: Iterable[Patent], country: str, on_date: date) -> tuple[Patent, ...]:
    """The patents in force in ``country`` on ``on_date``, in the given order."""
    return tuple(p for p in patents if p.in_force_in(country, on_date))


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: an index answers with one object
class Covering:
    """The listed patents in force in a line's country of manufacture or of sale on its date."""

    patents: tuple[Patent, ...]  # once each (by id): the manufacture country's in listed order, then the sale's
    ids: tuple[str, ...]  # the same patents' ids
    by_owner: tuple[tuple[str, tuple[str, ...]], ...]  # (owner, its patents' ids in listed order), owners by first
    counted: int  # the patents counted for distribution (in force in either country, each once)
    numbers: str  # ``patents`` written "number (office)", comma-separated, for explanations


_MAX_MEMO = 500_000  # (country, country, date) answers kept by one index


class PatentIndex:
    """The listed patents, indexed for "which are in force in this country on this date".

    Same answers as ``coverage`` and ``Patent.countries_in_force``, memoised. A patent can be in force
    only in its ``territory``, and its force changes only at a few dates: its grant and the end of
    its force (expiry, invalidation, lapse). So each country keeps its candidate patents and the
    sorted dates at which one of them changes: two dates between the same changes have the same
    patents in force, and each answer is worked out once per such interval (and looked up by date
    afterwards). Build one index per list of listed patents (they are frozen) and pass it wherever
    the listed patents are expected: it iterates over them in the given order.
    """

    def __init__(self, patents: Iterable[Patent]) -> None:
        self.patents = tuple(patents)
        candidates: dict[str, list[tuple[int, Patent]]] = {}
        for position, patent in enumerate(self.patents):
            for country in patent.territory:
                candidates.setdefault(country, []).append((position, patent))
        self._candidates = {country: tuple(found) for country, found in candidates.items()}
        self._changes = {
            country: sorted({d for _, p in found for d in (p.grant_date, p.expiry_date, p.ended_on) if d is not None})
            for country, found in candidates.items()
        }
        self._in_force: dict[tuple[str, int], tuple[tuple[int, Patent], ...]] = {}
        self._by_interval: dict[tuple[str, int, str, int], Covering] = {}
        self._by_date: dict[tuple[str, str, date], Covering] = {}

    def __iter__(self) -> Iterator[Patent]:
        return iter(self.patents)

    def __len__(self) -> int:
        return len(self.patents)

    def _interval(self, country: str, on: date) -> int:
        """Which interval between the country's change dates ``on`` falls in."""
        return bisect_right(self._changes.get(country, ()), on)

    def _positioned(self, country: str, on: date) -> tuple[tuple[int, Patent], ...]:
        key = (country, self._interval(country, on))
        found = self._in_force.get(key)
        if found is None:
            found = self._in_force[key] = tuple(
                (position, patent) for position, patent in self._candidates.get(country, ()) if patent.in_force_on(on)
            )
        return found

    def in_force(self, country: str, on: date) -> tuple[Patent, ...]:
        """The patents in force in ``country`` on ``on``, in listed order (as ``coverage``)."""
        return tuple(patent for _, patent in self._positioned(country, on))

    def covering(self, country_of_manufacture: str, country_of_sale: str, on: date) -> Covering:
        """The patents in force in either country on ``on``; the same object for the same answer."""
        key = (country_of_manufacture, country_of_sale, on)
        found = self._by_date.get(key)
        if found is None:
            interval = (
                country_of_manufacture,
                self._interval(country_of_manufacture, on),
                country_of_sale,
                self._interval(country_of_sale, on),
            )
            found = self._by_interval.get(interval)
            if found is None:
                found = self._by_interval[interval] = self._build(country_of_manufacture, country_of_sale, on)
            if len(self._by_date) >= _MAX_MEMO:  # a long-lived index: keep the memo bounded
                self._by_date.clear()
            self._by_date[key] = found
        return found

    def _build(self, country_of_manufacture: str, country_of_sale: str, on: date) -> Covering:
        made = self._positioned(country_of_manufacture, on)
        sold = self._positioned(country_of_sale, on) if country_of_sale != country_of_manufacture else ()
        by_id: dict[str, Patent] = {}  # the royalty engine's order: the manufacture country's first
        for _, patent in made + sold:
            by_id.setdefault(patent.id, patent)
        # Distribution counts each listed patent in force in either country once, in listed order.
        listed = sorted(dict(made + sold).items())  # by position, each once
        owners: dict[str, list[str]] = {}
        for _, patent in listed:
            owners.setdefault(patent.owner_id, []).append(patent.id)
        return Covering(
            patents=tuple(by_id.values()),
            ids=tuple(by_id),
            by_owner=tuple((owner, tuple(ids)) for owner, ids in owners.items()),
            counted=len(listed),
            numbers=", ".join(f"{p.number} ({p.office})" for p in by_id.values()),
        )


def check_country(code: str, field_name: str) -> None:
    """Raise InvalidInput naming ``field_name`` unless ``code`` is an ISO 3166-1 alpha-2 code."""
    if code not in COUNTRY_CODES:
        raise InvalidInput(f"{code!r} is not an ISO 3166-1 alpha-2 country code", field=field_name)


# --- Essentiality evaluation -------------------------------------------------------------------


class Essentiality(StrEnum):
    ESSENTIAL = "essential"
    NOT_ESSENTIAL = "not_essential"


@dataclass(frozen=True)
class EvaluationAssignment:
    patent_id: str
    evaluator_id: str
    evaluator_org_id: str | None  # None: an independent expert with no organisation
    assigned_on: date


@dataclass(frozen=True)
class Evaluation:
    patent_id: str
    evaluator_id: str
    result: Essentiality
    reason: str
    evaluated_on: date


def assign_evaluator(patent: Patent, evaluator_id: str, evaluator_org_id: str | None, on: date) -> EvaluationAssignment:
    """Assign an expert; no expert from the patent owner's organisation (a conflict of interest)."""
    if not evaluator_id.strip():
        raise InvalidInput("name the evaluator", field="evaluator_id")
    if evaluator_org_id == patent.owner_id:
        raise InvalidInput(
            "the evaluator belongs to the patent owner's organisation and may not evaluate it", field="evaluator_id"
        )
    return EvaluationAssignment(patent.id, evaluator_id, evaluator_org_id, on)


def record_evaluation(
    assignment: EvaluationAssignment,
    patent: Patent,
    *,
    evaluator_id: str,
    result: str,
    reason: str,
    on: date,
) -> Evaluation:
    """The assigned expert's finding: essential or not_essential, always with a written reason."""
    if assignment.patent_id != patent.id:
        raise InvalidInput("the assignment is for another patent", field="patent_id")
    if evaluator_id != assignment.evaluator_id:
        raise Forbidden("only the assigned evaluator may record this evaluation", field="evaluator_id")
    # Checked again at decision time: the patent may have changed hands since the assignment.
    if assignment.evaluator_org_id == patent.owner_id:
        raise Forbidden("the evaluator belongs to the patent owner's organisation", field="evaluator_id")
    try:
        finding = Essentiality(result)
    except ValueError:
        raise InvalidInput("the result is essential or not_essential", field="result") from None
    if not reason.strip():
        raise InvalidInput("a written reason is required", field="reason")
    return Evaluation(patent.id, evaluator_id, finding, reason.strip(), on)
