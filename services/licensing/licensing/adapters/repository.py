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


# Licences remembered as last read or written, for the event handlers' ``load(recent=True)``:
# their read needs no store round trip (a few KB each; a licence is written only through here).
REMEMBERED = 4096


class LicenceRepository(Repository[Licence]):
    indexes = ([("licensee_id", ASCENDING)],)

    def __init__(self, store: AggregateStore | DocumentStore, remember: int = REMEMBERED) -> None:
        super().__init__(store, _LICENCE, to_integration=INTEGRATION_EVENTS, remember=remember)

    # --- named queries -------------------------------------------------------------------------

    async def list_all(self, licensee_id: str | None, cursor: str | None, limit: int) -> list[Licence]:
        """Every licence (of ``licensee_id`` if given), in id order."""
        return await self._find({"licensee_id": licensee_id} if licensee_id else {}, limit, cursor)

    async def list_of(self, licensee_id: str, cursor: str | None, limit: int) -> list[Licence]:
        """The licences held by ``licensee_id``."""
        return await self._find({"licensee_id": licensee_id}, limit, cursor)
