"""``Idempotency-Key`` on every write, at the gateway (draft-ietf-httpapi-idempotency-key-header).

A client that lost an answer (a gateway replica killed mid-request, a timeout) retries a
POST/PUT/PATCH/DELETE with the same ``Idempotency-Key`` and gets the original answer, whichever
gateway replica it reaches. Requests without the header are untouched and cost nothing here.

A record per (caller subject from the verified token, method, path with query, key); its ``_id``
is a SHA-256 of the four, so keys are never shared between callers. The record holds a
fingerprint of the request body (SHA-256) and goes through these states:

- absent → ``in_progress``: the first request inserts the record (the insert is the lock: a
  concurrent duplicate loses it on the unique ``_id``), then forwards the request.
- ``in_progress`` → ``done``: a final answer (2xx, or 4xx other than 408/429) is stored with its
  status, headers and body, for ``ttl_s`` (24 h).
- ``in_progress`` → ``too_large``: a final answer whose body is over ``max_response_bytes`` (or
  streamed) is not stored; the record says so and a retry gets 409 explaining it.
- ``in_progress`` → absent: a 5xx, a 3xx, 408/429, or no answer at all (the connection cut, a
  timeout, the gateway's own error) releases the record, so the retry goes through again. A write
  that did land is then covered by the services' own idempotency (outbox, unique indexes).

A retry finds the record and gets: the stored answer plus ``Idempotent-Replayed: true`` (same
body), 422 (same key, different body), 409 with ``Retry-After`` (first still in progress), 409
(answer too large to keep). An ``in_progress`` record whose lease (``lease_s``) has passed belongs
to a gateway that died mid-request: the retry takes it over. An expired record (``expires`` in the
past: checked on read) is taken over the same way; old ones are removed by a periodic cleanup
(FerretDB 1.24 has no TTL indexes).

Stores: ``MongoIdempotencyStore`` (the gateway's own database, shared by all replicas) or
``MemoryIdempotencyStore`` (development without a store: one table per replica, so a retry is
recognised only by the replica that saw the first request).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = b"idempotent-replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# Response headers never replayed: the replay has its own request id and framing.
_NOT_STORED = frozenset({b"x-request-id", b"content-length", b"date", b"server"})


class BadKey(ValueError):
    """The ``Idempotency-Key`` field is not a valid key (answered 400)."""


def parse_key(values: list[bytes]) -> str:
    """The key carried by the ``Idempotency-Key`` field lines, or ``BadKey``.

    The draft makes the field a Structured Field Item of type String (RFC 8941): ``"..."`` of
    printable ASCII with ``\\"`` and ``\\\\`` escapes. Like Stripe-like APIs, a bare value of
    visible ASCII (no spaces, no quotes) is accepted too. One field line only; 1 to 255 characters.
    """
    if len(values) != 1:
        raise BadKey(f"send one {HEADER} field, not {len(values)}")
    raw = values[0].strip(b" \t")
    if raw[:1] == b'"':
        if len(raw) < 2 or raw[-1:] != b'"':
            raise BadKey(f"{HEADER} is a quoted string missing its closing quote")
        out = bytearray()
        i, inner = 0, raw[1:-1]
        while i < len(inner):
            c = inner[i]
            if c == 0x5C:  # backslash: only \" and \\ are escapes
                if i + 1 >= len(inner) or inner[i + 1] not in (0x22, 0x5C):
                    raise BadKey(f'{HEADER} has a bad escape (only \\" and \\\\)')
                out.append(inner[i + 1])
                i += 2
                continue
            if c == 0x22 or not 0x20 <= c <= 0x7E:
                raise BadKey(f"{HEADER} must be printable ASCII (an unescaped quote or control byte found)")
            out.append(c)
            i += 1
        key = out.decode("ascii")
    else:
        if any(not 0x21 <= c <= 0x7E or c == 0x22 for c in raw):
            raise BadKey(f'{HEADER} must be printable ASCII without spaces, or a quoted string ("...")')
        key = raw.decode("ascii")
    if not key:
        raise BadKey(f"{HEADER} is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise BadKey(f"{HEADER} is limited to {MAX_KEY_LENGTH} characters")
    return key


def record_id(subject: str, method: str, path: str, key: str) -> str:
    """The record's ``_id``: one per caller, method, path and key (never shared between callers)."""
    parts = "\x00".join((subject, method, path, key)).encode("utf-8", "surrogateescape")
    return hashlib.sha256(parts).hexdigest()


