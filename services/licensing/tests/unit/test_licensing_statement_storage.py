"""A stored distribution keeps its statements' lines apart, in ``royalty_lines`` chunks: its own
document holds one statement per licensor and does not grow with the number of lines (in-memory
stores, no database)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal

import bson
import pytest

from alliance_common.errors import Conflict
from alliance_common.testing import InMemoryStore
from licensing.adapters.royalty_repository import (
    RoyaltyRepository,
    _share_row,
    decompress,
    distribution_documents,
    pack_rows,
    pack_texts,
    statement_rows,
)
from licensing.domain.distribution import CollectedLine, Distribution, distribute
from licensing.domain.patents import PatentOffice
from licensing.domain.royalties import Period

from .test_licensing_distribution import patent

Q1 = Period(2025, 1)
PATENT = patent("pat-cn", "org-1", PatentOffice.CN, number="CN1", family_id="F", title="LED")
PATENTS = [PATENT, dataclasses.replace(PATENT, id="pat-us", owner_id="org-2", office=PatentOffice.US, number="US1")]


def distribution(lines: int) -> Distribution:
    collected = [
        CollectedLine(f"RPT-{i // 100}#{i % 100 + 1}", "CN", ["US", "DE"][i % 2], date(2025, 3, 31), Decimal(i + 1))
        for i in range(lines)
    ]
    return distribute(Q1, collected, PATENTS, admin_fee_percent=Decimal(10))


def repository() -> tuple[RoyaltyRepository, InMemoryStore, InMemoryStore]:
    distributions, lines = InMemoryStore("distributions"), InMemoryStore("royalty_lines")
    return RoyaltyRepository(InMemoryStore("royalty_accounts"), distributions, lines), distributions, lines


def test_the_distribution_document_does_not_grow_with_the_number_of_lines() -> None:
    small, _ = distribution_documents("P:2025-Q1", "P", distribution(10))
    large, chunks = distribution_documents("P:2025-Q1", "P", distribution(20_000))
    assert all("lines" not in s for s in large["statements"])
    assert [s["body"]["count"] for s in large["statements"]] == [20_000, 10_000]  # org-1 every line, org-2 the US
    # The same statements (one per licensor); only the amounts' digits are longer.
    assert len(bson.encode(small)) < len(bson.encode(large)) < len(bson.encode(small)) + 100 < 1_000
    assert {c["distribution"] for _, c in chunks} == {"P:2025-Q1"}


def test_a_statements_lines_are_split_into_chunks_of_at_most_the_limit() -> None:
    document, chunks = distribution_documents("P:2025-Q1", "P", distribution(1_000), limit=20_000)
    counts = [s["body"]["chunks"] for s in document["statements"]]
    assert all(n > 1 for n in counts) and len(chunks) == sum(counts)
    assert all(len(decompress(c["rows"])) <= 20_000 for _, c in chunks)


async def test_a_distribution_is_read_back_with_every_statement_line_from_a_fresh_repository() -> None:
    repo, distributions, lines = repository()
    d = distribution(3_000)
    distribution_id = await repo.add_distribution("P", d)
    assert all("lines" not in s for s in distributions.docs[distribution_id].state["statements"])

    loaded = await RoyaltyRepository(InMemoryStore(), distributions, lines).distribution(distribution_id)
    assert loaded is not None and loaded["_id"] == "P:2025-Q1" and loaded["licensors"] == ["org-1", "org-2"]
    for stored, statement in zip(loaded["statements"], d.statements, strict=True):
        assert (stored["licensor_id"], stored["amount"], stored["exact"]) == (
            statement.licensor_id,
            str(statement.amount),
            str(statement.exact),
        )
        assert "body" not in stored
        assert [tuple(x.values()) for x in stored["lines"]] == [
            (
                x.ref,
                x.country_of_manufacture,
                x.country_of_sale,
                x.dated.isoformat(),
                str(x.collected),
                list(x.patent_ids),
                x.patents_counted,
                str(x.exact),
            )
            for x in statement.lines
        ]

    # A licensor's listing reads the statements without their lines; the secretariat's with them.
    mine = await repo.distributions_for("P", "org-2", None, 10, lines=False)
    assert [[len(s["lines"]) for s in doc["statements"]] for doc in mine] == [[0, 0]]
    every = await repo.distributions_for("P", None, None, 10)
    assert [[len(s["lines"]) for s in doc["statements"]] for doc in every] == [[3_000, 1_500]]


async def test_a_period_is_distributed_once_and_an_incomplete_statement_does_not_load() -> None:
    repo, distributions, lines = repository()
    distribution_id = await repo.add_distribution("P", distribution(5))
    chunks = dict(lines.docs)
    with pytest.raises(Conflict) as again:
        await repo.add_distribution("P", distribution(6))
    assert again.value.field == "period" and lines.docs.keys() == chunks.keys()  # nothing written

    del lines.docs[next(iter(chunks))]
    with pytest.raises(RuntimeError, match="chunks"):
        await repo.distribution(distribution_id)


async def test_a_distribution_stored_with_its_lines_embedded_still_loads() -> None:
    repo, distributions, _ = repository()
    document, _ = distribution_documents("P:2024-Q4", "P", distribution(2))
    embedded = {
        **document,
        "statements": [{k: v for k, v in s.items() if k != "body"} | {"lines": []} for s in document["statements"]],
    }
    await distributions.save("P:2024-Q4", 0, embedded)
    loaded = await repo.distribution("P:2024-Q4")
    assert loaded is not None and loaded["statements"] == embedded["statements"]


def test_statement_rows_are_each_line_shares_row() -> None:
    """The rows stored for a statement, made from its figures, are those of its ``LineShare``s, in order
    (amounts written as given: ``Decimal(3)`` and ``3.50`` alike; lines in two statements and sets of
    patents interleaved)."""
    more = [*PATENTS, dataclasses.replace(PATENT, id="pat-cn2", owner_id="org-2", number="CN2")]
    collected = [
        CollectedLine(f"L{i}", "CN", ["US", "CN", "DE"][i % 3], date(2025, 3, 31), amount)
        for i, amount in enumerate([Decimal(1), Decimal("3.50"), Decimal(7)] * 10)
    ]
    d = distribute(Q1, collected, more, admin_fee_percent=Decimal("7.5"))
    for statement in d.statements:
        assert statement.lines
        assert statement_rows(statement) == [_share_row(x) for x in statement.lines]


@pytest.mark.parametrize("limit", [2, 60, 200, 1_000, 10**6])
def test_rows_written_as_texts_pack_into_the_same_chunks(limit: int) -> None:
    rows = [
        [f"L{i}", "CN", "US", "2025-03-31", str(i * 7), ["pat-cn", "pat-us"][: i % 3], i % 5, f"{i}/7"]
        for i in range(50)
    ]
    texts = [json.dumps(row, separators=(",", ":")) for row in rows]
    for n in (0, 1, 2, 17, 50):
        assert pack_texts(texts[:n], limit) == pack_rows(rows[:n], limit)
