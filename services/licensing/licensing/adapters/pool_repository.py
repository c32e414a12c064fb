"""Patents, programmes and submissions in MongoDB (one document each, with its outbox entries).

Dates are stored as ISO strings: BSON has datetimes only, and a patent's dates are days.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from alliance_common.errors import Conflict
from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore, AlreadyExists
from alliance_contracts.licensing import PatentLegalStatusChanged
from licensing.domain.patents import (
    ChainSegment,
    Essentiality,
    Evaluation,
    EvaluationAssignment,
    LegalStatus,
    Patent,
    PatentOffice,
)
from licensing.domain.pool import Programme, Submission, SubmissionStatus, contributed
from licensing.domain.royalties import RateSchedule, Tier


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def patent_to_document(p: Patent) -> Document:
    return {
        "owner_id": p.owner_id, "office": p.office, "number": p.number, "family_id": p.family_id,
        "title": p.title, "filing_date": _iso(p.filing_date), "expiry_date": _iso(p.expiry_date),
        "status": p.status, "segment": p.segment, "grant_date": _iso(p.grant_date),
        "ended_on": _iso(p.ended_on), "validated_in": sorted(p.validated_in),
    }  # fmt: skip


def patent_from_document(doc_id: str, d: Document) -> Patent:
    return Patent(
        id=doc_id, owner_id=d["owner_id"], office=PatentOffice(d["office"]), number=d["number"],
        family_id=d["family_id"], title=d["title"], filing_date=date.fromisoformat(d["filing_date"]),
        expiry_date=date.fromisoformat(d["expiry_date"]), status=LegalStatus(d["status"]),
        segment=ChainSegment(d["segment"]), grant_date=_day(d.get("grant_date")), ended_on=_day(d.get("ended_on")),
        validated_in=frozenset(d.get("validated_in", ())),
    )  # fmt: skip


def schedule_to_document(s: RateSchedule) -> Document:
    return {
        "categories": {name: [{"up_to": t.up_to, "standard_rate": str(t.standard_rate),
                               "compliant_rate": str(t.compliant_rate)} for t in tiers]
                       for name, tiers in s.categories.items()},
        "free_units_per_year": s.free_units_per_year,
        "annual_cap": str(s.annual_cap) if s.annual_cap is not None else None,
        "regional_markets": sorted(s.regional_markets),
        "regional_discount_percent": str(s.regional_discount_percent),
        "member_discount_percent": str(s.member_discount_percent),
        "currency": s.currency,
    }  # fmt: skip


def schedule_from_document(programme: str, d: Document) -> RateSchedule:
    return RateSchedule(
        programme=programme,
        categories={name: tuple(Tier(t["up_to"], Decimal(t["standard_rate"]), Decimal(t["compliant_rate"]))
                                for t in tiers) for name, tiers in d["categories"].items()},
        free_units_per_year=d["free_units_per_year"],
        annual_cap=Decimal(d["annual_cap"]) if d.get("annual_cap") is not None else None,
        regional_markets=frozenset(d["regional_markets"]),
        regional_discount_percent=Decimal(d["regional_discount_percent"]),
        member_discount_percent=Decimal(d["member_discount_percent"]),
        currency=d["currency"],
    )  # fmt: skip


def programme_to_document(p: Programme) -> Document:
    return {"name": p.name, "standard_ref": p.standard_ref, "description": p.description,
            "created_on": _iso(p.created_on), "schedule": schedule_to_document(p.schedule) if p.schedule else None,
            "admin_fee_percent": str(p.admin_fee_percent),
            "late_interest_percent": str(p.late_interest_percent)}  # fmt: skip


def programme_from_document(doc_id: str, version: int, d: Document) -> Programme:
    return Programme(id=doc_id, name=d["name"], standard_ref=d["standard_ref"], description=d["description"],
                     created_on=date.fromisoformat(d["created_on"]),
                     schedule=schedule_from_document(d["name"], d["schedule"]) if d.get("schedule") else None,
                     admin_fee_percent=Decimal(d.get("admin_fee_percent", "10")),
                     late_interest_percent=Decimal(d.get("late_interest_percent", "6")),
                     version=version)  # fmt: skip


def submission_to_document(s: Submission) -> Document:
    a, e = s.assignment, s.evaluation
    return {
        "patent_id": s.patent_id, "programme_id": s.programme_id, "owner_id": s.owner_id,
        "submitted_by": s.submitted_by, "submitted_on": _iso(s.submitted_on), "status": s.status,
        "assignment": {"evaluator_id": a.evaluator_id, "evaluator_org_id": a.evaluator_org_id,
                       "assigned_on": _iso(a.assigned_on)} if a else None,
        "evaluation": {"evaluator_id": e.evaluator_id, "result": e.result, "reason": e.reason,
                       "evaluated_on": _iso(e.evaluated_on)} if e else None,
        # Denormalised for queries: an expert's assigned work.
        "evaluator_id": a.evaluator_id if a else None,
    }  # fmt: skip


def submission_from_document(doc_id: str, version: int, d: Document) -> Submission:
    a, e = d.get("assignment"), d.get("evaluation")
    return Submission(
        id=doc_id, patent_id=d["patent_id"], programme_id=d["programme_id"], owner_id=d["owner_id"],
        submitted_by=d["submitted_by"], submitted_on=date.fromisoformat(d["submitted_on"]),
        status=SubmissionStatus(d["status"]),
        assignment=EvaluationAssignment(d["patent_id"], a["evaluator_id"], a["evaluator_org_id"],
                                        date.fromisoformat(a["assigned_on"])) if a else None,
        evaluation=Evaluation(d["patent_id"], e["evaluator_id"], Essentiality(e["result"]), e["reason"],
                              date.fromisoformat(e["evaluated_on"])) if e else None,
        version=version,
    )  # fmt: skip


class PoolRepository:
    def __init__(self, patents: AggregateStore, programmes: AggregateStore, submissions: AggregateStore) -> None:
        self.patents = patents
        self.programmes = programmes
        self.submissions = submissions

    async def ensure_indexes(self) -> None:
        await self.patents.collection.create_index([("owner_id", ASCENDING)])
        await self.patents.collection.create_index([("office", ASCENDING), ("number", ASCENDING)], unique=True)
        await self.submissions.collection.create_index([("programme_id", ASCENDING), ("status", ASCENDING)])
        await self.submissions.collection.create_index([("evaluator_id", ASCENDING)])

    async def add_patent(self, patent: Patent) -> None:
        try:
            await self.patents.save(patent.id, 0, patent_to_document(patent), [contributed(patent)])
        except AlreadyExists as exc:
            raise Conflict(f"patent {patent.id} exists already") from exc
        except DuplicateKeyError as exc:  # the unique (office, number) index
            raise Conflict(f"{patent.office} {patent.number} is registered already", field="number") from exc

    async def patent_with_version(self, patent_id: str) -> tuple[Patent, int] | None:
        loaded = await self.patents.get(patent_id)
        return (patent_from_document(loaded.id, loaded.state), loaded.version) if loaded else None

    async def update_patent(self, patent: Patent, version: int) -> None:
        event = PatentLegalStatusChanged(patent_id=patent.id, owner_id=patent.owner_id, status=patent.status,
                                         ended_on=patent.ended_on)  # fmt: skip
        await self.patents.save(patent.id, version, patent_to_document(patent), [event])

    async def patent(self, patent_id: str) -> Patent | None:
        loaded = await self.patents.get(patent_id)
        return patent_from_document(loaded.id, loaded.state) if loaded else None

    async def find_patents(self, query: dict[str, Any], limit: int) -> list[Patent]:
        docs = await self.patents.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit).to_list()
        return [patent_from_document(d["_id"], d) for d in docs]

    async def add_programme(self, programme: Programme) -> None:
        programme.version = await self.programmes.save(
            programme.id, 0, programme_to_document(programme), programme.events
        )
        programme.events = []

    async def save_programme(self, programme: Programme) -> None:
        programme.version = await self.programmes.save(
            programme.id, programme.version, programme_to_document(programme), programme.events
        )
        programme.events = []

    async def listed_patents(self, programme_id: str) -> list[Patent]:
        """The programme's essential patents (all of them: the engine and distribution need every one)."""
        essential = await self.submissions.collection.find(
            {"programme_id": programme_id, "status": SubmissionStatus.ESSENTIAL}, {"patent_id": 1}
        ).to_list()
        ids = [d["patent_id"] for d in essential]
        return await self.find_patents({"_id": {"$in": ids}}, 0) if ids else []

    async def programme(self, programme_id: str) -> Programme | None:
        loaded = await self.programmes.get(programme_id)
        return programme_from_document(loaded.id, loaded.version, loaded.state) if loaded else None

    async def find_programmes(self, query: dict[str, Any], limit: int) -> list[Programme]:
        docs = self.programmes.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit)
        return [programme_from_document(d["_id"], d["version"], d) for d in await docs.to_list()]

    async def submission(self, submission_id: str) -> Submission | None:
        loaded = await self.submissions.get(submission_id)
        return submission_from_document(loaded.id, loaded.version, loaded.state) if loaded else None

    async def save_submission(self, submission: Submission) -> None:
        try:
            submission.version = await self.submissions.save(
                submission.id, submission.version, submission_to_document(submission), submission.events
            )
        except AlreadyExists as exc:
            raise Conflict("this patent is submitted to this programme already", field="patent_id") from exc
        submission.events = []

    async def find_submissions(self, query: dict[str, Any], limit: int) -> list[Submission]:
        docs = self.submissions.collection.find(query, {"outbox": 0}).sort("_id", ASCENDING).limit(limit)
        return [submission_from_document(d["_id"], d["version"], d) for d in await docs.to_list()]
