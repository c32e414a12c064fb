"""Royalty accounts and distributions in MongoDB. Money as decimal strings, exact shares as "n/d".

No nested arrays: FerretDB 1.x (like some MongoDB-wire stores) refuses them.

A filed report's lines are its body: up to ``limits.REPORT_LINES_MAX`` (1,000) priced lines (each
with the steps that explain it) and as many collected lines. They are not embedded in the account document as one
sub-document per line: the store (FerretDB 1.x) turns every stored value into BSON on each read,
at ~43 µs of CPU per embedded line, and an account holding a large licensee's year would near
MongoDB's 16 MiB document limit. Instead each list is kept as compact JSON text (one array per
line, fields by position, money as decimal strings) split into chunks of at most ``CHUNK_CHARS``
characters, each compressed (zlib, in base64: a priced line repeats its patents' numbers in its
steps, ~2.8 KB of JSON that compresses ~10x) into one document of ``royalty_lines``. The account's
report names its body by a content digest (``body``), so a body once written never changes and a
filing that loses a race leaves, at worst, a body nothing names (``bench/README.md``, royalties,
has the layouts measured). A distribution's statements keep their lines the same way
(``distribution_documents``): the distribution document holds one statement per licensor.
"""

from __future__ import annotations

import base64
import hashlib
import json
import weakref
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
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
from licensing.domain.accounts import ExplainedLine, ExplainedStep, FiledReport, RoyaltyAccount
from licensing.domain.distribution import CollectedLine, Distribution, LineShare, Statement, distributed
from licensing.domain.groups import LicenseeGroup
from licensing.domain.royalties import Period

_ACCOUNT: TypeAdapter[RoyaltyAccount] = TypeAdapter(RoyaltyAccount)
_BODY_FIELDS = {"lines", "collected"}  # a filed report's body: kept in ``royalty_lines``

# JSON text per chunk (ASCII, so bytes) before compression: a chunk document stays under ~5.4 MB
# (base64 of 4 MB) even if nothing compressed, far below the 16 MiB limit.
CHUNK_CHARS = 4_000_000