def fingerprint(body: bytes | None) -> str:
    """The request's fingerprint: a SHA-256 of its body (no body: that of the empty body)."""
    return hashlib.sha256(body or b"").hexdigest()


def is_final(status: int) -> bool:
    """An answer a retry must get again: 2xx, and 4xx except 408 and 429 (retry-later answers)."""
    return 200 <= status < 300 or (400 <= status < 500 and status not in (408, 429))


class State(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    DONE = "done"
    TOO_LARGE = "too_large"


@dataclass
class Record:
    id: str
    token: str  # the claim's own token: only its holder may finish or release it
    state: State
    fingerprint: str
    expires: datetime
    lease: datetime  # in_progress only: after this, the holder is presumed dead
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    settled: bool = False  # this replica's claim: finished or released (not stored)


class Verdict(enum.Enum):
    PROCEED = "proceed"  # no live record: forward (the claim is ours)
    REPLAY = "replay"
    MISMATCH = "mismatch"  # 422
    IN_PROGRESS = "in_progress"  # 409 + Retry-After
    TOO_LARGE = "too_large"  # 409


def decide(record: Record, fp: str, now: datetime) -> Verdict:
    """What a request with fingerprint ``fp`` gets when ``record`` exists under its key.

    PROCEED means the record is dead (expired, or an in-progress lease that ran out) and may be
    taken over.
    """
    if record.expires <= now:
        return Verdict.PROCEED
    if record.state is State.IN_PROGRESS and record.lease <= now:
        return Verdict.PROCEED
    if record.fingerprint != fp:
        return Verdict.MISMATCH
    if record.state is State.IN_PROGRESS:
        return Verdict.IN_PROGRESS
    if record.state is State.TOO_LARGE:
        return Verdict.TOO_LARGE
    return Verdict.REPLAY


def storable_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k not in _NOT_STORED]


class IdempotencyStore(Protocol):
    async def insert(self, record: Record) -> bool:
        """Insert ``record``; False when one with its ``_id`` exists (the lock was lost)."""

    async def get(self, rid: str) -> Record | None: ...

    async def take_over(self, old: Record, new: Record) -> bool:
        """Replace the dead ``old`` with ``new`` if ``old`` is still what is stored."""

    async def finish(self, record: Record) -> None:
        """Store the final state of ``record`` if its claim (token) still holds it."""

    async def release(self, rid: str, token: str) -> None: ...

    async def cleanup(self, now: datetime) -> int: ...


def new_token() -> str:
    return os.urandom(12).hex()


class Claims:
    """The gateway's use of a store: claim a key, then finish or release the claim."""

    def __init__(
        self,
        store: IdempotencyStore,
        ttl_s: float = 86_400,
        lease_s: float = 15,
        max_response_bytes: int = 65_536,
        shared: bool = True,
    ) -> None:
        self.store = store
        self.ttl = timedelta(seconds=ttl_s)
        self.lease = timedelta(seconds=lease_s)
        self.max_response_bytes = max_response_bytes
        self.shared = shared

    async def claim(self, rid: str, fp: str, now: datetime | None = None) -> tuple[Verdict, Record]:
        """(PROCEED, our claim) or (another verdict, the record found)."""
        now = now or datetime.now(UTC)
        mine = Record(rid, new_token(), State.IN_PROGRESS, fp, now + self.ttl, now + self.lease)
        for _ in range(5):
            if await self.store.insert(mine):
                return Verdict.PROCEED, mine
            found = await self.store.get(rid)
            if found is None:
                continue  # released or cleaned up meanwhile: insert again
            verdict = decide(found, fp, now)
            if verdict is not Verdict.PROCEED:
                return verdict, found
            if await self.store.take_over(found, mine):
                return Verdict.PROCEED, mine
        raise RuntimeError("idempotency record contended beyond retrying")

    async def settle(self, claim: Record, status: int, headers: list[tuple[bytes, bytes]], body: bytes | None) -> None:
        """The upstream answered ``status``: keep it if final (``body`` None: streamed, too large), else release."""
        if not is_final(status):
            await self.store.release(claim.id, claim.token)
            claim.settled = True
            return
        claim.status = status
        claim.headers = storable_headers(headers)
        if body is None or len(body) > self.max_response_bytes:
            claim.state, claim.body = State.TOO_LARGE, b""
        else:
            claim.state, claim.body = State.DONE, body
        await self.store.finish(claim)
        claim.settled = True

    async def release(self, claim: Record) -> None:
        await self.store.release(claim.id, claim.token)

    async def run_cleanup(self, every_s: float, stop: asyncio.Event) -> None:
        """Remove expired records every ``every_s`` until ``stop`` (errors logged, retried next time)."""
        while True:
            try:
                await asyncio.wait_for(stop.wait(), every_s)
                return
            except TimeoutError:
                pass
            try:
                removed = await self.store.cleanup(datetime.now(UTC))
                if removed:
                    log.info("idempotency: %d expired records removed", removed)
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.warning("idempotency: cleanup failed (%s)", exc)


