"""Training sessions (a session and its registrations in one document) and proposals, each
stored through the shared repository base.

The documents are what a pydantic ``TypeAdapter`` of the aggregate dumps in JSON mode: money
and credit hours as decimal strings, dates and times as ISO strings (exact, and readable by any
MongoDB-wire store). The queries the use cases need are named here; no filter leaves this file.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

from alliance_common.outbox import AggregateStore
from alliance_common.repository import DocumentStore, Repository
from training.adapters.integration_events import TO_CONTRACT
from training.domain.model import Audience, RegistrationStatus, Session
from training.domain.proposal import Proposal, ProposalStatus


class SessionRepository(Repository[Session]):
    indexes = (
        [("starts_at", ASCENDING)],
        [("registrations.organisation_id", ASCENDING)],
        [("registrations.certificate.code", ASCENDING)],
        [("registrations.status", ASCENDING)],
    )

    def __init__(self, store: AggregateStore | DocumentStore) -> None:
        super().__init__(store, Session, to_integration=TO_CONTRACT)

    async def browse(self, cursor: str | None, limit: int, audience: Audience | None = None) -> list[Session]:
        return await self._find({"audience": audience.value} if audience else {}, limit, cursor)

    async def ids_with_offers(self) -> list[str]:
        """Sessions with a place on offer (for the offer-expiry sweep)."""
        return await self._ids({"registrations.status": RegistrationStatus.OFFERED.value})

    async def by_certificate(self, code: str) -> Session | None:
        return await self._first({"registrations.certificate.code": code})

    async def with_registrations_of(
        self,
        registrant: tuple[str | None, str] | None,
        *,
        session_id: str | None,
        from_session: str | None,
        limit: int,
    ) -> list[Session]:
        """Sessions (``_id`` order, from ``from_session`` on) holding a registration of ``registrant``.

        ``registrant`` is (organisation id, subject): a registration of that organisation or
        made by that person; None for every session (staff).
        """
        query: dict[str, Any] = {}
        if session_id:
            query["_id"] = session_id
        elif from_session:
            query["_id"] = {"$gte": from_session}
        if registrant is not None:
            org_id, subject = registrant
            query["$or"] = [
                {"registrations.organisation_id": org_id or ""},
                {"registrations.registered_by": subject},
            ]
        return await self._find(query, limit)


class ProposalRepository(Repository[Proposal]):
    def __init__(self, store: AggregateStore | DocumentStore) -> None:
        super().__init__(store, Proposal, to_integration=TO_CONTRACT)

    async def browse(self, cursor: str | None, limit: int, status: ProposalStatus | None = None) -> list[Proposal]:
        return await self._find({"status": status.value} if status else {}, limit, cursor)
