"""Training sessions and proposals, each stored through the shared repository base.

A session and its registrations are one aggregate but not one document: the session's document
holds the session with its counts (places held, people waiting, who is registered) and its
outbox; each registration is a document of its own in ``registrations``. So admitting someone
reads and writes one small document however many registered before, and the registrations
are written beside it.

Without multi-document transactions the session's versioned write is the one commit point:
it carries, in ``journal``, the full new state of every registration that write changed, each
stamped with the session version that wrote it (``sv``). Only after that write succeeded are
those registrations written to their own documents, each replaced only by a newer ``sv``, so a
repeated or late copy never undoes a newer one. A crash in between loses nothing: whoever loads
the session next writes its journal out first (so does the first sweep after a restart), and
a write never replaces the journal before the one it read was written out. Capacity cannot be
exceeded: every change is decided on one version of the session's counts and written
conditionally on that version, as before; a registration document only records a decision
already committed.

Admitting people starts from the session as this process last wrote it, when it has one
(``get_summary(recent=True)``): the write it makes is conditional on that version, so if anyone
else wrote the session since, the write fails and the batch is decided again on a fresh read.
A refusal decided on that copy is not final (``from_memory`` tells): the service asks again on
a fresh read before answering it.

The documents are what pydantic ``TypeAdapter``\\s of the aggregate and of a registration dump
in JSON mode (money as decimal strings, times as ISO strings). The queries the use cases need
are named here; no filter leaves this file.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from pydantic import TypeAdapter
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from alliance_common.mongo import Document
from alliance_common.outbox import AggregateStore, Loaded, Origin
from alliance_common.repository import TRANSIENT_FIELDS, DocumentStore, IndexKeys, Repository
from alliance_common.testing import matches
from training.adapters.integration_events import TO_CONTRACT
from training.domain.model import Audience, Registration, RegistrationStatus, Session
from training.domain.proposal import Proposal, ProposalStatus

log = logging.getLogger(__name__)

JOURNAL = "journal"
SESSION_VERSION = "sv"
REGISTRATIONS = "registrations"


class RegistrationDocuments(Protocol):
    """Where registrations live: one document each, ``_id`` the registration's id."""

    async def put(self, docs: Sequence[Document], *, new: bool) -> None:
        """Write each document unless the stored one has the same or a newer ``sv``.

        ``new``: the documents are most likely not stored yet (inserted in one call).
        """
        ...

    async def find(
        self, query: Mapping[str, Any], *, sort: str = "_id", limit: int = 0, fields: Sequence[str] | None = None
    ) -> list[Document]: ...

    async def create_index(self, keys: IndexKeys) -> None: ...


class MongoRegistrations:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def put(self, docs: Sequence[Document], *, new: bool) -> None:
        if not docs:
            return
        if new:
            try:
                await self.collection.insert_many([dict(d) for d in docs], ordered=False)
                return
            except BulkWriteError as exc:
                if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", ())):
                    raise
                # Some are stored already (written out by someone else): write the others one by one.
        await asyncio.gather(*(self._replace_if_newer(doc) for doc in docs))

    async def _replace_if_newer(self, doc: Document) -> None:
        try:
            await self.collection.replace_one(
                {"_id": doc["_id"], SESSION_VERSION: {"$lt": doc[SESSION_VERSION]}}, dict(doc), upsert=True
            )
        except DuplicateKeyError:
            pass  # the stored one is as new or newer

    async def find(
        self, query: Mapping[str, Any], *, sort: str = "_id", limit: int = 0, fields: Sequence[str] | None = None
    ) -> list[Document]:
        projection = dict.fromkeys(fields, 1) if fields is not None else None
        cursor = self.collection.find(dict(query), projection).sort(sort, ASCENDING)
        return await (cursor.limit(limit) if limit > 0 else cursor).to_list()

    async def create_index(self, keys: IndexKeys) -> None:
        await self.collection.create_index(list(keys))


