# ruff: noqa: F811 (the `world` fixture, imported, is each test's argument)
"""Who may change a patent's legal status, and who owns a number two organisations registered.

Issue 9's findings, each shown on the use cases with in-memory stores (a refusal changes nothing):
- the owner could undo the secretariat's invalidation (now: only the secretariat reverses it; the
  owner asks with evidence, and the request waits for the secretariat);
- the first organisation to register a patent number locked the real owner out (now: the second
  registration is accepted and both go to the secretariat's review, which settles it).
"""

from __future__ import annotations

from datetime import date

import pytest

from alliance_common.auth import Principal, Role
from alliance_common.errors import Conflict, Forbidden, NotFound
from alliance_common.outbox import Loaded
from alliance_contracts import licensing as contracts
from licensing.adapters.pool_repository import Patents
from licensing.domain.patent_rights import Claim, ClaimDecision, claims_on_decision, claims_on_registration
from licensing.domain.patents import LegalStatus, Patent

from .test_licensing_use_cases import SECRETARIAT, World, admin_of, patent_of, world  # noqa: F401 (the fixture)

COUNCIL = Principal("council-1", frozenset({Role.COUNCIL}))


def staff_of(org: str) -> Principal:
    return Principal(f"eng@{org}.example", frozenset({Role.MEMBER_STAFF}), org_id=org)


# --- legal status ---------------------------------------------------------------------------------


async def test_the_owner_cannot_undo_the_secretariats_invalidation(world: World) -> None:
    patent = await world.pool.contribute(patent_of("org-a", "CN100001B"), admin_of("org-a"))
    invalidated = await world.pool.end_patent(patent.id, LegalStatus.INVALIDATED, date(2025, 3, 1), SECRETARIAT)
    assert invalidated.status is LegalStatus.INVALIDATED
    before = len(world.published("patents"))

    with pytest.raises(Forbidden):  # the finding: member_staff set granted → 200
        await world.pool.end_patent(patent.id, LegalStatus.GRANTED, None, staff_of("org-a"))
    with pytest.raises(Forbidden):
        await world.pool.end_patent(patent.id, LegalStatus.GRANTED, None, admin_of("org-a"))
    unchanged = await world.pool.patent_for(patent.id, SECRETARIAT)
    assert (unchanged.status, unchanged.ended_on) == (LegalStatus.INVALIDATED, date(2025, 3, 1))
    assert len(world.published("patents")) == before

    # Only the secretariat reverses it.
    restored = await world.pool.end_patent(patent.id, LegalStatus.GRANTED, None, SECRETARIAT)
    assert restored.status is LegalStatus.GRANTED


async def test_only_the_secretariat_invalidates_and_the_owner_records_only_an_end_of_force(world: World) -> None:
    patent = await world.pool.contribute(patent_of("org-a", "CN100001B"), admin_of("org-a"))
    with pytest.raises(Forbidden):
        await world.pool.end_patent(patent.id, LegalStatus.INVALIDATED, date(2025, 3, 1), admin_of("org-a"))
    with pytest.raises(Forbidden):  # the council decides; it does not keep the register
        await world.pool.end_patent(patent.id, LegalStatus.INVALIDATED, date(2025, 3, 1), COUNCIL)
    with pytest.raises(NotFound):  # another member does not even see it
        await world.pool.end_patent(patent.id, LegalStatus.LAPSED, date(2025, 3, 1), admin_of("org-b"))
    lapsed = await world.pool.end_patent(patent.id, LegalStatus.LAPSED, date(2025, 3, 1), staff_of("org-a"))
    assert lapsed.status is LegalStatus.LAPSED
    assert isinstance(world.published("patents")[-1], contracts.PatentLegalStatusChanged)
    with pytest.raises(Forbidden):  # and it cannot revive it either
        await world.pool.end_patent(patent.id, LegalStatus.GRANTED, None, admin_of("org-a"))


async def test_the_owner_asks_with_evidence_and_the_secretariat_decides(world: World) -> None:
    patent = await world.pool.contribute(patent_of("org-a", "CN100001B"), admin_of("org-a"))
    await world.pool.end_patent(patent.id, LegalStatus.INVALIDATED, date(2025, 3, 1), SECRETARIAT)
    events = len(world.published("patents"))

    asked = await world.pool.request_status_review(
        patent.id,
        LegalStatus.GRANTED,
        None,
        "Court of appeal reversed the invalidation: (2025) Jing 73",
        admin_of("org-a"),
    )
    assert asked.status is LegalStatus.INVALIDATED  # nothing changes until the secretariat decides
    assert asked.review is not None and asked.review.status == "granted"
    assert len(world.published("patents")) == events  # a request is no status change
    assert [p.id for p in await world.pool.for_review(SECRETARIAT, None, 50)] == [patent.id]
    with pytest.raises(Forbidden):
        await world.pool.for_review(admin_of("org-a"), None, 50)
    with pytest.raises(Forbidden):
        await world.pool.decide_status_review(patent.id, True, admin_of("org-a"))

    approved = await world.pool.decide_status_review(patent.id, True, SECRETARIAT)
    assert (approved.status, approved.ended_on, approved.review) == (LegalStatus.GRANTED, None, None)
    assert isinstance(world.published("patents")[-1], contracts.PatentLegalStatusChanged)
    assert await world.pool.for_review(SECRETARIAT, None, 50) == []

    await world.pool.request_status_review(
        patent.id,
        LegalStatus.INVALIDATED,
        date(2025, 4, 1),
        "Office decision 2025-117 (we report it)",
        admin_of("org-a"),
    )
    rejected = await world.pool.decide_status_review(patent.id, False, SECRETARIAT)
    assert (rejected.status, rejected.review) == (LegalStatus.GRANTED, None)
    with pytest.raises(Conflict):
        await world.pool.decide_status_review(patent.id, True, SECRETARIAT)