class MemoryIdempotencyStore:
    """One replica's table (development without a store): retries are recognised by this replica only."""

    def __init__(self, max_records: int = 100_000) -> None:
        self.records: dict[str, Record] = {}
        self.max_records = max_records

    async def insert(self, record: Record) -> bool:
        if record.id in self.records:
            return False
        if len(self.records) >= self.max_records:
            await self.cleanup(datetime.now(UTC))
            while len(self.records) >= self.max_records:  # still full: the oldest go first (bounded memory)
                del self.records[next(iter(self.records))]
        self.records[record.id] = _copy(record)
        return True

    async def get(self, rid: str) -> Record | None:
        found = self.records.get(rid)
        return _copy(found) if found else None

    async def take_over(self, old: Record, new: Record) -> bool:
        current = self.records.get(old.id)
        if current is None or current.token != old.token:
            return False
        self.records[new.id] = _copy(new)
        return True

    async def finish(self, record: Record) -> None:
        current = self.records.get(record.id)
        if current is not None and current.token == record.token:
            self.records[record.id] = _copy(record)

    async def release(self, rid: str, token: str) -> None:
        current = self.records.get(rid)
        if current is not None and current.token == token:
            del self.records[rid]

    async def cleanup(self, now: datetime) -> int:
        dead = [rid for rid, r in self.records.items() if r.expires <= now]
        for rid in dead:
            del self.records[rid]
        return len(dead)


def _copy(record: Record) -> Record:
    return Record(**{**record.__dict__, "headers": list(record.headers)})


class MongoIdempotencyStore:
    """Records in the gateway's database (collection ``idempotency``), shared by every replica."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self.collection = collection

    @staticmethod
    def to_doc(record: Record) -> dict[str, Any]:
        return {
            "_id": record.id,
            "token": record.token,
            "state": record.state.value,
            "fp": record.fingerprint,
            "expires": record.expires,
            "lease": record.lease,
            "status": record.status,
            # {k, v} documents: FerretDB 1.24 stores no nested arrays.
            "headers": [{"k": k.decode("latin-1"), "v": v.decode("latin-1")} for k, v in record.headers],
            "body": record.body,
        }

    @staticmethod
    def from_doc(doc: dict[str, Any]) -> Record:
        return Record(
            id=doc["_id"],
            token=doc["token"],
            state=State(doc["state"]),
            fingerprint=doc["fp"],
            expires=_aware(doc["expires"]),
            lease=_aware(doc["lease"]),
            status=doc.get("status", 0),
            headers=[(h["k"].encode("latin-1"), h["v"].encode("latin-1")) for h in doc.get("headers", [])],
            body=bytes(doc.get("body", b"")),
        )

    async def insert(self, record: Record) -> bool:
        try:
            await self.collection.insert_one(self.to_doc(record))
        except DuplicateKeyError:
            return False
        return True

    async def get(self, rid: str) -> Record | None:
        doc = await self.collection.find_one({"_id": rid})
        return self.from_doc(doc) if doc else None

    async def take_over(self, old: Record, new: Record) -> bool:
        result = await self.collection.replace_one({"_id": old.id, "token": old.token}, self.to_doc(new))
        return result.matched_count == 1

    async def finish(self, record: Record) -> None:
        doc = self.to_doc(record)
        del doc["_id"]
        await self.collection.update_one({"_id": record.id, "token": record.token}, {"$set": doc})

    async def release(self, rid: str, token: str) -> None:
        await self.collection.delete_one({"_id": rid, "token": token})

    async def cleanup(self, now: datetime) -> int:
        result = await self.collection.delete_many({"expires": {"$lte": now}})
        return result.deleted_count


def _aware(value: datetime) -> datetime:
    """BSON dates come back naive (UTC) unless the client is tz-aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
