"""Patents, programmes and submissions in MongoDB (one document each, with its outbox entries).

Each document is a ``TypeAdapter`` dump of its domain object (the shared repository base's
mapping: dates as ISO strings, money as decimal strings, sets as sorted lists), with what the
documents written before it left out restored on load (a schedule's programme, the patent id
inside a submission's assignment and evaluation), so those still load.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import TypeAdapter
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from alliance_common.errors import Conflict
from alliance_common.events import IntegrationEvent
from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore, AlreadyExists, Loaded
from alliance_common.pagination import after_filter
from alliance_common.repository import DocumentStore, MongoDocuments, Repository
from licensing.adapters.integration_events import INTEGRATION_EVENTS
from licensing.domain.events import LicensingEvent
from licensing.domain.patents import Patent, PatentOffice
from licensing.domain.pool import Programme, Submission, SubmissionStatus, contributed, legal_status_changed

_PATENT: TypeAdapter[Patent] = TypeAdapter(Patent)
_PROGRAMME: TypeAdapter[Programme] = TypeAdapter(Programme)
_SUBMISSION: TypeAdapter[Submission] = TypeAdapter(Submission)


def _documents(store: AggregateStore | DocumentStore) -> DocumentStore:
    return MongoDocuments(store) if isinstance(store, AggregateStore) else store


class Patents:
    """Patents: plain values (no version or events of their own); the store keeps the version."""

    def __init__(self, store: AggregateStore | DocumentStore) -> None:
        self.documents = _documents(store)

    @staticmethod
    def to_document(patent: Patent) -> Document:
        doc: Document = _PATENT.dump_python(patent, mode="json", exclude={"id"})
        doc["validated_in"] = sorted(doc["validated_in"])
        return doc

    @staticmethod
    def from_document(loaded: Loaded) -> Patent:
        return _PATENT.validate_python({**loaded.state, "id": loaded.id})

    async def get(self, patent_id: str) -> tuple[Patent, int] | None:
        loaded = await self.documents.get(patent_id)
        return (self.from_document(loaded), loaded.version) if loaded else None

    async def find(self, query: dict[str, Any], limit: int, cursor: str | None = None) -> list[Patent]:
        found = await self.documents.find(after_filter(query, cursor), limit=limit)
        return [self.from_document(loaded) for loaded in found]

    async def write(self, patent: Patent, version: int, event: LicensingEvent | None) -> None:
        published: list[IntegrationEvent] = [e for e in (INTEGRATION_EVENTS(event),) if e is not None] if event else []
        await self.documents.save(patent.id, version, self.to_document(patent), published)


class ProgrammeRepository(Repository[Programme]):
    def __init__(self, store: AggregateStore | DocumentStore) -> None:
        super().__init__(store, _PROGRAMME, to_integration=INTEGRATION_EVENTS)

    def to_document(self, aggregate: Programme) -> Document:
        doc = super().to_document(aggregate)
        schedule = doc["schedule"]
        if schedule is not None:
            del schedule["programme"]  # the programme's name, restored on load
            schedule["regional_markets"] = sorted(schedule["regional_markets"])
        return doc

    def from_document(self, loaded: Loaded) -> Programme:
        state = loaded.state
        if state.get("schedule"):
            state = {**state, "schedule": {**state["schedule"], "programme": state["name"]}}
        return super().from_document(replace(loaded, state=state))

    async def list_all(self, cursor: str | None, limit: int) -> list[Programme]:
        return await self._find({}, limit, cursor)


class SubmissionRepository(Repository[Submission]):
    def __init__(self, store: AggregateStore | DocumentStore) -> None:
        super().__init__(store, _SUBMISSION, to_integration=INTEGRATION_EVENTS)

    def to_document(self, aggregate: Submission) -> Document:
        doc = super().to_document(aggregate)
        # Denormalised for queries: an expert's assigned work.
        doc["evaluator_id"] = aggregate.assignment.evaluator_id if aggregate.assignment else None
        return doc

    def from_document(self, loaded: Loaded) -> Submission:
        state = {k: v for k, v in loaded.state.items() if k != "evaluator_id"}
        for part in ("assignment", "evaluation"):  # stored without the patent id before
            if state.get(part):
                state[part] = {"patent_id": state["patent_id"], **state[part]}
        return super().from_document(replace(loaded, state=state))

    async def list_essential(self, programme_id: str, cursor: str | None, limit: int) -> list[Submission]:
        """The programme's essential submissions (``limit`` 0: all)."""
        query = {"programme_id": programme_id, "status": SubmissionStatus.ESSENTIAL.value}
        return await self._find(query, limit, cursor)

    async def list_where(
        self,
        *,
        programme_id: str | None,
        owner_id: str | None,
        evaluator_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> list[Submission]:
        """Submissions to ``programme_id``, of ``owner_id``, assigned to ``evaluator_id`` (each if given)."""
        given = (("programme_id", programme_id), ("owner_id", owner_id), ("evaluator_id", evaluator_id))
        return await self._find({k: v for k, v in given if v is not None}, limit, cursor)

    async def assigned_to(self, evaluator_id: str, patent_id: str) -> bool:
        """Is ``evaluator_id`` assigned to evaluate ``patent_id`` (in any programme)?"""
        return await self._first({"patent_id": patent_id, "evaluator_id": evaluator_id}) is not None


class PoolRepository:
    """The pool's three collections, behind named queries."""

    def __init__(
        self,
        patents: AggregateStore | DocumentStore,
        programmes: AggregateStore | DocumentStore,
        submissions: AggregateStore | DocumentStore,
    ) -> None:
        self.patents = Patents(patents)
        self.programmes = ProgrammeRepository(programmes)
        self.submissions = SubmissionRepository(submissions)

    async def ensure_indexes(self) -> None:
        patents = self.patents.documents
        await patents.create_index([("owner_id", ASCENDING)])
        if isinstance(patents, MongoDocuments):
            # One registration per office, number and organisation: another organisation's claim to
            # the same number is recorded and reviewed (domain/patent_rights.py), not refused. The
            # earlier index (unique per office and number) let the first registrant lock the owner out.
            indexes = await patents.collection.index_information()
            if indexes.get("office_1_number_1", {}).get("unique"):
                await patents.collection.drop_index("office_1_number_1")
            await patents.collection.create_index(
                [("office", ASCENDING), ("number", ASCENDING), ("owner_id", ASCENDING)], unique=True
            )
        else:
            await patents.create_index([("office", ASCENDING), ("number", ASCENDING)])
        await self.submissions.documents.create_index([("programme_id", ASCENDING), ("status", ASCENDING)])
        await self.submissions.documents.create_index([("evaluator_id", ASCENDING)])

    # --- patents ---

    async def add_patent(self, patent: Patent) -> None:
        try:
            await self.patents.write(patent, 0, contributed(patent))
        except AlreadyExists as exc:
            raise Conflict(f"patent {patent.id} exists already") from exc
        except DuplicateKeyError as exc:  # the unique (office, number, owner) index
            raise Conflict(
                f"{patent.office} {patent.number} is registered by your organisation already", field="number"
            ) from exc

    async def patent_with_version(self, patent_id: str) -> tuple[Patent, int] | None:
        return await self.patents.get(patent_id)

    async def update_patent(self, patent: Patent, version: int, *, status_changed: bool = True) -> None:
        """Save a changed patent; its legal-status event only when the status or end date changed."""
        await self.patents.write(patent, version, legal_status_changed(patent) if status_changed else None)

    async def registrations_of(self, office: PatentOffice | str, number: str) -> list[tuple[Patent, int]]:
        """Every registration of an office and number (one per organisation), with its version."""
        found = await self.patents.documents.find({"office": str(office), "number": number}, limit=0)
        return [(self.patents.from_document(loaded), loaded.version) for loaded in found]

    async def patents_for_review(self, cursor: str | None, limit: int) -> list[Patent]:
        """Patents the secretariat has to look at: a disputed claim, or an owner's status request."""
        query = {"$or": [{"claim": "disputed"}, {"review.evidence": {"$exists": True}}]}
        return await self.patents.find(query, limit, cursor)

    async def patent(self, patent_id: str) -> Patent | None:
        found = await self.patents.get(patent_id)
        return found[0] if found else None

    async def patents_of(self, owner_id: str | None, cursor: str | None, limit: int) -> list[Patent]:
        """The patents ``owner_id`` contributed (every patent if None), in id order."""
        query: dict[str, Any] = {"owner_id": owner_id} if owner_id is not None else {}
        return await self.patents.find(query, limit, cursor)

    async def patent_by_number(self, office: PatentOffice | str, number: str) -> Patent | None:
        """The registration of an office and number that is not disputed or rejected (None if none is)."""
        found = await self.patents.find(
            {"office": str(office), "number": number, "claim": {"$nin": ["disputed", "rejected"]}}, 1
        )
        return found[0] if found else None

    async def patents_by_id(self, ids: list[str]) -> list[Patent]:
        """The patents of ``ids`` that exist, in id order."""
        return await self.patents.find({"_id": {"$in": ids}}, 0) if ids else []

    async def listed_patents(self, programme_id: str) -> list[Patent]:
        """The programme's essential patents (all of them: the engine and distribution need every one)."""
        essential = await self.submissions.list_essential(programme_id, None, 0)
        return await self.patents_by_id([s.patent_id for s in essential])

    # --- programmes ---

    async def add_programme(self, programme: Programme) -> None:
        await self.programmes.add(programme)

    async def save_programme(self, programme: Programme) -> None:
        await self.programmes.save(programme)

    async def programme(self, programme_id: str) -> Programme | None:
        return await self.programmes.get(programme_id)

    async def list_programmes(self, cursor: str | None, limit: int) -> list[Programme]:
        return await self.programmes.list_all(cursor, limit)

    # --- submissions ---

    async def submission(self, submission_id: str) -> Submission | None:
        return await self.submissions.get(submission_id)

    async def save_submission(self, submission: Submission) -> None:
        try:
            await self.submissions.save(submission)
        except AlreadyExists as exc:
            raise Conflict("this patent is submitted to this programme already", field="patent_id") from exc

    async def essential_submissions(self, programme_id: str, cursor: str | None, limit: int) -> list[Submission]:
        return await self.submissions.list_essential(programme_id, cursor, limit)

    async def submissions_where(
        self,
        *,
        programme_id: str | None,
        owner_id: str | None = None,
        evaluator_id: str | None = None,
        cursor: str | None,
        limit: int,
    ) -> list[Submission]:
        return await self.submissions.list_where(
            programme_id=programme_id, owner_id=owner_id, evaluator_id=evaluator_id, cursor=cursor, limit=limit
        )

    async def evaluates(self, evaluator_id: str, patent_id: str) -> bool:
        return await self.submissions.assigned_to(evaluator_id, patent_id)
