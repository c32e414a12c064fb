"""The royalty repository keeps each filed report's lines (its body) in ``royalty_lines``, named by
a content digest, and the account names it (in-memory stores, no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from alliance_common.mongo import Document
from alliance_common.outbox import ConcurrencyConflict
from alliance_common.testing import InMemoryStore
from licensing.adapters.royalty_repository import RoyaltyRepository
from licensing.domain import limits
from licensing.domain.accounts import RoyaltyAccount
from licensing.domain.patents import PatentOffice
from licensing.domain.royalties import Period, RateSchedule, ReportLine, RoyaltyReport, Tier

from .test_licensing_distribution import patent

Q1, Q2 = Period(2024, 1), Period(2024, 2)
SCHEDULE = RateSchedule(programme="P", categories={"lamp": (Tier(None, Decimal("0.10"), Decimal("0.08")),)})
PATENT = patent("pat-cn", "org-1", PatentOffice.CN, number="CN1", family_id="F", title="LED")


def stores() -> tuple[InMemoryStore, InMemoryStore, InMemoryStore]:
    return InMemoryStore("royalty_accounts"), InMemoryStore("distributions"), InMemoryStore("royalty_lines")


def file(account: RoyaltyAccount, period: Period, units: list[int]) -> None:
    lines = tuple(ReportLine("lamp", u, "CN", ["US", "IN", "DE"][i % 3], period) for i, u in enumerate(units))
    account.file(
        f"{account.id}~{period}",
        RoyaltyReport(account.licensee_id, period, lines),
        SCHEDULE,
        [PATENT],
        member_in_good_standing=True,
        today=date(2024, 10, 20),
    )


async def test_an_account_is_saved_with_its_bodies_apart_and_loads_whole() -> None:
    accounts, distributions, lines = stores()
    repo = RoyaltyRepository(accounts, distributions, lines)
    account = RoyaltyAccount("P:acme", "P", "acme")
    file(account, Q1, list(range(1, limits.REPORT_LINES_MAX + 1)))
    file(account, Q2, [7, 8])
    await repo.save_account(account)

    stored = accounts.docs["P:acme"].state
    assert all("lines" not in r and "collected" not in r for r in stored["reports"])
    keys = [r["body"]["key"] for r in stored["reports"]]
    assert {c.state["body"] for c in lines.docs.values()} == set(keys)
    assert {c.state["account"] for c in lines.docs.values()} == {"P:acme"}
    # A fresh repository (another process) reads the account and every line back.
    loaded = await RoyaltyRepository(accounts, distributions, lines).account("P:acme")
    assert loaded == account
    assert [len(r.lines) for r in loaded.reports] == [limits.REPORT_LINES_MAX, 2]
    assert loaded.reports[0].lines[-1].units == limits.REPORT_LINES_MAX


class CountingStore(InMemoryStore):
    """Counts the writes (chunk inserts) it receives."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.writes = 0

    async def save(self, doc_id: str, expected_version: int, state: Document, *args: Any, **kwargs: Any) -> int:
        self.writes += 1
        return await super().save(doc_id, expected_version, state, *args, **kwargs)


async def test_a_later_save_neither_encodes_nor_writes_the_bodies_again() -> None:
    accounts, distributions, lines = InMemoryStore("royalty_accounts"), InMemoryStore(), CountingStore("lines")
    account = RoyaltyAccount("P:acme", "P", "acme")
    file(account, Q1, [10, 20, 30])
    repo = RoyaltyRepository(accounts, distributions, lines)
    await repo.save_account(account)
    assert lines.writes == 2  # one chunk of lines, one of collected lines
    chunks = dict(lines.docs)

    account.pay("P:acme~2024-Q1", Decimal("1.00"), date(2024, 10, 21), Decimal("8"))
    await repo.save_account(account)  # the same repository: it wrote these lines
    for _ in range(2):  # another repository (process): it loaded them
        other = RoyaltyRepository(accounts, distributions, lines)
        loaded = await other.account("P:acme")
        assert loaded is not None
        loaded.pay("P:acme~2024-Q1", Decimal("1.00"), date(2024, 10, 21), Decimal("8"))
        await other.save_account(loaded)
    assert lines.writes == 2
    assert accounts.docs["P:acme"].version == 4

    # Lines it did not load or write (here: the same content, other tuples) are encoded and written
    # again; the store refuses the chunks as present (same ids), and nothing changes.
    repo = RoyaltyRepository(accounts, distributions, lines)
    loaded = await repo.account("P:acme")
    assert loaded is not None
    loaded.reports[0].lines = tuple(x for x in loaded.reports[0].lines)
    await repo.save_account(loaded)
    assert lines.writes == 4
    assert lines.docs.keys() == chunks.keys() and all(lines.docs[k].version == 1 for k in chunks)
    back = await RoyaltyRepository(accounts, distributions, lines).account("P:acme")
    assert back == loaded


async def test_a_filing_that_loses_the_race_leaves_the_winners_lines() -> None:
    accounts, distributions, lines = stores()
    first = RoyaltyRepository(accounts, distributions, lines)
    account = RoyaltyAccount("P:acme", "P", "acme")
    file(account, Q1, [1])
    await first.save_account(account)

    mine = await first.account("P:acme")
    theirs = await RoyaltyRepository(accounts, distributions, lines).account("P:acme")
    assert mine is not None and theirs is not None
    file(theirs, Q2, [5, 6])
    await RoyaltyRepository(accounts, distributions, lines).save_account(theirs)
    file(mine, Q2, [900, 901, 902])
    with pytest.raises(ConcurrencyConflict):
        await first.save_account(mine)

    loaded = await first.account("P:acme")
    assert loaded is not None
    assert [x.units for x in loaded.reports[1].lines] == [5, 6]
    assert loaded == theirs


async def test_an_account_whose_body_is_incomplete_does_not_load() -> None:
    accounts, distributions, lines = stores()
    account = RoyaltyAccount("P:acme", "P", "acme")
    file(account, Q1, [1, 2])
    await RoyaltyRepository(accounts, distributions, lines).save_account(account)
    del lines.docs[next(k for k in lines.docs if "/collected/" in k)]
    with pytest.raises(RuntimeError, match="collected chunks"):
        await RoyaltyRepository(accounts, distributions, lines).account("P:acme")
