"""Issue 9: the council counted as staff everywhere. It approves projects and reads every
declaration; it does not declare patents or answer IPR calls on an organisation's behalf
(the secretariat may, for a member that asks it to)."""

# ruff: noqa: F811 (the imported `world` fixture is the tests' argument)

from __future__ import annotations

import pytest

from alliance_common.errors import Forbidden
from standards.domain.ipr import Commitment
from standards.service_layer.handlers import Declare

from .test_standards_use_cases import COUNCIL, ORGS, SECRETARIAT, World, to_ballot, world  # noqa: F401 (fixture)


async def test_the_council_acts_for_no_organisation(world: World) -> None:
    pid = await to_ballot(world)
    on_behalf = Declare(1, "CNIPA", "CN5005B", "LED package", None, Commitment.FRAND, ORGS["part"])
    with pytest.raises(Forbidden):  # the finding: council → accepted, as staff
        await world.service.declare(pid, on_behalf, COUNCIL)
    with pytest.raises(Forbidden):
        await world.service.answer_call(pid, "call-2", True, ORGS["part"], COUNCIL)
    assert await world.service.declarations(pid, COUNCIL) == []  # nothing was declared
    await world.service.declare(pid, on_behalf, SECRETARIAT)
    assert [d.number for d in await world.service.declarations(pid, COUNCIL)] == ["CN5005B"]  # it reads them all
