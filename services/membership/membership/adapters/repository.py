"""Organisations in MongoDB: one document per organisation, with its outbox entries."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date
from decimal import Decimal
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from alliance_common.errors import Conflict
from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore, AlreadyExists
from membership.domain.dues import Account, Invoice, InvoiceStatus, Payment, Reminder, ReminderKind
from membership.domain.model import (
    MEMBERSHIP_TYPES,
    ApplicationStatus,
    Contact,
    Dues,
    HistoryEntry,
    Organisation,
    OrgType,
    OrgUser,
    Segment,
    Tier,
    UserRole,
)
from membership.domain.standing import Membership, MembershipStatus, StatusOverride


def membership_to_document(m: Membership) -> Document:
    """Dates as ISO strings (BSON has datetimes only); the type by its tier (configuration)."""
    override = None
    if m.override is not None:
        override = {
            "status": m.override.status,
            "reason": m.override.reason,
            "set_on": m.override.set_on.isoformat(),
            "until": m.override.until.isoformat() if m.override.until else None,
        }
    return {
        "tier": m.membership_type.tier,
        "join_date": m.join_date.isoformat(),
        "start_date": m.start_date.isoformat(),
        "end_date": m.end_date.isoformat(),
        "status": m.status,
        "override": override,
    }


def membership_from_document(member_id: str, doc: Document) -> Membership:
    override = doc.get("override")
    return Membership(
        member_id=member_id,
        membership_type=MEMBERSHIP_TYPES[Tier(doc["tier"])],
        join_date=date.fromisoformat(doc["join_date"]),
        start_date=date.fromisoformat(doc["start_date"]),
        end_date=date.fromisoformat(doc["end_date"]),
        status=MembershipStatus(doc["status"]),
        override=StatusOverride(
            status=MembershipStatus(override["status"]),
            reason=override["reason"],
            set_on=date.fromisoformat(override["set_on"]),
            until=date.fromisoformat(override["until"]) if override["until"] else None,
        )
        if override
        else None,
    )


def _invoice_to_document(i: Invoice) -> Document:
    return {
        "id": i.id, "period_start": i.period_start.isoformat(), "period_end": i.period_end.isoformat(),
        "fee": str(i.fee), "credit_applied": str(i.credit_applied), "amount": str(i.amount),
        "issued_on": i.issued_on.isoformat(), "due_on": i.due_on.isoformat(), "status": i.status,
        "payments": [{"id": p.id, "amount": str(p.amount), "received_on": p.received_on.isoformat(),
                      "method": p.method, "reference": p.reference} for p in i.payments],
    }  # fmt: skip


def dues_to_document(d: Dues) -> Document:
    """Money as decimal strings, days as ISO dates."""
    return {
        "credit": str(d.account.credit),
        "invoices": [_invoice_to_document(i) for i in d.invoices],
        "reminders_sent": [{"kind": r.kind, "period_end": r.period_end.isoformat(), "on": r.on.isoformat(),
                            "days_before": r.days_before, "invoice_id": r.invoice_id} for r in d.reminders_sent],
    }  # fmt: skip


def dues_from_document(member_id: str, d: Document) -> Dues:
    return Dues(
        account=Account(member_id, Decimal(d["credit"])),
        invoices=[
            Invoice(
                id=i["id"], member_id=member_id, period_start=date.fromisoformat(i["period_start"]),
                period_end=date.fromisoformat(i["period_end"]), fee=Decimal(i["fee"]),
                credit_applied=Decimal(i["credit_applied"]), amount=Decimal(i["amount"]),
                issued_on=date.fromisoformat(i["issued_on"]), due_on=date.fromisoformat(i["due_on"]),
                status=InvoiceStatus(i["status"]),
                payments=tuple(Payment(p["id"], Decimal(p["amount"]), date.fromisoformat(p["received_on"]),
                                       p["method"], p.get("reference")) for p in i["payments"]),
            )
            for i in d["invoices"]
        ],
        reminders_sent=[Reminder(member_id, ReminderKind(r["kind"]), date.fromisoformat(r["period_end"]),
                                 date.fromisoformat(r["on"]), r.get("days_before"), r.get("invoice_id"))
                        for r in d["reminders_sent"]],
    )  # fmt: skip


def to_document(org: Organisation) -> Document:
    doc = asdict(replace(org, membership=None, dues=None, events=[]))
    for transient in ("id", "version", "events"):
        doc.pop(transient)
    doc["membership"] = membership_to_document(org.membership) if org.membership else None
    doc["dues"] = dues_to_document(org.dues) if org.dues else None
    # Denormalised for queries (the daily job, lists by status).
    doc["membership_status"] = org.membership.status if org.membership else None
    return doc


def from_document(doc_id: str, version: int, doc: Document) -> Organisation:
    return Organisation(
        id=doc_id,
        name=doc["name"],
        credit_code=doc["credit_code"],
        org_type=OrgType(doc["org_type"]),
        segments=[Segment(s) for s in doc["segments"]],
        region=doc["region"],
        tier=Tier(doc["tier"]),
        contact=Contact(**doc["contact"]),
        applicant=doc["applicant"],
        submitted_at=doc["submitted_at"],
        status=ApplicationStatus(doc["status"]),
        membership=membership_from_document(doc_id, doc["membership"]) if doc.get("membership") else None,
        dues=dues_from_document(doc_id, doc["dues"]) if doc.get("dues") else None,
        membership_number=doc.get("membership_number"),
        admitted_at=doc.get("admitted_at"),
        history=[HistoryEntry(**h) for h in doc.get("history", [])],
        users=[OrgUser(u["subject"], u["name"], u["email"], UserRole(u["role"])) for u in doc.get("users", [])],
        version=version,
    )


class OrganisationRepository:
    def __init__(self, store: AggregateStore, counters: AsyncCollection[Document]) -> None:
        self.store = store
        self.collection = store.collection
        self.counters = counters

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("credit_code", ASCENDING)], unique=True)
        await self.collection.create_index([("applicant", ASCENDING)])
        await self.collection.create_index([("membership_status", ASCENDING)])
        await self.collection.create_index([("users.subject", ASCENDING)])

    async def get(self, org_id: str) -> Organisation | None:
        loaded = await self.store.get(org_id)
        return from_document(loaded.id, loaded.version, loaded.state) if loaded else None

    async def add(self, org: Organisation, correlation_id: str | None = None) -> None:
        try:
            await self.store.save(org.id, 0, to_document(org), org.events, correlation_id=correlation_id)
        except AlreadyExists as exc:
            raise Conflict(f"organisation {org.id} exists already") from exc
        except DuplicateKeyError as exc:
            raise Conflict(
                "an organisation with this unified social credit code is registered already", field="credit_code"
            ) from exc
        org.version, org.events = 1, []

    async def save(self, org: Organisation, correlation_id: str | None = None) -> None:
        org.version = await self.store.save(
            org.id, org.version, to_document(org), org.events, correlation_id=correlation_id
        )
        org.events = []

    async def find(self, query: dict[str, Any], limit: int) -> list[Organisation]:
        docs = await self.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit).to_list()
        return [from_document(d["_id"], d["version"], d) for d in docs]

    async def next_sequence(self, name: str) -> int:
        """A gap-free-enough, never-reused sequence (atomic on one counter document)."""
        doc = await self.counters.find_one_and_update(
            {"_id": name}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert doc is not None  # upsert=True always returns the document
        return int(doc["value"])
