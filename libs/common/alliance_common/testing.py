"""In-memory twins of the stores, for unit tests of use cases and their authorisation.

``InMemoryStore`` behaves as ``AggregateStore`` does for a repository: versions start at 1
and grow by one per write, a stale version raises ``ConcurrencyConflict``, a taken id raises
``AlreadyExists``, a refused write changes nothing, and every integration event of a write
is recorded in ``published`` (what the relay would publish). Queries understand the subset
of MongoDB filters the repositories use (equality, dotted paths through arrays, ``$gt``,
``$gte``, ``$lt``, ``$lte``, ``$ne``, ``$in``, ``$nin``, ``$exists``, ``$and``, ``$or``);
anything else raises, so a fake never silently answers differently.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alliance_common.events import IntegrationEvent
from alliance_common.mongo import Document
from alliance_common.outbox import RESERVED_FIELDS, AlreadyExists, ConcurrencyConflict, Loaded, Origin
from alliance_common.readmodel import APPLIED
from alliance_common.repository import IndexKeys


@dataclass(frozen=True)
class Published:
    subject: str
    event: IntegrationEvent
    correlation_id: str | None


@dataclass
class _Stored:
    version: int
    state: Document
    applied_events: list[str]


class InMemoryStore:
    """A ``DocumentStore`` in a dict; pass it to a ``Repository`` instead of an ``AggregateStore``."""

    def __init__(self, name: str = "aggregates") -> None:
        self.name = name
        self.docs: dict[str, _Stored] = {}
        self.published: list[Published] = []
        self.indexes: list[IndexKeys] = []

    def events(self) -> list[IntegrationEvent]:
        return [p.event for p in self.published]

    async def get(self, doc_id: str) -> Loaded | None:
        stored = self.docs.get(doc_id)
        if stored is None:
            return None
        return Loaded(doc_id, stored.version, copy.deepcopy(stored.state), tuple(stored.applied_events))

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
        if origins is not None and len(origins) != len(events):
            raise ValueError(f"{len(origins)} origins for {len(events)} events")
        # What a MongoDB-wire store can hold: a JSON-compatible document (as the JSON-mode dump is).
        clean = json.loads(json.dumps({k: v for k, v in state.items() if k not in RESERVED_FIELDS}))
        current = self.docs.get(doc_id)
        if expected_version == 0:
            if current is not None:
                raise AlreadyExists(doc_id)
            self.docs[doc_id] = _Stored(1, clean, [applied_event] if applied_event else [])
        else:
            if current is None or current.version != expected_version:
                raise ConcurrencyConflict(f"{self.name}/{doc_id} is no longer at version {expected_version}")
            current.state = clean
            current.version += 1
            if applied_event:
                current.applied_events.append(applied_event)
        for i, event in enumerate(events):
            origin = origins[i].correlation_id if origins is not None else correlation_id
            self.published.append(Published(doc_id, event, origin))
        return expected_version + 1

    async def find(self, query: Mapping[str, Any], *, limit: int, ids_only: bool = False) -> list[Loaded]:
        found = []
        for doc_id in sorted(self.docs):
            stored = self.docs[doc_id]
            if matches({"_id": doc_id, **stored.state}, query):
                state = {} if ids_only else copy.deepcopy(stored.state)
                found.append(Loaded(doc_id, stored.version, state, tuple(stored.applied_events)))
                if 0 < limit <= len(found):
                    break
        return found

    async def create_index(self, keys: IndexKeys) -> None:
        self.indexes.append(keys)


class InMemoryKeyedView:
    """The in-memory twin of ``alliance_common.readmodel.MongoKeyedView``."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}

    async def apply(self, key: str, event_id: str, changes: Mapping[str, Any]) -> None:
        doc = self.docs.setdefault(key, {APPLIED: []})
        if event_id in doc[APPLIED]:
            return
        doc.update(copy.deepcopy(dict(changes)))
        doc[APPLIED].append(event_id)

    async def get(self, key: str) -> Document | None:
        doc = self.docs.get(key)
        return None if doc is None else {k: copy.deepcopy(v) for k, v in doc.items() if k != APPLIED}

    async def keys_where(self, query: Mapping[str, Any]) -> list[str]:
        return [key for key in sorted(self.docs) if matches({"_id": key, **self.docs[key]}, query)]


# --- the filter subset -------------------------------------------------------------------------

_MISSING = object()


def matches(doc: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    """Does ``doc`` match the MongoDB filter ``query`` (the subset named in the module doc)?"""
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(doc, q) for q in condition):
                return False
        elif key == "$or":
            if not any(matches(doc, q) for q in condition):
                return False
        elif key.startswith("$"):
            raise NotImplementedError(f"the in-memory store does not understand {key}")
        elif not _field_matches(_values(doc, key.split(".")), condition):
            return False
    return True


def _values(value: Any, path: list[str]) -> list[Any]:
    """Every value at ``path``; arrays on the way are searched element by element (as MongoDB does)."""
    if not path:
        return [value]
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            out.extend(_values(item, path))
        return out
    if isinstance(value, Mapping):
        return _values(value[path[0]], path[1:]) if path[0] in value else [_MISSING]
    return [_MISSING]


def _candidates(values: list[Any]) -> list[Any]:
    # An array field matches a condition if the array itself or any element does.
    out: list[Any] = []
    for v in values:
        out.append(v)
        if isinstance(v, list):
            out.extend(v)
    return out


def _field_matches(values: list[Any], condition: Any) -> bool:
    if isinstance(condition, Mapping) and condition and all(str(k).startswith("$") for k in condition):
        return all(_operator(values, op, arg) for op, arg in condition.items())
    return any(v == condition for v in _candidates(values) if v is not _MISSING) or (
        condition is None and _MISSING in values
    )


def _comparable(a: Any, b: Any) -> bool:
    return a is not _MISSING and a is not None and (type(a) is type(b) or {type(a), type(b)} <= {int, float})


def _operator(values: list[Any], op: str, arg: Any) -> bool:
    present = [v for v in _candidates(values) if v is not _MISSING]
    if op == "$eq":
        return _field_matches(values, arg)
    if op == "$ne":
        return not _field_matches(values, arg)
    if op == "$in":
        return any(_field_matches(values, a) for a in arg)
    if op == "$nin":
        return not any(_field_matches(values, a) for a in arg)
    if op == "$exists":
        return bool(present) == bool(arg)
    compare = {
        "$gt": lambda a, b: a > b,
        "$gte": lambda a, b: a >= b,
        "$lt": lambda a, b: a < b,
        "$lte": lambda a, b: a <= b,
    }.get(op)
    if compare is None:
        raise NotImplementedError(f"the in-memory store does not understand {op}")
    return any(compare(v, arg) for v in present if _comparable(v, arg))
