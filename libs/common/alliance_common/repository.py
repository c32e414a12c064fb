"""One way to store an aggregate: a generic repository over the outbox's ``AggregateStore``.

An aggregate is a plain (data)class with ``id``, ``version`` and ``events``; its document
is what a pydantic ``TypeAdapter`` of the aggregate dumps in JSON mode (datetimes, dates and
Decimals as strings, readable by any MongoDB-wire store), minus ``id``, ``version`` and
``events``. So the aggregate's own field list is the only one: nothing maps fields by hand.

The aggregate raises *domain* events; ``save`` turns them into integration events with the
mapper the service gives (``EventTable``: one table from domain event type to contract
type, fields copied by name) and writes state and events in one versioned write.

Subclasses add NAMED query methods built on the protected ``_find`` (cursor-paged, ordered
by ``_id``); filter documents stay in adapters, never in service layers. The same class runs
over ``alliance_common.testing.InMemoryStore`` for unit tests of use cases.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter
from pymongo import ASCENDING

from alliance_common.events import IntegrationEvent
from alliance_common.mongo import Document
from alliance_common.outbox import RESERVED_FIELDS, AggregateStore, Loaded, Origin
from alliance_common.pagination import after_filter

TRANSIENT_FIELDS = frozenset({"id", "version", "events"})

# A domain event in, the integration event to publish out (None: the event stays internal).
EventMapper = Callable[[Any], IntegrationEvent | None]
IndexKeys = Sequence[tuple[str, int]]


class Aggregate(Protocol):
    id: str
    version: int
    events: list[Any]


A = TypeVar("A", bound=Aggregate)


class DocumentStore(Protocol):
    """What a repository needs of a store: the outbox's versioned write, plus ordered reads."""

    async def get(self, doc_id: str) -> Loaded | None: ...

    async def save(
        self,
        doc_id: str,
        expected_version: int,
        state: Document,
        events: Sequence[IntegrationEvent] = (),
        *,
        applied_event: str | None = None,
        correlation_id: str | None = None,
        origins: Sequence[Origin] | None = None,
    ) -> int: ...

    async def find(self, query: Mapping[str, Any], *, limit: int, ids_only: bool = False) -> list[Loaded]:
        """Documents matching ``query`` in ``_id`` order (``ids_only``: state left empty)."""
        ...

    async def create_index(self, keys: IndexKeys) -> None: ...


