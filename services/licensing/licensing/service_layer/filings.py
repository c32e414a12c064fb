"""Use cases of licence-contract filing records: read them, record a filing, list the overdue, and
tell once that a contract passed its filing deadline (``tell_overdue``, a periodic job).

Who reads: the secretariat and the council every record; an agency's machine client holding
``licence-filings:read`` every record (the route admits it); a licensee's own people the
records of their own organisation's licences, no other. Only the secretariat records a filing.
Status (pending, filed, overdue) is computed from the injected clock's today.

The deadline check runs in every replica. A deadline passes once, so it is told once: marking the
record told and the ``licence.filing_overdue`` event are one versioned write of the licence (its
outbox), so of two replicas finding the same record, one write wins and the other's is refused
(``ConcurrencyConflict``) and skipped; the next run no longer finds it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

from alliance_common.auth import Principal
from alliance_common.errors import Forbidden, NotFound
from alliance_common.outbox import ConcurrencyConflict
from licensing.adapters.repository import LicenceRepository
from licensing.domain.filings import FilingStatus
from licensing.domain.model import Licence

log = logging.getLogger(__name__)

OVERDUE_PAGE = 100


def utcnow() -> datetime:
    return datetime.now(UTC)


class LicenceFilings:
    def __init__(self, licences: LicenceRepository, clock: Callable[[], datetime] = utcnow) -> None:
        self.licences = licences
        self.clock = clock

    def today(self) -> date:
        return self.clock().date()

    @staticmethod
    def _reads_all(principal: Principal) -> bool:
        return principal.is_staff or principal.kind == "machine"

    async def list_for(
        self,
        principal: Principal,
        status: FilingStatus | None,
        licensee_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> list[Licence]:
        """Filing records in licence-id order, in ``status`` today if given (``overdue``: the
        secretariat's list of contracts past their deadline and not yet filed)."""
        if not self._reads_all(principal):
            own = principal.org_id
            if not own:
                raise Forbidden("filing records are for the secretariat, agencies and licensees (their own)")
            if licensee_id not in (None, own):
                raise Forbidden("you may read only your own organisation's filing records", field="licensee_id")
            licensee_id = own
        return await self.licences.with_filings(status, self.today(), licensee_id, cursor, limit)

    async def get_for(self, licence_id: str, principal: Principal) -> Licence:
        licence = await self.licences.get(licence_id)
        visible = licence is not None and (self._reads_all(principal) or licence.licensee_id == principal.org_id)
        if licence is None or licence.filing is None or not visible:
            raise NotFound(f"no filing record for licence {licence_id}", field="licence_id")
        return licence

    async def record(self, licence_id: str, filing_number: str, filed_on: date, principal: Principal) -> Licence:
        """The secretariat records the patent office's filing (number and date); emits licence.filing_recorded."""
        if not principal.is_secretariat:
            raise Forbidden("only the secretariat records a licence contract's filing")
        licence = await self.get_for(licence_id, principal)
        licence.record_filing(filing_number, filed_on, principal.subject, self.clock())
        await self.licences.save(licence)
        return licence

    async def tell_overdue(self) -> int:
        """The deadline check: every contract past its deadline, unfiled and not told yet, is marked told
        with its ``licence.filing_overdue`` event in the same write; how many this run told."""
        now = self.clock()
        told = 0
        after: str | None = None
        while True:
            page = await self.licences.overdue_untold(now.date(), after, OVERDUE_PAGE)
            for licence in page:
                if not licence.tell_filing_overdue(now):
                    continue
                try:
                    await self.licences.save(licence)
                except ConcurrencyConflict:
                    # Another replica told it (or the licence changed meanwhile: the next run looks again).
                    log.info("licence %s changed meanwhile: its overdue filing is left to the next run", licence.id)
                    continue
                told += 1
            if len(page) < OVERDUE_PAGE:
                return told
            after = page[-1].id
