"""Royalty accounts and distributions in MongoDB. Money as decimal strings, exact shares as "n/d".

No nested arrays: FerretDB 1.x (like some MongoDB-wire stores) refuses them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pymongo import ASCENDING

from alliance_common.errors import Conflict
from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore, AlreadyExists
from alliance_contracts.licensing import LicensorShare, RoyaltiesDistributed
from licensing.domain.accounts import ExplainedLine, FiledReport, Payment, ReportHistoryEntry, RoyaltyAccount
from licensing.domain.distribution import CollectedLine, Distribution
from licensing.domain.groups import LicenseeGroup, Subsidiary
from licensing.domain.royalties import Period, YearToDate


def _collected(c: CollectedLine) -> Document:
    return {"ref": c.ref, "country_of_manufacture": c.country_of_manufacture,
            "country_of_sale": c.country_of_sale, "dated": c.dated.isoformat(), "amount": str(c.amount)}  # fmt: skip


def account_to_document(a: RoyaltyAccount) -> Document:
    return {
        "programme_id": a.programme_id,
        "licensee_id": a.licensee_id,
        "year_to_date": {str(y): {"units": t.units, "royalties": str(t.royalties)} for y, t in a.year_to_date.items()},
        "reports": [
            {
                "id": r.id, "period": str(r.period), "filed_on": r.filed_on.isoformat(), "total": str(r.total),
                "filed_by": r.filed_by,
                "due_on": r.due_on.isoformat(),
                "lines": [{"index": x.index, "product_category": x.product_category, "units": x.units,
                           "country_of_manufacture": x.country_of_manufacture, "country_of_sale": x.country_of_sale,
                           "period": x.period, "amount": str(x.amount), "covered_by": list(x.covered_by),
                           "steps": [{"rule": rule, "detail": detail, "amount": str(amount)}
                                     for rule, detail, amount in x.steps]}
                          for x in r.lines],
                "collected": [_collected(c) for c in r.collected],
                "payments": [{"amount": str(p.amount), "received_on": p.received_on.isoformat(),
                              "late_interest": str(p.late_interest), "key": p.key} for p in r.payments],
                "history": [{"at": h.at.isoformat(), "action": h.action, "by": h.by, "detail": h.detail}
                            for h in r.history],
            }
            for r in a.reports
        ],
        # Denormalised for queries: which periods this account reported, and who filed.
        "periods": [str(r.period) for r in a.reports],
        "filers": sorted({r.filed_by for r in a.reports}),
    }  # fmt: skip


def account_from_document(doc_id: str, version: int, d: Document) -> RoyaltyAccount:
    return RoyaltyAccount(
        id=doc_id, programme_id=d["programme_id"], licensee_id=d["licensee_id"],
        year_to_date={int(y): YearToDate(t["units"], Decimal(t["royalties"])) for y, t in d["year_to_date"].items()},
        reports=[
            FiledReport(
                id=r["id"], period=Period.parse(r["period"]), filed_on=date.fromisoformat(r["filed_on"]),
                total=Decimal(r["total"]), due_on=date.fromisoformat(r["due_on"]),
                filed_by=r.get("filed_by") or d["licensee_id"],
                lines=tuple(ExplainedLine(
                    index=x["index"], product_category=x["product_category"], units=x["units"],
                    country_of_manufacture=x["country_of_manufacture"], country_of_sale=x["country_of_sale"],
                    period=x["period"], amount=Decimal(x["amount"]), covered_by=tuple(x["covered_by"]),
                    steps=tuple((st["rule"], st["detail"], Decimal(st["amount"])) for st in x["steps"]),
                ) for x in r["lines"]),
                collected=tuple(CollectedLine(c["ref"], c["country_of_manufacture"], c["country_of_sale"],
                                              date.fromisoformat(c["dated"]), Decimal(c["amount"]))
                                for c in r["collected"]),
                payments=[Payment(Decimal(p["amount"]), date.fromisoformat(p["received_on"]),
                                  Decimal(p["late_interest"]), p.get("key")) for p in r["payments"]],
                history=[ReportHistoryEntry(datetime.fromisoformat(h["at"]), h["action"], h["by"], h["detail"])
                         for h in r.get("history", [])],  # none before history was kept
            )
            for r in d["reports"]
        ],
        version=version,
    )  # fmt: skip


def distribution_to_document(programme_id: str, d: Distribution) -> Document:
    return {
        "programme_id": programme_id, "period": str(d.period), "collected": str(d.collected),
        "admin_fee_percent": str(d.admin_fee_percent), "admin_fee": str(d.admin_fee),
        "distributable": str(d.distributable),
        "statements": [
            {"licensor_id": s.licensor_id, "amount": str(s.amount), "exact": str(s.exact), "floor": str(s.floor),
             "extra_cent": s.extra_cent,
             "lines": [{"ref": x.ref, "country_of_manufacture": x.country_of_manufacture,
                        "country_of_sale": x.country_of_sale, "dated": x.dated.isoformat(),
                        "collected": str(x.collected), "patent_ids": list(x.patent_ids),
                        "patents_counted": x.patents_counted, "exact": str(x.exact)} for x in s.lines]}
            for s in d.statements
        ],
        "licensors": [s.licensor_id for s in d.statements],  # for "my statements" queries
    }  # fmt: skip


def distributed_event(distribution_id: str, programme_id: str, d: Distribution) -> RoyaltiesDistributed:
    return RoyaltiesDistributed(
        distribution_id=distribution_id, programme_id=programme_id, period=str(d.period), collected=d.collected,
        admin_fee=d.admin_fee, distributed=d.distributable,
        shares=[LicensorShare(licensor_id=s.licensor_id, amount=s.amount) for s in d.statements],
    )  # fmt: skip


def exact(text: str) -> Fraction:
    return Fraction(text)


class RoyaltyRepository:
    def __init__(self, accounts: AggregateStore, distributions: AggregateStore) -> None:
        self.accounts = accounts
        self.distributions = distributions

    async def ensure_indexes(self) -> None:
        await self.accounts.collection.create_index([("programme_id", ASCENDING), ("periods", ASCENDING)])
        await self.accounts.collection.create_index([("licensee_id", ASCENDING)])
        await self.distributions.collection.create_index([("licensors", ASCENDING)])

    async def account(self, account_id: str) -> RoyaltyAccount | None:
        loaded = await self.accounts.get(account_id)
        return account_from_document(loaded.id, loaded.version, loaded.state) if loaded else None

    async def save_account(self, account: RoyaltyAccount) -> None:
        account.version = await self.accounts.save(
            account.id, account.version, account_to_document(account), account.events
        )
        account.events = []

    async def find_accounts(self, query: dict[str, Any], limit: int = 0) -> list[RoyaltyAccount]:
        cursor = self.accounts.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit)
        return [account_from_document(d["_id"], d["version"], d) for d in await cursor.to_list()]

    async def add_distribution(self, programme_id: str, distribution: Distribution) -> str:
        distribution_id = f"{programme_id}:{distribution.period}"
        try:
            await self.distributions.save(
                distribution_id, 0, distribution_to_document(programme_id, distribution),
                [distributed_event(distribution_id, programme_id, distribution)],
            )  # fmt: skip
        except AlreadyExists as exc:
            raise Conflict(f"{distribution.period} is distributed already for this programme", field="period") from exc
        return distribution_id

    async def find_distributions(self, query: dict[str, Any], limit: int) -> list[Document]:
        return (
            await self.distributions.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit).to_list()
        )


class GroupRepository:
    """Licensee groups, one document per parent company (``member_ids`` for lookups)."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def ensure_indexes(self) -> None:
        await self.store.collection.create_index([("member_ids", ASCENDING)])

    async def get(self, parent_id: str) -> LicenseeGroup | None:
        loaded = await self.store.get(parent_id)
        if loaded is None:
            return None
        d = loaded.state
        return LicenseeGroup(
            id=loaded.id, name=d["name"], version=loaded.version,
            subsidiaries=[Subsidiary(s["org_id"], s["name"], Decimal(s["ownership_percent"]),
                                     date.fromisoformat(s["since"])) for s in d["subsidiaries"]],
        )  # fmt: skip

    async def save(self, group: LicenseeGroup) -> None:
        doc = {
            "name": group.name,
            "subsidiaries": [{"org_id": s.org_id, "name": s.name, "ownership_percent": str(s.ownership_percent),
                              "since": s.since.isoformat()} for s in group.subsidiaries],
            "member_ids": sorted(group.members()),
        }  # fmt: skip
        group.version = await self.store.save(group.id, group.version, doc)

    async def group_of(self, org_id: str) -> str:
        """The parent of the group ``org_id`` belongs to (itself if none)."""
        doc = await self.store.collection.find_one({"member_ids": org_id}, {"_id": 1})
        return str(doc["_id"]) if doc else org_id

    async def parent_holding(self, org_id: str) -> str | None:
        """The parent of another group that already counts ``org_id`` as a subsidiary."""
        doc = await self.store.collection.find_one({"member_ids": org_id, "_id": {"$ne": org_id}}, {"_id": 1})
        return str(doc["_id"]) if doc else None