def pack_rows(rows: Sequence[Sequence[Any]], limit: int = CHUNK_CHARS) -> list[str]:
    """``rows`` (JSON-compatible arrays) as compact JSON text, in order, split into chunks of at most
    ``limit`` characters each (a single row longer than that gets a chunk of its own)."""
    text = json.dumps(rows, separators=(",", ":"))
    if len(text) <= limit or len(rows) <= 1:
        return [text]
    size = -(-len(rows) // (len(text) // limit + 1))  # rows per chunk if every row were as long
    return [chunk for i in range(0, len(rows), size) for chunk in pack_rows(rows[i : i + size], limit)]


def unpack_rows(chunks: Iterable[str]) -> list[Any]:
    """The rows of ``pack_rows``' chunks, in order."""
    return [row for chunk in chunks for row in json.loads(chunk)]


def compress(text: str) -> str:
    """A chunk as stored: zlib (level 1) in base64, a string any store (and the in-memory fake) keeps."""
    return base64.b64encode(zlib.compress(text.encode(), 1)).decode("ascii")


def decompress(stored: str) -> str:
    return zlib.decompress(base64.b64decode(stored)).decode()


def _line_row(x: ExplainedLine) -> list[Any]:
    steps = [[s.rule, s.detail, str(s.amount)] for s in x.steps]
    return [
        x.index,
        x.product_category,
        x.units,
        x.country_of_manufacture,
        x.country_of_sale,
        x.period,
        str(x.amount),
        list(x.covered_by),
        steps,
    ]


def _line(r: list[Any]) -> ExplainedLine:
    steps = tuple(ExplainedStep(rule, detail, Decimal(amount)) for rule, detail, amount in r[8])
    return ExplainedLine(r[0], r[1], r[2], r[3], r[4], r[5], Decimal(r[6]), tuple(r[7]), steps)


def _collected_row(c: CollectedLine) -> list[Any]:
    return [c.ref, c.country_of_manufacture, c.country_of_sale, c.dated.isoformat(), str(c.amount)]


def _collected(r: list[Any]) -> CollectedLine:
    return CollectedLine(r[0], r[1], r[2], date.fromisoformat(r[3]), Decimal(r[4]))


_PARTS: dict[str, tuple[Callable[[Any], list[Any]], Callable[[list[Any]], Any]]] = {
    "lines": (_line_row, _line),
    "collected": (_collected_row, _collected),
}


def report_body(
    account_id: str, report: FiledReport, limit: int = CHUNK_CHARS
) -> tuple[Document, list[tuple[str, Document]]]:
    """A filed report's body as chunk documents (id, state) of ``royalty_lines``, and the reference
    its account keeps. Both are named by a digest of the content: the same body, the same ids."""
    packed = {
        part: pack_rows([encode(x) for x in getattr(report, part)], limit) for part, (encode, _) in _PARTS.items()
    }
    digest = hashlib.sha256("\n".join(c for chunks in packed.values() for c in chunks).encode()).hexdigest()[:24]
    key = f"{report.id}@{digest}"
    ref: Document = {"key": key, "count": len(report.lines)} | {part: len(chunks) for part, chunks in packed.items()}
    docs = [
        (f"{key}/{part}/{n}", {"account": account_id, "body": key, "part": part, "n": n, "rows": compress(text)})
        for part, chunks in packed.items()
        for n, text in enumerate(chunks)
    ]
    return ref, docs


def _body(ref: Document, chunks: Iterable[Document]) -> dict[str, tuple[Any, ...]]:
    """A report's lines and collected lines from the chunks of its body (checked complete)."""
    texts: dict[str, dict[int, str]] = {part: {} for part in _PARTS}
    for c in chunks:
        if c.get("body") == ref["key"]:
            texts[c["part"]][int(c["n"])] = c["rows"]
    body: dict[str, tuple[Any, ...]] = {}
    for part, (_, decode) in _PARTS.items():
        if sorted(texts[part]) != list(range(ref[part])):
            raise RuntimeError(f"report body {ref['key']}: {part} chunks {sorted(texts[part])} of {ref[part]} stored")
        body[part] = tuple(map(decode, unpack_rows(decompress(texts[part][n]) for n in range(ref[part]))))
    if len(body["lines"]) != ref["count"]:
        raise RuntimeError(f"report body {ref['key']}: {len(body['lines'])} lines of {ref['count']}")
    return body


def account_documents(a: RoyaltyAccount) -> tuple[Document, list[tuple[str, Document]]]:
    """The account's document and the chunk documents (id, state) of all its reports' bodies."""
    bodies = {r.id: report_body(a.id, r) for r in a.reports}
    chunks = [chunk for _, docs in bodies.values() for chunk in docs]
    return account_to_document(a, {report_id: ref for report_id, (ref, _) in bodies.items()}), chunks


def account_to_document(a: RoyaltyAccount, bodies: Mapping[str, Document]) -> Document:
    """The ``TypeAdapter`` dump with each report's period as written ("2025-Q1", as stored before
    it), plus the periods and filers for queries; each report's body (lines and collected lines) is
    the reference ``bodies`` gives for its id (``report_body``), not the lines themselves."""
    exclude: dict[str, Any] = {"id": True, "version": True, "events": True, "reports": {"__all__": _BODY_FIELDS}}
    doc: Document = _ACCOUNT.dump_python(a, mode="json", exclude=exclude)
    for r in doc["reports"]:
        r["period"] = f"{r['period']['year']}-Q{r['period']['quarter']}"
        r["body"] = bodies[r["id"]]
    # Denormalised for queries: which periods this account reported, and who filed.
    doc["periods"] = [r["period"] for r in doc["reports"]]
    doc["filers"] = sorted({r["filed_by"] for r in doc["reports"]})
    return doc


def account_from_document(doc_id: str, version: int, d: Document, chunks: Iterable[Document] = ()) -> RoyaltyAccount:
    """The account of ``d``, each report's body read from ``chunks`` (the account's documents in
    ``royalty_lines``); a report stored with its lines embedded (before bodies moved out) loads too."""
    chunks = list(chunks)
    reports = [
        {
            **{k: v for k, v in r.items() if k != "body"},
            **(_body(r["body"], chunks) if "body" in r else {}),
            "period": Period.parse(r["period"]),
            "filed_by": r.get("filed_by") or d["licensee_id"],  # none before subsidiaries filed
        }
        for r in d["reports"]
    ]
    state = {k: v for k, v in d.items() if k not in ("periods", "filers")}
    return _ACCOUNT.validate_python({**state, "reports": reports, "id": doc_id, "version": version})


def _share_row(x: LineShare) -> list[Any]:
    return [
        x.ref,
        x.country_of_manufacture,
        x.country_of_sale,
        x.dated.isoformat(),
        str(x.collected),
        list(x.patent_ids),
        x.patents_counted,
        str(x.exact),
    ]


def statement_texts(statement: Statement) -> list[str]:
    """The statement's lines as JSON rows (``_share_row`` of each ``LineShare``, as ``pack_rows``
    writes it), made from the statement's figures (``Statement.share_groups``) without a ``LineShare``,
    a ``Fraction`` or a list per line: each line's own columns are written once per line, whichever
    statements it is in, and each set of patents once per group."""
    lines = statement.split.lines
    heads = _line_heads(statement)
    texts: list[str] = []
    positions: list[int] = []
    groups = statement.share_groups()
    for group in groups:
        tail = f"{json.dumps(list(group.patent_ids), separators=(',', ':'))},{group.patents_counted},"
        for p, n, d in zip(group.positions, group.numerators, group.denominators, strict=True):
            head = heads[p]
            if head is None:
                line = lines[p]
                head = heads[p] = (
                    f"[{json.dumps(line.ref)},{json.dumps(line.country_of_manufacture)},"
                    f'{json.dumps(line.country_of_sale)},"{line.dated.isoformat()}","{line.amount}",'
                )
            texts.append(f'{head}{tail}"{n}/{d}"]' if d != 1 else f'{head}{tail}"{n}"]')
        positions += group.positions
    if len(groups) > 1:  # each group's lines are in order: merge them
        order = sorted(range(len(positions)), key=positions.__getitem__)
        texts = [texts[i] for i in order]
    return texts


def statement_rows(statement: Statement) -> list[list[Any]]:
    """The rows ``statement_texts`` writes, decoded (for reading and tests)."""
    return [json.loads(text) for text in statement_texts(statement)]


# Each distribution's lines' own columns as JSON (by position), shared by its statements while it lives.
_HEADS: weakref.WeakKeyDictionary[object, list[str | None]] = weakref.WeakKeyDictionary()


def _line_heads(statement: Statement) -> list[str | None]:
    split = statement.split
    found = _HEADS.get(split)
    if found is None:
        found = _HEADS[split] = [None] * len(split.lines)
    return found


def pack_texts(rows: Sequence[str], limit: int = CHUNK_CHARS) -> list[str]:
    """``pack_rows`` of rows already written as compact JSON (``rows[i]`` is ``json.dumps(row_i,
    separators=(",", ":"))``): the same chunks."""
    text = f"[{','.join(rows)}]"
    if len(text) <= limit or len(rows) <= 1:
        return [text]
    size = -(-len(rows) // (len(text) // limit + 1))  # rows per chunk if every row were as long
    return [chunk for i in range(0, len(rows), size) for chunk in pack_texts(rows[i : i + size], limit)]


_SHARE_FIELDS = ("ref", "country_of_manufacture", "country_of_sale", "dated", "collected", "patent_ids")


def _share(r: list[Any]) -> Document:
    """A statement line as a distribution's reader gets it (as it was stored embedded before)."""
    return {**dict(zip(_SHARE_FIELDS, r[:6], strict=True)), "patents_counted": r[6], "exact": r[7]}


def distribution_documents(
    distribution_id: str, programme_id: str, d: Distribution, limit: int = CHUNK_CHARS
) -> tuple[Document, list[tuple[str, Document]]]:
    """The distribution's document and the chunk documents (id, state) of its statements' lines.

    A distribution has one statement line per collected line and licensor with a patent counted for
    it: that grows with the period's lines (every licensee's report), so the lines are not embedded.
    Each statement's lines are kept as the reports' bodies are (``pack_rows``, compressed, in
    ``royalty_lines``, each chunk naming its ``distribution``), and the statement names them by a
    digest (``body``: key, line count, chunk count). The document holds one statement per licensor,
    a few hundred bytes each, whatever the number of lines."""
    rows = [statement_texts(s) for s in d.statements]
    packed = [pack_texts(r, limit) for r in rows]
    digest = hashlib.sha256("\n".join(c for chunks in packed for c in chunks).encode()).hexdigest()[:24]
    statements: list[Document] = []
    docs: list[tuple[str, Document]] = []
    for s, chunks, lines in zip(d.statements, packed, rows, strict=True):
        key = f"{distribution_id}/{s.licensor_id}@{digest}"
        statements.append(
            {
                "licensor_id": s.licensor_id,
                "amount": str(s.amount),
                "exact": str(s.exact),
                "floor": str(s.floor),
                "extra_cent": s.extra_cent,
                "body": {"key": key, "count": len(lines), "chunks": len(chunks)},
            }
        )
        docs += [
            (f"{key}/{n}", {"distribution": distribution_id, "body": key, "n": n, "rows": compress(text)})
            for n, text in enumerate(chunks)
        ]
    document: Document = {
        "programme_id": programme_id,
        "period": str(d.period),
        "collected": str(d.collected),
        "admin_fee_percent": str(d.admin_fee_percent),
        "admin_fee": str(d.admin_fee),
        "distributable": str(d.distributable),
        "statements": statements,
        "licensors": [s.licensor_id for s in d.statements],  # for "my statements" queries
    }
    return document, docs


def statements_with_lines(doc: Document, chunks: Iterable[Document]) -> list[Document]:
    """The statements of a distribution's document, each with its lines read from ``chunks`` (checked
    complete); a statement stored with its lines embedded (before they moved out) is kept as it is."""
    texts: dict[str, dict[int, str]] = {}
    for c in chunks:
        texts.setdefault(c["body"], {})[int(c["n"])] = c["rows"]
    statements: list[Document] = []
    for s in doc["statements"]:
        if "body" not in s:
            statements.append(s)
            continue
        ref, stored = s["body"], texts.get(s["body"]["key"], {})
        if sorted(stored) != list(range(ref["chunks"])):
            raise RuntimeError(f"statement {ref['key']}: chunks {sorted(stored)} of {ref['chunks']} stored")
        lines = [_share(r) for r in unpack_rows(decompress(stored[n]) for n in range(ref["chunks"]))]
        if len(lines) != ref["count"]:
            raise RuntimeError(f"statement {ref['key']}: {len(lines)} lines of {ref['count']}")
        statements.append({k: v for k, v in s.items() if k != "body"} | {"lines": lines})
    return statements


def exact(text: str) -> Fraction:
    return Fraction(text)


@dataclass(frozen=True)
class _Known:
    """A report whose body is stored as ``ref``, while it holds these very line tuples."""

    report: weakref.ref[FiledReport]
    lines: tuple[ExplainedLine, ...]
    collected: tuple[CollectedLine, ...]
    ref: Document


class RoyaltyRepository:
    """Royalty accounts (``accounts``; their reports' bodies in ``lines``) and distributions."""

    def __init__(
        self,
        accounts: AggregateStore | DocumentStore,
        distributions: AggregateStore | DocumentStore,
        lines: AggregateStore | DocumentStore,
    ) -> None:
        self.accounts = _documents(accounts)
        self.distributions = _documents(distributions)
        self.lines = _documents(lines)
        # Reports (by object) whose body is known to be stored: loaded, or saved, by this repository.
        self._known: dict[int, _Known] = {}

    async def ensure_indexes(self) -> None:
        await self.accounts.create_index([("programme_id", ASCENDING), ("periods", ASCENDING)])
        await self.accounts.create_index([("licensee_id", ASCENDING)])
        await self.distributions.create_index([("licensors", ASCENDING)])
        await self.lines.create_index([("account", ASCENDING)])
        await self.lines.create_index([("distribution", ASCENDING)])

    async def account(self, account_id: str) -> RoyaltyAccount | None:
        loaded = await self.accounts.get(account_id)
        return await self._account(loaded) if loaded else None

    async def save_account(self, account: RoyaltyAccount) -> None:
        """The reports' bodies not stored yet first, then the account that names them (one versioned
        write with its events): a reader never finds a report whose body is missing."""
        bodies: dict[str, Document] = {}
        for report in account.reports:
            ref = self._stored_body(report)
            if ref is None:  # a report filed since the account was loaded (or stored embedded before)
                ref, chunks = report_body(account.id, report)
                for chunk_id, chunk in chunks:
                    try:
                        await self.lines.save(chunk_id, 0, chunk)
                    except AlreadyExists:
                        pass  # the same content (its id is its digest): written by an earlier attempt
                self._remember(report, ref)
            bodies[report.id] = ref
        events = [e for e in map(INTEGRATION_EVENTS, account.events) if e is not None]
        account.version = await self.accounts.save(
            account.id, account.version, account_to_document(account, bodies), events
        )
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
        return [await self._account(d) for d in await self.accounts.find(query, limit=limit)]

    async def accounts_reporting(self, programme_id: str, period: Period) -> list[RoyaltyAccount]:
        """Every account of the programme with a report for ``period``."""
        found = await self.accounts.find({"programme_id": programme_id, "periods": str(period)}, limit=0)
        return [await self._account(d) for d in found]

    async def _account(self, loaded: Loaded) -> RoyaltyAccount:
        """The account with its reports' bodies (one query for all of them, by account)."""
        refs = {r["id"]: r["body"] for r in loaded.state["reports"] if "body" in r}
        chunks = [c.state for c in await self.lines.find({"account": loaded.id}, limit=0)] if refs else []
        account = account_from_document(loaded.id, loaded.version, loaded.state, chunks)
        for report in account.reports:
            if report.id in refs:
                self._remember(report, refs[report.id])
        return account

    def _stored_body(self, report: FiledReport) -> Document | None:
        """The reference of ``report``'s body if this repository loaded or wrote exactly these lines."""
        known = self._known.get(id(report))
        if known and known.report() is report and known.lines is report.lines and known.collected is report.collected:
            return known.ref
        return None

    def _remember(self, report: FiledReport, ref: Document) -> None:
        """Saving ``report`` again need not encode its body (~90 µs a priced line) while it holds the
        same line tuples; the entry goes when the report does (it holds them anyway)."""
        key = id(report)

        def forget(dead: weakref.ref[FiledReport]) -> None:
            known = self._known.get(key)
            if known is not None and known.report is dead:
                del self._known[key]

        self._known[key] = _Known(weakref.ref(report, forget), report.lines, report.collected, ref)

    async def add_distribution(self, programme_id: str, distribution: Distribution) -> str:
        """The statements' lines first (chunks named by digest), then the distribution that names them
        (written once, with its event): a reader never finds a statement whose lines are missing."""
        distribution_id = f"{programme_id}:{distribution.period}"
        if await self.distributions.get(distribution_id) is not None:
            raise Conflict(f"{distribution.period} is distributed already for this programme", field="period")
        document, chunks = distribution_documents(distribution_id, programme_id, distribution)
        for chunk_id, chunk in chunks:
            try:
                await self.lines.save(chunk_id, 0, chunk)
            except AlreadyExists:
                pass  # the same content (its id is its digest): written by an earlier attempt
        event = INTEGRATION_EVENTS(distributed(distribution_id, programme_id, distribution))
        try:
            await self.distributions.save(distribution_id, 0, document, [event] if event is not None else [])
        except AlreadyExists as exc:
            raise Conflict(f"{distribution.period} is distributed already for this programme", field="period") from exc
        return distribution_id

    async def distribution(self, distribution_id: str) -> Document | None:
        """The distribution with every statement's lines."""
        loaded = await self.distributions.get(distribution_id)
        if loaded is None:
            return None
        return {"_id": loaded.id, "version": loaded.version, **await self._with_lines(loaded.id, loaded.state)}

    async def distributions_for(
        self, programme_id: str | None, licensor_id: str | None, cursor: str | None, limit: int, *, lines: bool = True
    ) -> list[Document]:
        """Distributions (of ``programme_id``; with ``licensor_id``, those sharing to it), in id order;
        with ``lines``, each statement with its lines (else without them: not read)."""
        query: dict[str, Any] = {"programme_id": programme_id} if programme_id else {}
        if licensor_id is not None:
            query["licensors"] = licensor_id
        found = await self.distributions.find(after_filter(query, cursor), limit=limit)
        if not lines:
            return [
                {"_id": d.id, "version": d.version, **d.state, "statements": _without_lines(d.state)} for d in found
            ]
        return [{"_id": d.id, "version": d.version, **await self._with_lines(d.id, d.state)} for d in found]

    async def _with_lines(self, distribution_id: str, state: Document) -> Document:
        """``state`` with its statements' lines (one query for all their chunks, by distribution)."""
        chunks: list[Document] = []
        if any("body" in s for s in state["statements"]):
            chunks = [c.state for c in await self.lines.find({"distribution": distribution_id}, limit=0)]
        return {**state, "statements": statements_with_lines(state, chunks)}


def _without_lines(state: Document) -> list[Document]:
    return [{k: v for k, v in s.items() if k not in ("body", "lines")} | {"lines": []} for s in state["statements"]]


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
