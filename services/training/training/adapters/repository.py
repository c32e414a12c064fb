"""Training in MongoDB: a session and its registrations in one document; proposals in their own.

Money and credit hours are stored as decimal strings, dates and times as ISO strings: exact,
and readable by any MongoDB-wire store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pymongo import ASCENDING

from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore, Origin
from training.domain.model import (
    Attendance,
    Audience,
    Certificate,
    Registration,
    RegistrationStatus,
    Session,
    SessionFormat,
    StatusChange,
)
from training.domain.proposal import Proposal, ProposalStatus


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _from_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _at(value: Any) -> datetime:
    parsed = _from_dt(value)
    assert parsed is not None
    return parsed


def _dec(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _from_dec(value: Any) -> Decimal | None:
    return Decimal(value) if value is not None else None


def registration_to_document(r: Registration) -> Document:
    return {
        "id": r.id,
        "attendee_name": r.attendee_name,
        "attendee_email": r.attendee_email,
        "organisation_id": r.organisation_id,
        "registered_by": r.registered_by,
        "price": str(r.price),
        "member_price_applied": r.member_price_applied,
        "early_bird_applied": r.early_bird_applied,
        "status": r.status.value,
        "registered_at": _dt(r.registered_at),
        "waitlist_position": r.waitlist_position,
        "offer_expires_at": _dt(r.offer_expires_at),
        "cancellation_fee": _dec(r.cancellation_fee),
        "attendance": [
            {"day": a.day.isoformat(), "checked_in_at": _dt(a.checked_in_at), "by": a.by} for a in r.attendance
        ],
        "credit_hours": _dec(r.credit_hours),
        "certificate": (
            {
                "code": r.certificate.code,
                "issued_at": _dt(r.certificate.issued_at),
                "hours": str(r.certificate.hours),
                "days": [d.isoformat() for d in r.certificate.days],
            }
            if r.certificate
            else None
        ),
        "history": [{"status": h.status.value, "at": _dt(h.at), "by": h.by, "reason": h.reason} for h in r.history],
    }


def registration_from_document(d: Document) -> Registration:
    cert = d.get("certificate")
    return Registration(
        id=d["id"],
        attendee_name=d["attendee_name"],
        attendee_email=d["attendee_email"],
        organisation_id=d.get("organisation_id"),
        registered_by=d["registered_by"],
        price=Decimal(d["price"]),
        member_price_applied=d["member_price_applied"],
        early_bird_applied=d.get("early_bird_applied", False),
        status=RegistrationStatus(d["status"]),
        registered_at=_at(d["registered_at"]),
        waitlist_position=d.get("waitlist_position"),
        offer_expires_at=_from_dt(d.get("offer_expires_at")),
        cancellation_fee=_from_dec(d.get("cancellation_fee")),
        attendance=[
            Attendance(date.fromisoformat(a["day"]), _at(a["checked_in_at"]), a["by"]) for a in d.get("attendance", [])
        ],
        credit_hours=_from_dec(d.get("credit_hours")),
        certificate=(
            Certificate(
                cert["code"],
                _at(cert["issued_at"]),
                Decimal(cert["hours"]),
                [date.fromisoformat(x) for x in cert["days"]],
            )
            if cert
            else None
        ),
        history=[
            StatusChange(RegistrationStatus(h["status"]), _at(h["at"]), h["by"], h.get("reason"))
            for h in d.get("history", [])
        ],
    )


def to_document(session: Session) -> Document:
    return {
        "title": session.title,
        "audience": session.audience.value,
        "format": session.format.value,
        "starts_at": _dt(session.starts_at),
        "ends_at": _dt(session.ends_at),
        "venue": session.venue,
        "online": session.online,
        "capacity": session.capacity,
        "member_price": str(session.member_price),
        "non_member_price": str(session.non_member_price),
        "currency": session.currency,
        "registration_opens_at": _dt(session.registration_opens_at),
        "registration_closes_at": _dt(session.registration_closes_at),
        "scheduled_by": session.scheduled_by,
        "requires_approval": session.requires_approval,
        "early_bird_price": _dec(session.early_bird_price),
        "early_bird_until": _dt(session.early_bird_until),
        "cancellation_deadline": _dt(session.cancellation_deadline),
        "cancellation_fee": str(session.cancellation_fee),
        "credit_hours_per_day": str(session.credit_hours_per_day),
        "min_days_for_certificate": session.min_days_for_certificate,
        "proposal_id": session.proposal_id,
        "waitlist_seq": session.waitlist_seq,
        "attendance_closed_at": _dt(session.attendance_closed_at),
        "registrations": [registration_to_document(r) for r in session.registrations],
    }


def from_document(doc_id: str, version: int, doc: Document) -> Session:
    return Session(
        id=doc_id,
        title=doc["title"],
        audience=Audience(doc["audience"]),
        format=SessionFormat(doc["format"]),
        starts_at=_at(doc["starts_at"]),
        ends_at=_at(doc["ends_at"]),
        venue=doc.get("venue"),
        online=doc["online"],
        capacity=doc["capacity"],
        member_price=Decimal(doc["member_price"]),
        non_member_price=Decimal(doc["non_member_price"]),
        currency=doc["currency"],
        registration_closes_at=_at(doc["registration_closes_at"]),
        scheduled_by=doc["scheduled_by"],
        registrations=[registration_from_document(r) for r in doc.get("registrations", [])],
        version=version,
        registration_opens_at=_from_dt(doc.get("registration_opens_at")),
        requires_approval=doc.get("requires_approval", False),
        early_bird_price=_from_dec(doc.get("early_bird_price")),
        early_bird_until=_from_dt(doc.get("early_bird_until")),
        cancellation_deadline=_from_dt(doc.get("cancellation_deadline")),
        cancellation_fee=Decimal(doc.get("cancellation_fee", "0.00")),
        credit_hours_per_day=Decimal(doc.get("credit_hours_per_day", "0")),
        min_days_for_certificate=doc.get("min_days_for_certificate"),
        proposal_id=doc.get("proposal_id"),
        waitlist_seq=doc.get("waitlist_seq", 0),
        attendance_closed_at=_from_dt(doc.get("attendance_closed_at")),
    )


def proposal_to_document(p: Proposal) -> Document:
    return {
        "project_id": p.project_id,
        "standard_number": p.standard_number,
        "standard_title": p.standard_title,
        "published_on": p.published_on.isoformat(),
        "title": p.title,
        "audience": p.audience.value,
        "format": p.format.value,
        "status": p.status.value,
        "proposed_at": _dt(p.proposed_at),
        "session_id": p.session_id,
        "scheduled_by": p.scheduled_by,
        "scheduled_at": _dt(p.scheduled_at),
    }


def proposal_from_document(doc_id: str, version: int, d: Document) -> Proposal:
    return Proposal(
        id=doc_id,
        project_id=d["project_id"],
        standard_number=d["standard_number"],
        standard_title=d["standard_title"],
        published_on=date.fromisoformat(d["published_on"]),
        title=d["title"],
        audience=Audience(d["audience"]),
        format=SessionFormat(d["format"]),
        status=ProposalStatus(d["status"]),
        proposed_at=_at(d["proposed_at"]),
        session_id=d.get("session_id"),
        scheduled_by=d.get("scheduled_by"),
        scheduled_at=_from_dt(d.get("scheduled_at")),
        version=version,
    )


class SessionRepository:
    def __init__(self, store: AggregateStore, proposals: AggregateStore | None = None) -> None:
        self.store = store
        self.collection = store.collection
        self.proposals = proposals

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("starts_at", ASCENDING)])
        await self.collection.create_index([("registrations.organisation_id", ASCENDING)])
        await self.collection.create_index([("registrations.certificate.code", ASCENDING)])
        await self.collection.create_index([("registrations.status", ASCENDING)])

    async def get(self, session_id: str) -> Session | None:
        loaded = await self.store.get(session_id)
        return from_document(loaded.id, loaded.version, loaded.state) if loaded else None

    async def save(
        self, session: Session, correlation_id: str | None = None, origins: Sequence[Origin] | None = None
    ) -> None:
        session.version = await self.store.save(
            session.id,
            session.version,
            to_document(session),
            session.events,
            correlation_id=correlation_id,
            origins=origins,
        )
        session.events = []

    async def find(self, query: dict[str, Any], limit: int) -> list[Session]:
        docs = await self.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit).to_list()
        return [from_document(d["_id"], d["version"], d) for d in docs]

    async def ids_with_offers(self) -> list[str]:
        query = {"registrations.status": RegistrationStatus.OFFERED.value}
        return [str(d["_id"]) for d in await self.collection.find(query, {"_id": 1}).to_list()]

    async def by_certificate(self, code: str) -> Session | None:
        doc = await self.collection.find_one({"registrations.certificate.code": code}, {"outbox": 0})
        return from_document(doc["_id"], doc["version"], doc) if doc else None

    # --- proposals -----------------------------------------------------------------------

    def _proposals(self) -> AggregateStore:
        if self.proposals is None:
            raise RuntimeError("no proposal store configured")
        return self.proposals

    async def proposal(self, proposal_id: str) -> Proposal | None:
        loaded = await self._proposals().get(proposal_id)
        return proposal_from_document(loaded.id, loaded.version, loaded.state) if loaded else None

    async def save_proposal(self, proposal: Proposal, applied_event: str | None = None) -> None:
        proposal.version = await self._proposals().save(
            proposal.id, proposal.version, proposal_to_document(proposal), proposal.events, applied_event=applied_event
        )
        proposal.events = []

    async def find_proposals(self, query: dict[str, Any], limit: int) -> list[Proposal]:
        collection = self._proposals().collection
        docs = await collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit).to_list()
        return [proposal_from_document(d["_id"], d["version"], d) for d in docs]
