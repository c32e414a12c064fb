"""The filing particulars the national group-standard platform asks for: English title, ICS and CCS
codes, drafting persons, and the patent holders' names.

Formats are checked in the domain and by the request schemas (each refusal names its field); the
use cases run on in-memory repositories as ``bootstrap`` builds them, names coming from the
membership events standards already consumes.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from alliance_common.errors import InvalidInput
from alliance_common.problems import field_errors
from standards.domain.ballots import Position
from standards.domain.filing import (
    DraftingPerson,
    ccs_problem,
    check_ccs_code,
    check_drafters,
    check_english_title,
    check_ics_codes,
    ics_problem,
)
from standards.domain.ipr import Commitment
from standards.domain.lifecycle import Action
from standards.entrypoints.schemas import FilingPublic, ProjectCreate, TransitionBody
from standards.service_layer.handlers import Declare, Proposal

from .test_standards_use_cases import (
    AGENCY,
    ORGS,
    World,
    admitted,
    member,
    step,
    to_ballot,
)
from .test_standards_use_cases import world as world  # noqa: F401 (the fixture, under its own name)

# --- formats ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["31", "31.260", "33.160.01", "01.040.29", "99.999.99"])
def test_ics_codes_field_group_and_sub_group(code: str) -> None:
    assert ics_problem(code) is None


@pytest.mark.parametrize(
    "code", ["", "00", "3", "312.60", "31.26", "31.2600", "31.260.1", "31.260.01.05", "31.260.01-1", "31-260", "L51"]
)
def test_not_ics_codes(code: str) -> None:
    assert ics_problem(code) is not None and "ICS" in str(ics_problem(code))


@pytest.mark.parametrize("code", ["L51", "M36", "K74", "A00", "Z99", "H21"])
def test_ccs_codes_letter_and_two_digits(code: str) -> None:
    assert ccs_problem(code) is None


@pytest.mark.parametrize("code", ["", "I10", "O22", "l51", "L5", "L510", "51", "LL5", "L-51", "31.260"])
def test_not_ccs_codes(code: str) -> None:  # I and O are not CCS category letters
    assert ccs_problem(code) is not None


def test_the_domain_checks_name_the_field_and_the_position() -> None:
    with pytest.raises(InvalidInput) as bad:
        check_ics_codes(("31.260", "31.26"))
    assert bad.value.field == "ics_codes.1" and "33.160.01" in bad.value.detail
    with pytest.raises(InvalidInput) as twice:
        check_ics_codes(("31.260", "31.260"))
    assert twice.value.field == "ics_codes"
    with pytest.raises(InvalidInput) as ccs:
        check_ccs_code("I10")
    assert ccs.value.field == "ccs_code"
    with pytest.raises(InvalidInput) as title:
        check_english_title("道路照明用模块")
    assert title.value.field == "title_en"
    group = ["org-a", "org-b"]
    with pytest.raises(InvalidInput) as stranger:
        check_drafters((DraftingPerson("Chen Li", "org-a"), DraftingPerson("Wang Fang", "org-x")), group)
    assert stranger.value.field == "drafters.1.org_id"
    with pytest.raises(InvalidInput) as dup:
        check_drafters((DraftingPerson("Chen Li", "org-a"), DraftingPerson(" Chen Li ", "org-a")), group)
    assert dup.value.field == "drafters.1"


def fields_refused(model: Any, body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    return {e.field: e.reason for e in field_errors(list(refused.value.errors()))}


def test_the_request_schemas_refuse_bad_codes_naming_the_field_in_the_domains_words() -> None:
    proposal = {"title": "Lumen maintenance", "scope": "Test method for LED packages."}
    refused = fields_refused(ProjectCreate, {**proposal, "ics_codes": ["31.260", "3126"], "ccs_code": "O51"})
    assert set(refused) == {"ics_codes.1", "ccs_code"}
    assert "is not an ICS code" in refused["ics_codes.1"] and "is not a CCS code" in refused["ccs_code"]
    assert set(fields_refused(ProjectCreate, {**proposal, "title_en": "光通量维持"})) == {"title_en"}
    refused = fields_refused(TransitionBody, {"action": "publish", "drafters": [{"name": "", "org_id": "o"}]})
    assert set(refused) == {"drafters.0.name"}
    ok = ProjectCreate.model_validate({**proposal, "ics_codes": [" 31.260 "], "ccs_code": "L51"})
    assert (ok.ics_codes, ok.ccs_code) == (["31.260"], "L51")


def test_the_published_schema_states_the_formats() -> None:
    schema = ProjectCreate.model_json_schema()
    assert "pattern" in str(schema) and "[A-HJ-NP-Z]" in str(schema)


# --- the use cases ----------------------------------------------------------------------------------


async def published(w: World, **publish: Any) -> str:
    pid = await to_ballot(w)
    await w.service.declare(pid, Declare(1, "CNIPA", "CN1001B", "LED package", None, Commitment.FRAND), member("part"))
    for key in ("chair", "editor"):  # the participant answered call-2 by declaring
        await w.service.answer_call(pid, "call-2", True, None, member(key))
    for key in ("part", "v1", "v2"):
        await w.service.vote(pid, Position.APPROVE, None, member(key))
    await step(w, pid, Action.CLOSE_BALLOT_APPROVED)
    await step(w, pid, Action.PUBLISH, **publish)
    return pid


async def test_particulars_given_at_proposal_and_publication_reach_the_record_and_the_event(world: World) -> None:
    proposed = await world.service.propose(
        "道路照明用 LED 模块光通维持率",
        "Test method for LED street-lighting modules.",
        member("chair"),
        particulars=Proposal(title_en="Lumen maintenance of LED street-lighting modules", ics_codes=("29.140.99",)),
    )
    assert proposed.ics_codes == ["29.140.99"] and proposed.ccs_code is None
    (event,) = [e for e in world.published() if type(e).__name__ == "ProjectProposed"]
    assert event.model_dump()["title_en"] == "Lumen maintenance of LED street-lighting modules"

    pid = await published(
        world,
        ics_codes=("31.260", "29.140.99"),
        ccs_code="K74",
        drafters=(DraftingPerson("陈立", ORGS["chair"]), DraftingPerson("Zhou Min", ORGS["part"])),
    )
    project = await world.service.get(pid)
    record = FilingPublic.of(project, await world.service.organisation_names([project]))
    assert (record.ics_codes, record.ccs_code, record.missing) == (["31.260", "29.140.99"], "K74", ["title_en"])
    assert [(p.name, p.organisation) for p in record.drafting_persons] == [
        ("陈立", "Org chair"),
        ("Zhou Min", "Org part"),
    ]
    assert [(p.holder_id, p.holder_name) for p in record.patent_information] == [(ORGS["part"], "Org part")]
    assert [d.name for d in record.drafting_organisations] == ["Org chair", "Org editor"]

    # The title was given at proposal to another project: this one is filed with its English title.
    await step(world, pid, Action.FILE, registry_reference="440300-TB-2026-0017", title_en="Lumen maintenance")
    record = FilingPublic.of(await world.service.filing("T/LEDA 001\u20142026", AGENCY))
    assert record.title_en == "Lumen maintenance" and record.missing == []
    (standard,) = [e for e in world.published() if type(e).__name__ == "StandardPublished"]
    data = standard.model_dump()
    assert (data["ics_codes"], data["ccs_code"], data["title_en"]) == (["31.260", "29.140.99"], "K74", None)
    assert data["drafting_persons"] == [
        {"name": "陈立", "org_id": ORGS["chair"]},
        {"name": "Zhou Min", "org_id": ORGS["part"]},
    ]


async def test_drafting_persons_default_to_the_working_groups_chair_and_editors(world: World) -> None:
    pid = await published(world)  # the group names "Dr. Chen" for the chair, nobody for the editor
    project = await world.service.get(pid)
    assert [(p.name, p.org_id) for p in project.drafters] == [("Dr. Chen", ORGS["chair"])]
    assert FilingPublic.of(project).missing == ["title_en", "ics_codes", "ccs_code"]


async def test_bad_particulars_at_publication_change_nothing_and_take_no_number(world: World) -> None:
    pid = await to_ballot(world)
    for key in ("chair", "editor", "part"):
        await world.service.answer_call(pid, "call-2", True, None, member(key))
    for key in ("part", "v1", "v2"):
        await world.service.vote(pid, Position.APPROVE, None, member(key))
    await step(world, pid, Action.CLOSE_BALLOT_APPROVED)
    before = await world.service.get(pid)
    with pytest.raises(InvalidInput) as refused:
        await step(world, pid, Action.PUBLISH, ccs_code="O51")
    assert refused.value.field == "ccs_code"
    with pytest.raises(InvalidInput) as stranger:
        await step(world, pid, Action.PUBLISH, drafters=(DraftingPerson("Li Lei", ORGS["v1"]),))
    assert stranger.value.field == "drafters.0.org_id"
    after = await world.service.get(pid)
    assert after.version == before.version and after.standard_number is None
    assert "standard-numbers" not in world.counters.docs


async def test_names_are_read_from_standards_view_of_membership_when_the_record_is_read(world: World) -> None:
    pid = await published(world)
    project = await world.service.get(pid)
    unknown = FilingPublic.of(project)  # without the view: ids only, never a made-up name
    assert unknown.patent_information[0].holder_name is None
    await world.deliver(admitted(ORGS["part"], "Org part (renamed)"), ORGS["part"])  # membership states it anew
    names = await world.service.organisation_names([project])
    assert FilingPublic.of(project, names).patent_information[0].holder_name == "Org part (renamed)"
