"""Licences. The internal cross-licence follows its member's standing, from membership events.

Plain Python, no I/O; state changes append the domain events that record them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from alliance_common.errors import Conflict
from licensing.domain.events import (
    LicenceFilingOverdue,
    LicenceFilingRecorded,
    LicenceGranted,
    LicenceRestored,
    LicenceSuspended,
    LicensingEvent,
)
from licensing.domain.filings import LicenceFiling


class LicenceKind(StrEnum):
    INTERNAL_CROSS_LICENCE = "internal_cross_licence"
    PROGRAMME_LICENCE = "programme_licence"  # an outside licensee's licence to one programme


class LicenceStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


INTERNAL_PROGRAMME = "alliance-internal"


@dataclass
class HistoryEntry:
    at: datetime
    action: str
    cause: str  # the event (or request) that made this change: every state is explainable
    reason: str | None = None


@dataclass
class Licence:
    id: str
    licensee_id: str
    licensee_name: str
    kind: LicenceKind
    programme: str
    status: LicenceStatus
    granted_at: datetime
    history: list[HistoryEntry] = field(default_factory=list)
    start_date: date | None = None  # programme licences: royalties are due from this day
    territory: tuple[str, ...] = ()  # programme licences: countries of sale covered; () = worldwide
    filing: LicenceFiling | None = None  # programme licences signed since filing records exist
    version: int = 0
    events: list[LicensingEvent] = field(default_factory=list, repr=False)

    @staticmethod
    def cross_licence_id(member_id: str) -> str:
        return f"XL-{member_id}"

    @classmethod
    def grant_cross_licence(cls, member_id: str, member_name: str, now: datetime, cause: str) -> Licence:
        licence = cls(
            id=cls.cross_licence_id(member_id),
            licensee_id=member_id,
            licensee_name=member_name,
            kind=LicenceKind.INTERNAL_CROSS_LICENCE,
            programme=INTERNAL_PROGRAMME,
            status=LicenceStatus.ACTIVE,
            granted_at=now,
        )
        licence.history.append(HistoryEntry(now, "granted", cause))
        licence.events.append(
            LicenceGranted(
                licence_id=licence.id,
                licensee_id=member_id,
                kind=licence.kind,
                programme=licence.programme,
                granted_at=now,
            )
        )
        return licence

    @staticmethod
    def programme_licence_id(programme_id: str, licensee_id: str) -> str:
        return f"PL-{programme_id}-{licensee_id}"

    @classmethod
    def sign_programme_licence(
        cls,
        *,
        programme_id: str,
        licensee_id: str,
        licensee_name: str,
        start_date: date,
        territory: tuple[str, ...],
        now: datetime,
        by: str,
        filing: LicenceFiling | None = None,
    ) -> Licence:
        licence = cls(
            id=cls.programme_licence_id(programme_id, licensee_id),
            licensee_id=licensee_id,
            licensee_name=licensee_name,
            kind=LicenceKind.PROGRAMME_LICENCE,
            programme=programme_id,
            status=LicenceStatus.ACTIVE,
            granted_at=now,
            start_date=start_date,
            territory=tuple(sorted(territory)),
            filing=filing,
        )
        licence.history.append(HistoryEntry(now, "signed", by))
        licence.events.append(
            LicenceGranted(
                licence_id=licence.id,
                licensee_id=licensee_id,
                kind=licence.kind,
                programme=programme_id,
                granted_at=now,
            )
        )
        return licence

    def record_filing(self, filing_number: str, filed_on: date, by: str, now: datetime) -> LicenceFiling:
        """The patent office's filing of this licence contract (recorded once, by the secretariat)."""
        if self.filing is None:
            raise Conflict(f"licence {self.id} has no filing record (only signed programme licences have one)")
        self.filing = self.filing.record(filing_number, filed_on, by, now)
        self.history.append(HistoryEntry(now, "filed", by, f"filing no. {self.filing.filing_number}"))
        self.events.append(
            LicenceFilingRecorded(
                licence_id=self.id,
                licensee_id=self.licensee_id,
                programme=self.programme,
                filing_number=self.filing.filing_number or "",
                filed_on=filed_on,
                effective_on=self.filing.effective_on,
                deadline=self.filing.deadline,
                filed_late=bool(self.filing.filed_late),
                licensors=tuple(lic.org_id for lic in self.filing.licensors),
                patents=len(self.filing.patents),
            )
        )
        return self.filing

    def tell_filing_overdue(self, now: datetime) -> bool:
        """If its contract is past the filing deadline and not filed, and that was not told yet: mark it
        told and raise ``LicenceFilingOverdue`` (True). Otherwise nothing changes (False)."""
        if self.filing is None or not self.filing.overdue_untold(now.date()):
            return False
        self.filing = self.filing.overdue_told(now)
        self.events.append(
            LicenceFilingOverdue(
                licence_id=self.id,
                licensee_id=self.licensee_id,
                licensee_name=self.licensee_name,
                programme=self.programme,
                effective_on=self.filing.effective_on,
                deadline=self.filing.deadline,
                noticed_at=now,
            )
        )
        return True

    def covers_sale_in(self, country: str) -> bool:
        return not self.territory or country in self.territory

    @property
    def in_force(self) -> bool:
        return self.status is LicenceStatus.ACTIVE

    def suspend(self, reason: str, now: datetime, cause: str) -> None:
        """Suspend if in force; suspending a suspended licence changes nothing."""
        if self.status is LicenceStatus.SUSPENDED:
            return
        self.status = LicenceStatus.SUSPENDED
        self.history.append(HistoryEntry(now, "suspended", cause, reason))
        self.events.append(
            LicenceSuspended(licence_id=self.id, licensee_id=self.licensee_id, reason=reason, suspended_at=now)
        )

    def restore(self, now: datetime, cause: str) -> None:
        """Back in force; restoring an active licence changes nothing."""
        if self.status is LicenceStatus.ACTIVE:
            return
        self.status = LicenceStatus.ACTIVE
        self.history.append(HistoryEntry(now, "restored", cause))
        self.events.append(LicenceRestored(licence_id=self.id, licensee_id=self.licensee_id, restored_at=now))
