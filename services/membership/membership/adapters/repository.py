"""Organisations in MongoDB: one document per organisation, with its outbox entries.

The document is the shared repository base's ``TypeAdapter`` dump of ``Organisation``
(dates, datetimes and money as strings; lists of objects only, as FerretDB 1.x needs), with
three differences kept from the documents written before it, so those still load: the
membership stores its tier instead of its whole type (the type is configuration, looked up
by tier), the member id is not repeated inside the membership and dues, and the dues account
is just its ``credit``. ``membership_status`` is denormalised for the daily job's queries.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from pydantic import TypeAdapter
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from alliance_common.errors import Conflict
from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore, AlreadyExists, Loaded
from alliance_common.repository import DocumentStore, MongoDocuments, Repository
from membership.adapters.integration_events import INTEGRATION_EVENTS
from membership.domain.model import MEMBERSHIP_TYPES, ApplicationStatus, Organisation, Tier

_ORGANISATION: TypeAdapter[Organisation] = TypeAdapter(Organisation)


def to_stored(doc: Document) -> Document:
    """The adapter's dump of an organisation → the stored document (see the module doc)."""
    membership = doc.get("membership")
    if membership is not None:
        del membership["member_id"]
        membership["tier"] = membership.pop("membership_type")["tier"]
    dues = doc.get("dues")
    if dues is not None:
        dues["credit"] = dues.pop("account")["credit"]
        for child in (*dues["invoices"], *dues["reminders_sent"]):
            del child["member_id"]
    doc["membership_status"] = membership["status"] if membership is not None else None
    return doc


def from_stored(org_id: str, state: Document) -> Document:
    """The stored document → what the adapter validates (the inverse of ``to_stored``)."""
    doc = {k: v for k, v in state.items() if k != "membership_status"}
    membership = doc.get("membership")
    if membership:
        tier = membership["tier"]
        doc["membership"] = {
            **{k: v for k, v in membership.items() if k != "tier"},
            "member_id": org_id,
            "membership_type": MEMBERSHIP_TYPES[Tier(tier)],
        }
    dues = doc.get("dues")
    if dues:
        doc["dues"] = {
            "account": {"member_id": org_id, "credit": dues["credit"]},
            "invoices": [{**i, "member_id": org_id} for i in dues["invoices"]],
            "reminders_sent": [{**r, "member_id": org_id} for r in dues["reminders_sent"]],
        }
    return doc


class Sequences(Protocol):
    async def next(self, name: str) -> int: ...


class MongoSequences:
    """Never-reused sequences, one counter document each (atomic ``$inc``)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def next(self, name: str) -> int:
        doc = await self.collection.find_one_and_update(
            {"_id": name}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert doc is not None  # upsert=True always returns the document
        return int(doc["value"])


# Organisations remembered as last read or written (see ``Repository``): a state change served
# from memory writes once, without reading first. An organisation is written only through here.
REMEMBERED = 4096


class OrganisationRepository(Repository[Organisation]):
    indexes = ([("applicant", ASCENDING)], [("membership_status", ASCENDING)], [("users.subject", ASCENDING)])

    def __init__(self, store: AggregateStore | DocumentStore, sequences: Sequences, remember: int = REMEMBERED) -> None:
        super().__init__(store, _ORGANISATION, to_integration=INTEGRATION_EVENTS, remember=remember)
        self.sequences = sequences

    def to_document(self, aggregate: Organisation) -> Document:
        return to_stored(super().to_document(aggregate))

    def from_document(self, loaded: Loaded) -> Organisation:
        return super().from_document(replace(loaded, state=from_stored(loaded.id, loaded.state)))

    async def ensure_indexes(self) -> None:
        await super().ensure_indexes()
        if isinstance(self.documents, MongoDocuments):
            # Not unique: a unique credit code let whoever applied first with a company's code lock
            # the company out. Claims to one code are reviewed instead (service_layer.apply), and
            # the council admits one organisation per code (service_layer.decide).
            indexes = await self.documents.collection.index_information()
            if indexes.get("credit_code_1", {}).get("unique"):
                await self.documents.collection.drop_index("credit_code_1")
        await self.documents.create_index([("credit_code", ASCENDING)])

    async def add(
        self, aggregate: Organisation, correlation_id: str | None = None, *, applied_event: str | None = None
    ) -> None:
        try:
            await super().add(aggregate, correlation_id, applied_event=applied_event)
        except AlreadyExists as exc:
            raise Conflict(f"organisation {aggregate.id} exists already") from exc

    # --- named queries -------------------------------------------------------------------------

    async def with_credit_code(self, credit_code: str) -> list[Organisation]:
        """Every organisation that applied with ``credit_code`` (any status), in id order."""
        return await self._find({"credit_code": credit_code}, 0, None)

    async def list_admitted(self, cursor: str | None, limit: int) -> list[Organisation]:
        """Admitted organisations (members in any standing), in id order."""
        return await self._find({"status": ApplicationStatus.ADMITTED.value}, limit, cursor)

    async def list_all(
        self, status: ApplicationStatus | None, cursor: str | None, limit: int, *, conflicts_only: bool = False
    ) -> list[Organisation]:
        query: dict[str, Any] = {"credit_code_conflict": True} if conflicts_only else {}
        return await self._find(_with_status(query, status), limit, cursor)

    async def list_of_member(
        self, org_id: str | None, applicant: str, status: ApplicationStatus | None, cursor: str | None, limit: int
    ) -> list[Organisation]:
        """The organisation ``org_id`` and those ``applicant`` applied for."""
        query: dict[str, Any] = {"$or": [{"_id": org_id or ""}, {"applicant": applicant}]}
        return await self._find(_with_status(query, status), limit, cursor)

    async def next_membership_number(self, year: int) -> int:
        """The next number of ``year``'s membership sequence (never reused)."""
        return await self.sequences.next(f"membership-number-{year}")


def _with_status(query: dict[str, Any], status: ApplicationStatus | None) -> dict[str, Any]:
    return {**query, "status": str(status)} if status else query
