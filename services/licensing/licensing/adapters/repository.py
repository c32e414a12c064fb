"""Licences in MongoDB: one document per licence, with its outbox entries.

The document is the shared repository base's ``TypeAdapter`` dump of ``Licence`` (dates and
datetimes as ISO strings, the territory as a list); documents written before it, with
datetimes as BSON datetimes, load the same.
"""

from __future__ import annotations

from pydantic import TypeAdapter
from pymongo import ASCENDING

from alliance_common.outbox import AggregateStore
from alliance_common.repository import DocumentStore, Repository
from licensing.adapters.integration_events import INTEGRATION_EVENTS
from licensing.domain.model import Licence

_LICENCE: TypeAdapter[Licence] = TypeAdapter(Licence)


class LicenceRepository(Repository[Licence]):
    indexes = ([("licensee_id", ASCENDING)],)

    def __init__(self, store: AggregateStore | DocumentStore) -> None:
        super().__init__(store, _LICENCE, to_integration=INTEGRATION_EVENTS)

    async def get_with_applied(self, licence_id: str) -> tuple[Licence, tuple[str, ...]] | None:
        """The licence and the ids of the events already applied to it."""
        loaded = await self.documents.get(licence_id)
        return (self.from_document(loaded), loaded.applied_events) if loaded else None

    # --- named queries -------------------------------------------------------------------------

    async def list_all(self, licensee_id: str | None, cursor: str | None, limit: int) -> list[Licence]:
        """Every licence (of ``licensee_id`` if given), in id order."""
        return await self._find({"licensee_id": licensee_id} if licensee_id else {}, limit, cursor)

    async def list_of(self, licensee_id: str, cursor: str | None, limit: int) -> list[Licence]:
        """The licences held by ``licensee_id``."""
        return await self._find({"licensee_id": licensee_id}, limit, cursor)
