"""Issue 9: a licensor's statement showed every licensee's sales lines (reference, countries,
amounts). A licensor sees its own share and the pool's published aggregates; the sales lines
behind the shares are the secretariat's (and the council, which holds no licensor's seat in
distribution, reads no other company's sales either). Use cases on in-memory stores."""

# ruff: noqa: F811 (the imported `world` fixture is the tests' argument)

from __future__ import annotations

import json
from datetime import date

import pytest

from alliance_common.auth import Principal, Role

from .test_licensing_use_cases import (  # noqa: F401 (the fixture)
    NOW,
    Q1,
    SECRETARIAT,
    World,
    admin_of,
    licensee_of,
    lines,
    listed,
    programme_with_rates,
    world,
)

COUNCIL = Principal("council-1", frozenset({Role.COUNCIL}))


async def distributed(world: World) -> str:
    programme_id = await programme_with_rates(world)
    await listed(world, programme_id, "org-a", "CN100001B")
    await listed(world, programme_id, "org-b", "CN100002B")
    await world.royalties.sign_licence(programme_id, "acme", "Acme", date(2025, 1, 1), (), SECRETARIAT)
    _, report = await world.royalties.file(programme_id, Q1, lines(1000), licensee_of("acme"))
    await world.royalties.pay(report.id, report.total, NOW.date(), SECRETARIAT)
    await world.royalties.distribute(programme_id, Q1, SECRETARIAT)
    return programme_id


async def test_a_licensor_sees_its_share_and_the_aggregates_not_the_licensees_sales(world: World) -> None:
    programme_id = await distributed(world)
    staff = await world.royalties.statements_for(SECRETARIAT, programme_id)
    assert all(s["lines"] for s in staff[0]["statements"])  # the secretariat traces every share to its lines
    assert "acme" in json.dumps(staff, default=str)

    (seen,) = await world.royalties.statements_for(admin_of("org-a"), None)
    (own,) = seen["statements"]
    assert own["licensor_id"] == "org-a" and own["amount"] == staff[0]["statements"][0]["amount"]
    assert own["lines"] == []  # the finding: each line named the licensee, its countries and amounts
    for aggregate in ("collected", "admin_fee", "distributable"):
        assert seen[aggregate] == staff[0][aggregate]
    assert "acme" not in json.dumps(seen, default=str)


async def test_the_council_reads_no_licensees_sales_or_reports(world: World) -> None:
    await distributed(world)
    assert await world.royalties.statements_for(COUNCIL, None) == []
    reports, _ = await world.royalties.reports_for(COUNCIL, None)
    assert reports == []
    everything, _ = await world.royalties.reports_for(SECRETARIAT, None)
    assert len(everything) == 1
    with pytest.raises(Exception, match="not found"):
        await world.royalties.report_for(everything[0][1].id, COUNCIL)
