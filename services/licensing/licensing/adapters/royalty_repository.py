"""Royalty accounts and distributions in MongoDB. Money as decimal strings, exact shares as "n/d".

No nested arrays: FerretDB 1.x (like some MongoDB-wire stores) refuses them.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pydantic import TypeAdapter
from pymongo import ASCENDING

from alliance_common.errors import Conflict
from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore, AlreadyExists, Loaded
from alliance_common.pagination import after_filter
from alliance_common.repository import DocumentStore, MongoDocuments
from licensing.adapters.integration_events import INTEGRATION_EVENTS
from licensing.domain.accounts import RoyaltyAccount
from licensing.domain.distribution import Distribution, distributed
from licensing.domain.groups import LicenseeGroup
from licensing.domain.royalties import Period

_ACCOUNT: TypeAdapter[RoyaltyAccount] = TypeAdapter(RoyaltyAccount)


def account_to_document(a: RoyaltyAccount) -> Document:
    """The ``TypeAdapter`` dump with each report's period as written ("2025-Q1", as stored before
    it), plus the periods and filers for queries."""
    doc: Document = _ACCOUNT.dump_python(a, mode="json", exclude={"id", "version", "events"})
    for r in doc["reports"]:
        r["period"] = f"{r['period']['year']}-Q{r['period']['quarter']}"
    # Denormalised for queries: which periods this account reported, and who filed.
    doc["periods"] = [r["period"] for r in doc["reports"]]
    doc["filers"] = sorted({r["filed_by"] for r in doc["reports"]})
    return doc


def account_from_document(doc_id: str, version: int, d: Document) -> RoyaltyAccount:
    reports = [
        {
            **r,
            "period": Period.parse(r["period"]),
            "filed_by": r.get("filed_by") or d["licensee_id"],  # none before subsidiaries filed
        }
        for r in d["reports"]
    ]
    state = {k: v for k, v in d.items() if k not in ("periods", "filers")}
    return _ACCOUNT.validate_python({**state, "reports": reports, "id": doc_id, "version": version})


def distribution_to_document(programme_id: str, d: Distribution) -> Document:
    return {
        "programme_id": programme_id,
        "period": str(d.period),
        "collected": str(d.collected),
        "admin_fee_percent": str(d.admin_fee_percent),
        "admin_fee": str(d.admin_fee),
        "distributable": str(d.distributable),
        "statements": [
            {
                "licensor_id": s.licensor_id,
                "amount": str(s.amount),
                "exact": str(s.exact),
                "floor": str(s.floor),
                "extra_cent": s.extra_cent,
                "lines": [
                    {
                        "ref": x.ref,
                        "country_of_manufacture": x.country_of_manufacture,
                        "country_of_sale": x.country_of_sale,
                        "dated": x.dated.isoformat(),
                        "collected": str(x.collected),
                        "patent_ids": list(x.patent_ids),
                        "patents_counted": x.patents_counted,
                        "exact": str(x.exact),
                    }
                    for x in s.lines
                ],
            }
            for s in d.statements
        ],
        "licensors": [s.licensor_id for s in d.statements],  # for "my statements" queries
    }


def exact(text: str) -> Fraction:
    return Fraction(text)


class RoyaltyRepository:
    def __init__(self, accounts: AggregateStore | DocumentStore, distributions: AggregateStore | DocumentStore) -> None:
        self.accounts = _documents(accounts)
        self.distributions = _documents(distributions)

    async def ensure_indexes(self) -> None:
        await self.accounts.create_index([("programme_id", ASCENDING), ("periods", ASCENDING)])
        await self.accounts.create_index([("licensee_id", ASCENDING)])
        await self.distributions.create_index([("licensors", ASCENDING)])

    async def account(self, account_id: str) -> RoyaltyAccount | None:
        loaded = await self.accounts.get(account_id)
        return account_from_document(loaded.id, loaded.version, loaded.state) if loaded else None

    async def save_account(self, account: RoyaltyAccount) -> None:
        events = [e for e in map(INTEGRATION_EVENTS, account.events) if e is not None]
        account.version = await self.accounts.save(account.id, account.version, account_to_document(account), events)
        account.events = []

    # --- named queries -------------------------------------------------------------------------

    async def accounts_from(
        self, start: str | None, limit: int, *, programme_id: str | None, filed_by: str | None
    ) -> list[RoyaltyAccount]:
        """Accounts from id ``start`` on (inclusive), of ``programme_id`` if given; with ``filed_by``,
        only the accounts of that licensee group or with a report it filed."""
        query: dict[str, Any] = {"programme_id": programme_id} if programme_id else {}
        if filed_by is not None:
            query["$or"] = [{"licensee_id": filed_by}, {"filers": filed_by}]
        if start:
            query["_id"] = {"$gte": start}
        return [self._account(d) for d in await self.accounts.find(query, limit=limit)]

    async def accounts_reporting(self, programme_id: str, period: Period) -> list[RoyaltyAccount]:
        """Every account of the programme with a report for ``period``."""
        found = await self.accounts.find({"programme_id": programme_id, "periods": str(period)}, limit=0)
        return [self._account(d) for d in found]

    @staticmethod
    def _account(loaded: Loaded) -> RoyaltyAccount:
        return account_from_document(loaded.id, loaded.version, loaded.state)

    async def add_distribution(self, programme_id: str, distribution: Distribution) -> str:
        distribution_id = f"{programme_id}:{distribution.period}"
        event = INTEGRATION_EVENTS(distributed(distribution_id, programme_id, distribution))
        try:
            await self.distributions.save(
                distribution_id,
                0,
                distribution_to_document(programme_id, distribution),
                [event] if event is not None else [],
            )
        except AlreadyExists as exc:
            raise Conflict(f"{distribution.period} is distributed already for this programme", field="period") from exc
        return distribution_id

    async def distribution(self, distribution_id: str) -> Document | None:
        loaded = await self.distributions.get(distribution_id)
        return {"_id": loaded.id, "version": loaded.version, **loaded.state} if loaded else None

    async def distributions_for(
        self, programme_id: str | None, licensor_id: str | None, cursor: str | None, limit: int
    ) -> list[Document]:
        """Distributions (of ``programme_id``; with ``licensor_id``, those sharing to it), in id order."""
        query: dict[str, Any] = {"programme_id": programme_id} if programme_id else {}
        if licensor_id is not None:
            query["licensors"] = licensor_id
        found = await self.distributions.find(after_filter(query, cursor), limit=limit)
        return [{"_id": d.id, "version": d.version, **d.state} for d in found]


_GROUP: TypeAdapter[LicenseeGroup] = TypeAdapter(LicenseeGroup)


class GroupRepository:
    """Licensee groups, one document per parent company (``member_ids`` for lookups).

    A group is a plain value with a version (it raises no events): its document is the
    ``TypeAdapter`` dump, as the repository base maps aggregates.
    """

    def __init__(self, store: AggregateStore | DocumentStore) -> None:
        self.documents = _documents(store)

    async def ensure_indexes(self) -> None:
        await self.documents.create_index([("member_ids", ASCENDING)])

    async def get(self, parent_id: str) -> LicenseeGroup | None:
        loaded = await self.documents.get(parent_id)
        if loaded is None:
            return None
        state = {k: v for k, v in loaded.state.items() if k != "member_ids"}
        return _GROUP.validate_python({**state, "id": loaded.id, "version": loaded.version})

    async def save(self, group: LicenseeGroup) -> None:
        doc: Document = _GROUP.dump_python(group, mode="json", exclude={"id", "version"})
        doc["member_ids"] = sorted(group.members())
        group.version = await self.documents.save(group.id, group.version, doc)

    async def group_of(self, org_id: str) -> str:
        """The parent of the group ``org_id`` belongs to (itself if none)."""
        found = await self.documents.find({"member_ids": org_id}, limit=1, ids_only=True)
        return found[0].id if found else org_id

    async def parent_holding(self, org_id: str) -> str | None:
        """The parent of another group that already counts ``org_id`` as a subsidiary."""
        found = await self.documents.find({"member_ids": org_id, "_id": {"$ne": org_id}}, limit=1, ids_only=True)
        return found[0].id if found else None


def _documents(store: AggregateStore | DocumentStore) -> DocumentStore:
    return MongoDocuments(store) if isinstance(store, AggregateStore) else store
