"""Issue 9, on membership's use cases (in-memory repositories): who may do what, and credit codes.

- The council counted as staff everywhere: it could manage any organisation's users and record
  its withdrawal. It decides (admits, expels); the secretariat and the organisation's own admin
  run the organisation's account.
- Anyone signed in could apply with another company's credit code, and the unique code then
  blocked the real company for ever. Now the real company's application is accepted too; both
  are flagged for the secretariat's review, visible to staff, and one organisation is admitted
  per code.
"""

from __future__ import annotations

import pytest

from alliance_common.errors import Conflict, Forbidden
from alliance_common.testing import InMemoryStore
from membership.domain.model import ApplicationStatus, CouncilDecision, OrgUser, ReviewDecision, UserRole
from membership.domain.standing import MembershipStatus
from membership.service_layer.handlers import MembershipService

from .test_membership_use_cases import (  # noqa: F401 (fixtures)
    COUNCIL,
    SECRETARIAT,
    admitted_member,
    applicant,
    application,
    service,
    store,
)

# ruff: noqa: F811 (the imported fixtures are the tests' arguments)


async def test_the_council_does_not_manage_an_organisations_users_or_withdraw_it(service: MembershipService) -> None:
    org = await admitted_member(service, 1)
    user = OrgUser("new@example.com", "New", "new@example.com", UserRole.MEMBER_ADMIN)
    with pytest.raises(Forbidden):  # the finding: council → 200
        await service.add_user(org.id, user, COUNCIL)
    with pytest.raises(Forbidden):
        await service.remove_user(org.id, "p1@example.com", COUNCIL)
    with pytest.raises(Forbidden):
        await service.withdraw(org.id, "the council wants it out", COUNCIL)
    unchanged = await service.repo.get(org.id)
    assert unchanged is not None and [u.subject for u in unchanged.users] == ["p1@example.com"]
    assert unchanged.standing is MembershipStatus.NEW

    # What the council is for: it reads every organisation, and it expels (not the secretariat).
    assert (await service.get_for(org.id, COUNCIL)).id == org.id
    with pytest.raises(Forbidden):
        await service.expel(org.id, "misconduct", SECRETARIAT)
    assert (await service.expel(org.id, "misconduct", COUNCIL)).standing is MembershipStatus.EXPELLED
    # The secretariat still runs accounts.
    other = await admitted_member(service, 2)
    assert len((await service.add_user(other.id, user, SECRETARIAT)).users) == 2


async def test_another_companys_credit_code_does_not_lock_the_company_out(
    service: MembershipService, store: InMemoryStore
) -> None:
    code = application(7)
    squatter = await service.apply(code, applicant("squatter@example.com"))
    assert not squatter.credit_code_conflict

    # The finding: the real company's application answered 409 for ever. Now it is filed, flagged.
    real = await service.apply(code, applicant("ip@real-company.example"))
    assert real.credit_code_conflict and real.status is ApplicationStatus.SUBMITTED
    flagged = await service.repo.get(squatter.id)
    assert flagged is not None and flagged.credit_code_conflict
    assert {o.id for o in await service.list_for(SECRETARIAT, None, 50, None, conflicts_only=True)} == {
        squatter.id,
        real.id,
    }
    assert {o.id for o in await service.list_for(COUNCIL, None, 50, None, conflicts_only=True)} == {
        squatter.id,
        real.id,
    }
    with pytest.raises(Forbidden):
        await service.list_for(applicant("ip@real-company.example"), None, 50, None, conflicts_only=True)
    with pytest.raises(Conflict):  # one open application per person and code
        await service.apply(code, applicant("squatter@example.com"))

    # The secretariat checks: rejects the squatter, accepts the company; the council admits it.
    await service.review(squatter.id, ReviewDecision.REJECT, "not the company of this code", SECRETARIAT)
    accepted = await service.review(real.id, ReviewDecision.ACCEPT, None, SECRETARIAT)
    assert not accepted.credit_code_conflict
    admitted = await service.decide(real.id, CouncilDecision.ADMIT, None, COUNCIL)
    assert admitted.status is ApplicationStatus.ADMITTED
    assert await service.list_for(SECRETARIAT, None, 50, None, conflicts_only=True) == []

    # A later claim to the admitted member's code is filed and flagged, and cannot be admitted.
    late = await service.apply(code, applicant("another@example.com"))
    assert late.credit_code_conflict
    member = await service.repo.get(real.id)
    assert member is not None and not member.credit_code_conflict  # the member is not unsettled
    with pytest.raises(Conflict):
        await service.review(late.id, ReviewDecision.ACCEPT, None, SECRETARIAT)


async def test_two_admitted_organisations_never_share_a_credit_code(service: MembershipService) -> None:
    code = application(8)
    first = await service.apply(code, applicant("a@example.com"))
    second = await service.apply(code, applicant("b@example.com"))
    await service.review(first.id, ReviewDecision.ACCEPT, None, SECRETARIAT)
    await service.review(second.id, ReviewDecision.ACCEPT, None, SECRETARIAT)  # before either was admitted
    await service.decide(first.id, CouncilDecision.ADMIT, None, COUNCIL)
    with pytest.raises(Conflict):
        await service.decide(second.id, CouncilDecision.ADMIT, None, COUNCIL)
    # Once the holder is gone, the code is free again.
    await service.expel(first.id, "not the company", COUNCIL)
    assert (await service.decide(second.id, CouncilDecision.ADMIT, None, COUNCIL)).status is ApplicationStatus.ADMITTED