class InMemoryRegistrations:
    """The in-memory twin of ``MongoRegistrations``, for unit tests."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.indexes: list[IndexKeys] = []

    async def put(self, docs: Sequence[Document], *, new: bool) -> None:
        for doc in docs:
            stored = self.docs.get(doc["_id"])
            if stored is None or stored[SESSION_VERSION] < doc[SESSION_VERSION]:
                self.docs[doc["_id"]] = json.loads(json.dumps(doc))

    async def find(
        self, query: Mapping[str, Any], *, sort: str = "_id", limit: int = 0, fields: Sequence[str] | None = None
    ) -> list[Document]:
        found = sorted((d for d in self.docs.values() if matches(d, query)), key=lambda d: d[sort])
        if fields is not None:
            found = [{k: v for k, v in d.items() if k in fields or k == "_id"} for d in found]
        return copy.deepcopy(found[:limit] if limit > 0 else found)

    async def create_index(self, keys: IndexKeys) -> None:
        self.indexes.append(keys)


class SessionRepository(Repository[Session]):
    indexes = ([("starts_at", ASCENDING)],)
    registration_indexes: ClassVar[Sequence[IndexKeys]] = (
        [("session_id", ASCENDING)],
        [("organisation_id", ASCENDING)],
        [("registered_by", ASCENDING)],
        [("certificate.code", ASCENDING)],
        [("status", ASCENDING)],
    )
    RECENT_MAX = 1000  # sessions whose last write this process keeps for the next admission

    def __init__(
        self, store: AggregateStore | DocumentStore, registrations: RegistrationDocuments | None = None
    ) -> None:
        super().__init__(store, Session, to_integration=TO_CONTRACT)
        if registrations is None:
            registrations = (
                MongoRegistrations(store.collection.database[REGISTRATIONS])
                if isinstance(store, AggregateStore)
                else InMemoryRegistrations()
            )
        self.registrations = registrations
        self.registration_adapter: TypeAdapter[Registration] = TypeAdapter(Registration)
        # Each loaded session's registrations as loaded (by the session object's id), to write only changes.
        self._as_loaded: dict[int, dict[str, Document]] = {}
        # The newest session version whose journal this process has written out, per session.
        self._written_out: dict[str, int] = {}
        # Sessions whose journal could not be written out after their write (retried by the sweep).
        self._unwritten: set[str] = set()
        # Per session, its document as this process last wrote it (journal written out), newest last.
        self._last_written: dict[str, Loaded] = {}
        # Sessions (by object id) built from ``_last_written`` rather than read from the store.
        self._from_memory: set[int] = set()

    # --- mapping ---------------------------------------------------------------------------------

    def to_document(self, aggregate: Session) -> Document:
        """The session's own document: everything but its registrations."""
        doc: Document = self.adapter.dump_python(aggregate, mode="json", exclude={*TRANSIENT_FIELDS, REGISTRATIONS})
        return doc

    def from_document(self, loaded: Loaded) -> Session:
        state = {k: v for k, v in loaded.state.items() if k not in (JOURNAL, REGISTRATIONS)}
        return super().from_document(Loaded(loaded.id, loaded.version, state, loaded.applied_events))

    def registration_document(self, session_id: str, registration: Registration) -> Document:
        doc: Document = self.registration_adapter.dump_python(registration, mode="json", exclude={"id"})
        return {"_id": registration.id, "session_id": session_id, **doc}

    def registration_from(self, doc: Mapping[str, Any]) -> Registration:
        fields = {k: v for k, v in doc.items() if k not in ("_id", "session_id", SESSION_VERSION)}
        return self.registration_adapter.validate_python({**fields, "id": doc["_id"]})

    def stored_form(self, session: Session) -> tuple[Document, list[Document]]:
        """What storing ``session`` writes: its document and its registrations' documents."""
        return self.to_document(session), [self.registration_document(session.id, r) for r in session.registrations]

    # --- reads -----------------------------------------------------------------------------------

    async def ensure_indexes(self) -> None:
        await super().ensure_indexes()
        for keys in self.registration_indexes:
            await self.registrations.create_index(keys)

    async def get(self, aggregate_id: str) -> Session | None:
        """The session with every registration (for anything that reads or moves registrations)."""
        session = await self.get_summary(aggregate_id)
        if session is None:
            return None
        docs = await self.registrations.find({"session_id": aggregate_id}, sort="number")
        session.registrations = [self.registration_from(d) for d in docs]
        self._remember(session)
        return session

    async def get_summary(self, session_id: str, *, recent: bool = False) -> Session | None:
        """The session with its counts and none of its registrations (enough to admit people).

        ``recent``: as this process last wrote it, if it did, without reading the store (only
        for a change written conditionally on its version: it may be outdated by another process).
        """
        loaded = self._last_written.get(session_id) if recent else None
        if loaded is not None:
            session = self.from_document(loaded)
            self._remember(session)
            self._from_memory.add(id(session))
            return session
        loaded = await self.documents.get(session_id)
        if loaded is None:
            return None
        await self._write_out(loaded)
        session = self.from_document(loaded)
        self._remember(session)
        return session

    def from_memory(self, session: Session) -> bool:
        """Was ``session`` built from this process's last write (not read from the store)?"""
        return id(session) in self._from_memory

    async def browse(self, cursor: str | None, limit: int, audience: Audience | None = None) -> list[Session]:
        return await self._find({"audience": audience.value} if audience else {}, limit, cursor)

    async def ids_with_offers(self) -> list[str]:
        """Sessions with a place on offer (for the offer-expiry sweep)."""
        await self.write_out_journals()
        docs = await self.registrations.find({"status": RegistrationStatus.OFFERED.value}, fields=["session_id"])
        return sorted({str(d["session_id"]) for d in docs})

    async def by_certificate(self, code: str) -> tuple[Session, Registration] | None:
        """The registration holding certificate ``code``, with its session (no other registration)."""
        docs = await self.registrations.find({"certificate.code": code}, limit=1)
        if not docs:
            return None
        session = await self.get_summary(str(docs[0]["session_id"]))
        return (session, self.registration_from(docs[0])) if session is not None else None

    async def with_registrations_of(
        self,
        registrant: tuple[str | None, str] | None,
        *,
        session_id: str | None,
        from_session: str | None,
        limit: int,
    ) -> list[Session]:
        """Sessions (``_id`` order, from ``from_session`` on; each with every registration) holding a
        registration of ``registrant``.

        ``registrant`` is (organisation id, subject): a registration of that organisation or
        made by that person; None for every session (staff).
        """
        if registrant is None and session_id:
            ids = [session_id]
        elif registrant is None:
            ids = await self._ids({"_id": {"$gte": from_session}} if from_session else {}, limit)
        else:
            org_id, subject = registrant
            query: dict[str, Any] = {"$or": [{"organisation_id": org_id or ""}, {"registered_by": subject}]}
            if session_id:
                query["session_id"] = session_id
            elif from_session:
                query["session_id"] = {"$gte": from_session}
            docs = await self.registrations.find(query, sort="session_id", fields=["session_id"])
            ids = sorted({str(d["session_id"]) for d in docs})[:limit]
        sessions = await asyncio.gather(*(self.get(i) for i in ids))
        return [s for s in sessions if s is not None]

    # --- writes ----------------------------------------------------------------------------------

    async def add(
        self, aggregate: Session, correlation_id: str | None = None, *, applied_event: str | None = None
    ) -> None:
        aggregate.version = 0
        await self._write_session(aggregate, correlation_id, applied_event, None)

    async def save(
        self,
        aggregate: Session,
        correlation_id: str | None = None,
        *,
        applied_event: str | None = None,
        origins: Sequence[Origin] | None = None,
    ) -> None:
        await self._write_session(aggregate, correlation_id, applied_event, origins)

    async def _write_session(
        self,
        session: Session,
        correlation_id: str | None,
        applied_event: str | None,
        origins: Sequence[Origin] | None,
    ) -> None:
        as_loaded = self._as_loaded.get(id(session), {})
        docs = {r.id: self.registration_document(session.id, r) for r in session.registrations}
        changed = [d for rid, d in docs.items() if as_loaded.get(rid) != d]
        new = all(d["_id"] not in as_loaded for d in changed)
        version = session.version + 1
        journal = [{**d, SESSION_VERSION: version} for d in changed]
        events, event_origins = self._mapped(session, origins)
        state = self.to_document(session)
        state[JOURNAL] = journal
        self._last_written.pop(session.id, None)  # until this write and its journal's are done
        session.version = await self.documents.save(
            session.id,
            session.version,
            state,
            events,
            applied_event=applied_event,
            correlation_id=correlation_id,
            origins=event_origins,
        )
        session.events = []
        self._remember(session, docs)
        self._from_memory.discard(id(session))
        # Committed. Now each changed registration to its own document; if that fails, the
        # journal keeps them until the next load of this session, or the sweep, writes them.
        try:
            await self.registrations.put(journal, new=new)
        except PyMongoError:
            log.warning("registrations of session %s not written out yet (kept in its journal)", session.id)
            self._unwritten.add(session.id)
        else:
            self._written_out[session.id] = session.version
            if len(self._last_written) >= self.RECENT_MAX:
                del self._last_written[next(iter(self._last_written))]  # the least recently written
            self._last_written[session.id] = Loaded(session.id, session.version, state, ())

    async def _write_out(self, loaded: Loaded) -> None:
        """Write out the journal of the version just read, unless this process did already."""
        journal = loaded.state.get(JOURNAL) or []
        if journal and self._written_out.get(loaded.id, 0) < loaded.version:
            await self.registrations.put(journal, new=False)
        self._written_out[loaded.id] = max(loaded.version, self._written_out.get(loaded.id, 0))
        self._unwritten.discard(loaded.id)

    async def write_out_journals(self, everything: bool = False) -> int:
        """Write out journals left behind: ours that failed, or (``everything``, at start) any.

        Returns the number of sessions whose journal was written out.
        """
        if everything:
            candidates = [loaded for loaded in await self.documents.find({}, limit=0) if loaded.state.get(JOURNAL)]
        else:
            candidates = [x for x in [await self.documents.get(i) for i in sorted(self._unwritten)] if x]
        for loaded in candidates:
            await self._write_out(loaded)
        return len(candidates)

    async def setup(self) -> None:
        await self.ensure_indexes()
        await self.write_out_journals(everything=True)

    def _remember(self, session: Session, docs: dict[str, Document] | None = None) -> None:
        """Keep ``session``'s registrations as stored, while the session object lives."""
        key = id(session)
        if key not in self._as_loaded:
            weakref.finalize(session, self._forget, key)
        self._as_loaded[key] = (
            docs
            if docs is not None
            else {r.id: self.registration_document(session.id, r) for r in session.registrations}
        )

    def _forget(self, key: int) -> None:
        self._as_loaded.pop(key, None)
        self._from_memory.discard(key)


class ProposalRepository(Repository[Proposal]):
    def __init__(self, store: AggregateStore | DocumentStore) -> None:
        super().__init__(store, Proposal, to_integration=TO_CONTRACT)

    async def browse(self, cursor: str | None, limit: int, status: ProposalStatus | None = None) -> list[Proposal]:
        return await self._find({"status": status.value} if status else {}, limit, cursor)
