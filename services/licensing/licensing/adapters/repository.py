"""Licences in MongoDB: one document per licence, with its outbox entries.

The document is the shared repository base's ``TypeAdapter`` dump of ``Licence`` (dates and
datetimes as ISO strings, the territory as a list); documents written before it, with
datetimes as BSON datetimes, load the same.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import TypeAdapter
from pymongo import ASCENDING

from alliance_common.outbox import AggregateStore
from alliance_common.repository import DocumentStore, Repository
from licensing.adapters.integration_events import INTEGRATION_EVENTS
from licensing.domain.filings import FilingStatus
from licensing.domain.model import Licence

_LICENCE: TypeAdapter[Licence] = TypeAdapter(Licence)


# Licences remembered as last read or written, for the event handlers' ``load(recent=True)``:
# their read needs no store round trip (a few KB each; a licence is written only through here).
REMEMBERED = 4096


class LicenceRepository(Repository[Licence]):
    indexes = ([("licensee_id", ASCENDING)], [("filing.deadline", ASCENDING)])

    def __init__(self, store: AggregateStore | DocumentStore, remember: int = REMEMBERED) -> None:
        super().__init__(store, _LICENCE, to_integration=INTEGRATION_EVENTS, remember=remember)

    # --- named queries -------------------------------------------------------------------------

    async def list_all(self, licensee_id: str | None, cursor: str | None, limit: int) -> list[Licence]:
        """Every licence (of ``licensee_id`` if given), in id order."""
        return await self._find({"licensee_id": licensee_id} if licensee_id else {}, limit, cursor)

    async def list_of(self, licensee_id: str, cursor: str | None, limit: int) -> list[Licence]:
        """The licences held by ``licensee_id``."""
        return await self._find({"licensee_id": licensee_id}, limit, cursor)

    async def with_filings(
        self, status: FilingStatus | None, today: date, licensee_id: str | None, cursor: str | None, limit: int
    ) -> list[Licence]:
        """Licences that have a filing record, in id order: those of ``licensee_id`` if given, and in
        ``status`` on ``today`` if given (pending and overdue split at the deadline; filing on it is in time)."""
        day = today.isoformat()  # dates are stored as ISO strings, which order as the dates do
        query: dict[str, Any] = {"filing.deadline": {"$exists": True}}
        if status is FilingStatus.FILED:
            query["filing.filed_on"] = {"$ne": None}
        elif status is FilingStatus.PENDING:
            query.update({"filing.filed_on": None, "filing.deadline": {"$gte": day}})
        elif status is FilingStatus.OVERDUE:
            query.update({"filing.filed_on": None, "filing.deadline": {"$lt": day}})
        if licensee_id is not None:
            query["licensee_id"] = licensee_id
        return await self._find(query, limit, cursor)

    async def overdue_untold(self, today: date, after: str | None, limit: int) -> list[Licence]:
        """Licences whose contract is past its filing deadline on ``today``, not filed, and whose
        overdue notice is not out yet (the deadline check's work), in id order after the id ``after``."""
        query: dict[str, Any] = {
            "filing.deadline": {"$lt": today.isoformat()},
            "filing.filed_on": None,
            "filing.overdue_noticed_at": None,  # also a record written before the field existed
        }
        if after is not None:
            query["_id"] = {"$gt": after}
        return await self._find(query, limit)

    async def member_names(self, org_ids: list[str]) -> dict[str, str]:
        """Members' names as their admission stated them (kept on their internal cross-licences)."""
        ids = [Licence.cross_licence_id(o) for o in dict.fromkeys(org_ids)]
        found = await self._find({"_id": {"$in": ids}}, 0) if ids else []
        return {x.licensee_id: x.licensee_name for x in found}