class MongoDocuments:
    """``DocumentStore`` over an ``AggregateStore`` (its collection answers the reads)."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self.collection = store.collection

    async def get(self, doc_id: str) -> Loaded | None:
        return await self.store.get(doc_id)

    async def save(
        self,
        doc_id: str,
        expected_version: int,
        state: Document,
        events: Sequence[IntegrationEvent] = (),
        *,
        applied_event: str | None = None,
        correlation_id: str | None = None,
        origins: Sequence[Origin] | None = None,
    ) -> int:
        return await self.store.save(
            doc_id,
            expected_version,
            state,
            events,
            applied_event=applied_event,
            correlation_id=correlation_id,
            origins=origins,
        )

    async def find(self, query: Mapping[str, Any], *, limit: int, ids_only: bool = False) -> list[Loaded]:
        projection: Document = {"_id": 1, "version": 1} if ids_only else {"outbox": 0}
        cursor = self.collection.find(dict(query), projection).sort("_id", ASCENDING)
        docs = await (cursor.limit(limit) if limit > 0 else cursor).to_list()
        return [
            Loaded(
                id=str(d["_id"]),
                version=int(d["version"]),
                state={k: v for k, v in d.items() if k not in RESERVED_FIELDS},
                applied_events=tuple(d.get("applied_events", ())),
            )
            for d in docs
        ]

    async def create_index(self, keys: IndexKeys) -> None:
        await self.collection.create_index(list(keys))


def passthrough(event: Any) -> IntegrationEvent:
    """The mapper for aggregates that still append integration events themselves."""
    if not isinstance(event, IntegrationEvent):
        raise TypeError(f"{type(event).__name__} is not an integration event and no event mapper was given")
    return event


class EventTable:
    """Maps domain events (dataclasses) to integration events through one table, by field name.

    Every field of a domain event must exist on its contract (checked when the table is
    built), so no field is silently dropped; contract fields the domain does not know keep
    their defaults. Nested dataclasses become nested objects.
    """

    def __init__(self, table: Mapping[type[Any], type[IntegrationEvent] | None]) -> None:
        for domain, contract in table.items():
            if not dataclasses.is_dataclass(domain):
                raise TypeError(f"{domain.__name__} is not a dataclass")
            if contract is None:
                continue
            missing = {f.name for f in dataclasses.fields(domain)} - set(contract.model_fields)
            if missing:
                raise TypeError(f"{domain.__name__} has fields {sorted(missing)} that {contract.__name__} lacks")
        self.table = dict(table)

    def __call__(self, event: Any) -> IntegrationEvent | None:
        try:
            contract = self.table[type(event)]
        except KeyError:
            raise TypeError(f"no integration event for domain event {type(event).__name__}") from None
        if contract is None:
            return None
        return contract.model_validate(_fields(event))


def _fields(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _fields(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_fields(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump()
    return value


class Repository(Generic[A]):
    """Aggregates of one type in one store: ``get / add / save`` and paged named queries.

    ``store`` is an ``AggregateStore`` (production) or any ``DocumentStore`` (the in-memory
    twin of ``alliance_common.testing``). ``indexes`` lists the secondary indexes that the
    subclass's queries need; ``ensure_indexes`` creates them.

    ``remember`` (default 0: off) keeps that many aggregates as this process last read or wrote
    them (least recently used dropped first), for ``load(..., recent=True)``: a read-modify-write
    whose read is served from memory, so the versioned write is its only store round trip. That
    cannot apply a change to stale state: a write made meanwhile by anyone else moved the stored
    version, so the save raises ``ConcurrencyConflict`` (the memory is dropped) and the caller
    loads from the store and applies again. Plain ``get`` and the queries always read the store.
    Only for aggregates that are written through this repository (versioned) and nothing else.
    """

    indexes: ClassVar[Sequence[IndexKeys]] = ()

    def __init__(
        self,
        store: AggregateStore | DocumentStore,
        aggregate: type[A] | TypeAdapter[A],
        *,
        to_integration: EventMapper = passthrough,
        remember: int = 0,
    ) -> None:
        self.documents: DocumentStore = MongoDocuments(store) if isinstance(store, AggregateStore) else store
        self.adapter: TypeAdapter[A] = aggregate if isinstance(aggregate, TypeAdapter) else TypeAdapter(aggregate)
        self.to_integration = to_integration
        self.remember = remember
        # Each remembered aggregate as (version, its ``Loaded`` pickled): a licence with 25 history
        # entries is ~2.6 KiB of bytes instead of ~11 KiB of dicts and strings, and unpickling it
        # (~8 us) is a fraction of validating it back into the aggregate (~30 us).
        self._recent: OrderedDict[str, tuple[int, bytes]] = OrderedDict()

    # --- mapping ---------------------------------------------------------------------------------

    def to_document(self, aggregate: A) -> Document:
        doc: Document = self.adapter.dump_python(aggregate, mode="json", exclude=set(TRANSIENT_FIELDS))
        return doc

    def from_document(self, loaded: Loaded) -> A:
        state = {k: v for k, v in loaded.state.items() if k not in RESERVED_FIELDS}
        return self.adapter.validate_python({**state, "id": loaded.id, "version": loaded.version})

    def integration_events(self, aggregate: A) -> list[IntegrationEvent]:
        mapped = (self.to_integration(e) for e in aggregate.events)
        return [e for e in mapped if e is not None]

    def _mapped(
        self, aggregate: A, origins: Sequence[Origin] | None
    ) -> tuple[list[IntegrationEvent], list[Origin] | None]:
        if origins is None:
            return self.integration_events(aggregate), None
        if len(origins) != len(aggregate.events):
            raise ValueError(f"{len(origins)} origins for {len(aggregate.events)} events")
        pairs = [(self.to_integration(e), o) for e, o in zip(aggregate.events, origins, strict=True)]
        kept = [(e, o) for e, o in pairs if e is not None]
        return [e for e, _ in kept], [o for _, o in kept]

    # --- reads and writes ------------------------------------------------------------------------

    async def ensure_indexes(self) -> None:
        for keys in self.indexes:
            await self.documents.create_index(keys)

    async def get(self, aggregate_id: str) -> A | None:
        loaded = await self._read(aggregate_id)
        return self.from_document(loaded) if loaded else None

    async def load(self, aggregate_id: str, *, recent: bool = False) -> tuple[A, tuple[str, ...]] | None:
        """The aggregate and the ids of the consumed events already applied to it.

        ``recent``: as this process last read or wrote it, when it remembers it (no store round
        trip; see the class's ``remember``). Save it as usual: if the store has moved on since,
        the save raises ``ConcurrencyConflict``; then load it with ``recent=False`` and apply the
        change again.
        """
        found = self.remembered(aggregate_id) if recent else None
        if found is not None:
            return found
        loaded = await self._read(aggregate_id)
        return (self.from_document(loaded), loaded.applied_events) if loaded else None

    def remembered(self, aggregate_id: str) -> tuple[A, tuple[str, ...]] | None:
        """The aggregate (and its applied events' ids) as this process last read or wrote it, if it
        remembers it; no store round trip. It may be stale: see ``load``."""
        kept = self._recent.get(aggregate_id)
        if kept is None:
            return None
        self._recent.move_to_end(aggregate_id)
        loaded: Loaded = pickle.loads(kept[1])
        return self.from_document(loaded), loaded.applied_events

    async def _read(self, aggregate_id: str) -> Loaded | None:
        loaded = await self.documents.get(aggregate_id)
        if loaded is not None:
            self._keep(loaded)
        return loaded

    def _keep(self, loaded: Loaded) -> None:
        """Remember ``loaded`` unless a newer version is remembered (a read that raced a write)."""
        if not self.remember:
            return
        known = self._recent.get(loaded.id)
        if known is not None and known[0] > loaded.version:
            return
        self._recent[loaded.id] = (loaded.version, pickle.dumps(loaded, pickle.HIGHEST_PROTOCOL))
        self._recent.move_to_end(loaded.id)
        while len(self._recent) > self.remember:
            self._recent.popitem(last=False)

    async def add(self, aggregate: A, correlation_id: str | None = None, *, applied_event: str | None = None) -> None:
        """Store a new aggregate; raises ``AlreadyExists`` if its id is taken."""
        aggregate.version = 0
        await self._write(aggregate, correlation_id=correlation_id, applied_event=applied_event, origins=None)

    async def save(
        self,
        aggregate: A,
        correlation_id: str | None = None,
        *,
        applied_event: str | None = None,
        origins: Sequence[Origin] | None = None,
    ) -> None:
        """Versioned write of state and events; raises ``ConcurrencyConflict`` if another write won.

        A version of 0 inserts (as ``add``). ``origins`` gives each event its own caller when a
        write combines several callers' changes: one per event of ``aggregate.events`` (before
        mapping; an event that maps to nothing drops its origin too).
        """
        await self._write(aggregate, correlation_id=correlation_id, applied_event=applied_event, origins=origins)

    async def _write(
        self,
        aggregate: A,
        *,
        correlation_id: str | None,
        applied_event: str | None,
        origins: Sequence[Origin] | None,
    ) -> None:
        events, event_origins = self._mapped(aggregate, origins)
        expected = aggregate.version
        document = self.to_document(aggregate)
        # Whatever happens to this write, what was remembered of the aggregate may be stale now.
        kept = self._recent.pop(aggregate.id, None)
        new_version = await self.documents.save(
            aggregate.id,
            expected,
            document,
            events,
            applied_event=applied_event,
            correlation_id=correlation_id,
            origins=event_origins,
        )
        aggregate.version = new_version
        aggregate.events = []
        # Remember the stored state only when its applied events are known exactly: a new aggregate,
        # or one saved against the version remembered (the store ran the same write on the same state).
        if expected == 0:
            applied: tuple[str, ...] | None = ()
        elif kept is not None and kept[0] == expected:
            applied = pickle.loads(kept[1]).applied_events
        else:
            applied = None
        if applied is not None:
            state = {k: v for k, v in document.items() if k not in RESERVED_FIELDS}
            self._keep(Loaded(aggregate.id, new_version, state, applied + ((applied_event,) if applied_event else ())))

    # --- for subclasses' named queries -----------------------------------------------------------

    async def _find(self, query: Mapping[str, Any], limit: int, cursor: str | None = None) -> list[A]:
        """One page (``limit`` items, ``_id`` order) of the aggregates matching ``query``, after ``cursor``.

        ``cursor`` is ``alliance_common.pagination``'s: the next page's cursor is
        ``next_cursor`` of the returned ids. ``limit`` 0 reads all (for internal sweeps only).
        """
        found = await self.documents.find(after_filter(dict(query), cursor), limit=limit)
        return [self.from_document(loaded) for loaded in found]

    async def _first(self, query: Mapping[str, Any]) -> A | None:
        found = await self._find(query, 1)
        return found[0] if found else None

    async def _ids(self, query: Mapping[str, Any], limit: int = 0) -> list[str]:
        """Ids of the aggregates matching ``query`` (``_id`` order), without reading their state."""
        return [loaded.id for loaded in await self.documents.find(dict(query), limit=limit, ids_only=True)]