# --- ownership claims -----------------------------------------------------------------------------


async def test_registering_anothers_number_first_does_not_lock_the_owner_out(world: World) -> None:
    programme = await world.pool.create_programme("LED pool", "T/LEDA 1", "d", SECRETARIAT)
    squatter = await world.pool.contribute(patent_of("org-x", "CN100001B"), admin_of("org-x"))
    assert squatter.claim is Claim.UNDISPUTED

    # The finding: the real owner's registration answered 409. Now it is recorded, and disputed.
    owner = await world.pool.contribute(patent_of("org-a", "CN100001B"), admin_of("org-a"))
    assert owner.claim is Claim.DISPUTED
    assert (await world.pool.patent_for(squatter.id, SECRETARIAT)).claim is Claim.DISPUTED
    with pytest.raises(Conflict):  # a disputed registration cannot enter a pool
        await world.pool.submit(programme.id, squatter.id, admin_of("org-x"))
    with pytest.raises(Conflict):  # its own number twice is still one registration
        await world.pool.contribute(patent_of("org-a", "CN100001B"), admin_of("org-a"))
    assert {p.id for p in await world.pool.for_review(COUNCIL, None, 50)} == {squatter.id, owner.id}
    with pytest.raises(Forbidden):  # the secretariat settles it, not the council nor a member
        await world.pool.decide_claim(owner.id, ClaimDecision.CONFIRM, COUNCIL)

    confirmed = await world.pool.decide_claim(owner.id, ClaimDecision.CONFIRM, SECRETARIAT)
    assert confirmed.claim is Claim.CONFIRMED
    assert (await world.pool.patent_for(squatter.id, SECRETARIAT)).claim is Claim.REJECTED
    assert await world.pool.for_review(SECRETARIAT, None, 50) == []
    submission = await world.pool.submit(programme.id, owner.id, admin_of("org-a"))
    assert submission.owner_id == "org-a"

    # A later claim against the confirmed owner goes to review alone: the owner keeps its patent.
    again = await world.pool.contribute(patent_of("org-y", "CN100001B"), admin_of("org-y"))
    assert again.claim is Claim.DISPUTED
    assert (await world.pool.patent_for(owner.id, SECRETARIAT)).claim is Claim.CONFIRMED


async def test_rejecting_the_only_rival_leaves_the_other_undisputed(world: World) -> None:
    first = await world.pool.contribute(patent_of("org-a", "CN100001B"), admin_of("org-a"))
    rival = await world.pool.contribute(patent_of("org-x", "CN100001B"), admin_of("org-x"))
    await world.pool.decide_claim(rival.id, ClaimDecision.REJECT, SECRETARIAT)
    assert (await world.pool.patent_for(first.id, SECRETARIAT)).claim is Claim.UNDISPUTED
    with pytest.raises(Conflict):  # decided once
        await world.pool.decide_claim(rival.id, ClaimDecision.CONFIRM, SECRETARIAT)


def test_the_claim_rules() -> None:
    assert claims_on_registration("a", {}) == (Claim.UNDISPUTED, {})
    assert claims_on_registration("a", {"p1": ("b", Claim.UNDISPUTED)}) == (Claim.DISPUTED, {"p1": Claim.DISPUTED})
    assert claims_on_registration("a", {"p1": ("b", Claim.CONFIRMED)}) == (Claim.DISPUTED, {})
    live = {"p1": ("a", Claim.DISPUTED), "p2": ("b", Claim.DISPUTED), "p3": ("c", Claim.DISPUTED)}
    assert claims_on_decision("p2", ClaimDecision.CONFIRM, live) == {
        "p1": Claim.REJECTED,
        "p2": Claim.CONFIRMED,
        "p3": Claim.REJECTED,
    }
    assert claims_on_decision("p2", ClaimDecision.REJECT, live) == {"p2": Claim.REJECTED}  # two rivals remain
    assert claims_on_decision("p2", ClaimDecision.REJECT, {k: live[k] for k in ("p1", "p2")}) == {
        "p2": Claim.REJECTED,
        "p1": Claim.UNDISPUTED,
    }


def test_a_patent_document_written_before_claims_loads_undisputed() -> None:
    cmd = patent_of("org-a", "CN100001B")
    patent = Patent(
        id="p-1",
        owner_id="org-a",
        office=cmd.office,
        number=cmd.number,
        family_id=cmd.family_id,
        title=cmd.title,
        filing_date=cmd.filing_date,
        expiry_date=cmd.expiry_date,
        status=cmd.status,
        segment=cmd.segment,
        grant_date=cmd.grant_date,
    )
    doc = Patents.to_document(patent)
    del doc["claim"], doc["review"]
    loaded = Patents.from_document(Loaded(id=patent.id, version=1, state=doc, applied_events=()))
    assert loaded == patent and (loaded.claim, loaded.review) == (Claim.UNDISPUTED, None)
