"""Use cases of the patent pool: contribute patents, run programmes, evaluate submissions.

Who sees what: a member sees its own patents and submissions; an expert only the
submissions assigned to them (and those patents); the secretariat sees everything; every
signed-in user sees each programme's list of essential patents (no opaque pools).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from alliance_common.auth import Principal, Role, require_roles
from alliance_common.errors import Conflict, Forbidden, NotFound
from alliance_common.events import Envelope
from alliance_common.outbox import AlreadyExists
from alliance_contracts.standards import StandardPublished
from licensing.adapters.pool_repository import PoolRepository
from licensing.domain.patent_rights import (
    LIVE_CLAIMS,
    Claim,
    ClaimDecision,
    StatusReview,
    claims_on_decision,
    claims_on_registration,
    owner_may_set,
)
from licensing.domain.patents import ChainSegment, LegalStatus, Patent, PatentOffice
from licensing.domain.pool import Programme, Submission

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ContributePatent:
    office: PatentOffice
    number: str
    family_id: str
    title: str
    filing_date: date
    expiry_date: date
    status: LegalStatus
    segment: ChainSegment
    grant_date: date | None
    validated_in: frozenset[str]
    owner_id: str | None  # staff may register for a member; members contribute their own


class PoolService:
    def __init__(self, repo: PoolRepository, clock: Callable[[], datetime] = utcnow) -> None:
        self.repo = repo
        self.clock = clock

    async def contribute(self, cmd: ContributePatent, principal: Principal) -> Patent:
        """Register a patent. Another organisation's registration of the same number does not
        refuse it: both go to the secretariat's review (``patent_rights``), so whoever registered
        first cannot lock the real owner out."""
        if principal.is_secretariat:
            owner = cmd.owner_id or principal.org_id
        else:
            require_roles(principal, Role.MEMBER_ADMIN, Role.MEMBER_STAFF)
            if cmd.owner_id not in (None, principal.org_id):
                raise Forbidden("you may contribute only your own organisation's patents", field="owner_id")
            owner = principal.org_id
        if not owner:
            raise Forbidden("name the owning organisation", field="owner_id")
        live = await self._live_registrations(cmd.office, cmd.number)
        if any(p.owner_id == owner for p, _ in live.values()):
            raise Conflict(f"{cmd.office} {cmd.number} is registered by your organisation already", field="number")
        claim, others = claims_on_registration(owner, {rid: (p.owner_id, p.claim) for rid, (p, _) in live.items()})
        patent = Patent(
            id=str(uuid.uuid4()),
            owner_id=owner,
            office=cmd.office,
            number=cmd.number,
            family_id=cmd.family_id,
            title=cmd.title,
            filing_date=cmd.filing_date,
            expiry_date=cmd.expiry_date,
            status=cmd.status,
            segment=cmd.segment,
            grant_date=cmd.grant_date,
            validated_in=cmd.validated_in,
            claim=claim,
        )
        await self.repo.add_patent(patent)
        await self._set_claims(live, others)
        if claim is Claim.UNDISPUTED:
            # Two organisations registering the same number at once both saw none: the later check
            # sees both, and disputes them (each registration runs it after its own write).
            live = await self._live_registrations(cmd.office, cmd.number)
            if len({p.owner_id for p, _ in live.values()}) > 1 and not any(
                p.claim is Claim.CONFIRMED for p, _ in live.values()
            ):
                await self._set_claims(live, dict.fromkeys(live, Claim.DISPUTED))
                patent = replace(patent, claim=Claim.DISPUTED)
        return patent

    async def decide_claim(self, patent_id: str, decision: ClaimDecision, principal: Principal) -> Patent:
        """The secretariat settles who owns a disputed number: confirm this registration, or reject it."""
        require_roles(principal, Role.SECRETARIAT)
        patent = await self.repo.patent(patent_id)
        if patent is None:
            raise NotFound(f"patent {patent_id} not found")
        live = await self._live_registrations(patent.office, patent.number)
        if patent_id not in live:
            raise Conflict(f"this registration's claim was rejected already ({patent.claim})", field="decision")
        changes = claims_on_decision(patent_id, decision, {rid: (p.owner_id, p.claim) for rid, (p, _) in live.items()})
        await self._set_claims(live, changes)
        return replace(patent, claim=changes.get(patent_id, patent.claim))

    async def _live_registrations(self, office: PatentOffice | str, number: str) -> dict[str, tuple[Patent, int]]:
        found = await self.repo.registrations_of(office, number)
        return {p.id: (p, version) for p, version in found if p.claim in LIVE_CLAIMS}

    async def _set_claims(self, live: dict[str, tuple[Patent, int]], claims: dict[str, Claim]) -> None:
        for rid, claim in claims.items():
            patent, version = live[rid]
            if patent.claim is not claim:
                await self.repo.update_patent(replace(patent, claim=claim), version, status_changed=False)

    async def for_review(self, principal: Principal, cursor: str | None, limit: int) -> list[Patent]:
        """Disputed claims and owners' status requests: the secretariat's review list (staff read it)."""
        if not principal.is_staff:
            raise Forbidden("the review list is for the secretariat and the council")
        return await self.repo.patents_for_review(cursor, limit)

    async def patent_for(self, patent_id: str, principal: Principal) -> Patent:
        patent = await self.repo.patent(patent_id)
        if patent is None or not (
            principal.can_access_org(patent.owner_id) or await self._evaluates(principal, patent)
        ):
            raise NotFound(f"patent {patent_id} not found")
        return patent

    async def patents_for(self, principal: Principal, cursor: str | None, limit: int) -> list[Patent]:
        owner = None if principal.is_staff else principal.org_id or ""
        return await self.repo.patents_of(owner, cursor, limit)

    async def end_patent(
        self, patent_id: str, status: LegalStatus, ended_on: date | None, principal: Principal
    ) -> Patent:
        """Record a legal status: the secretariat any; the owner only the end of its own patent's
        force (``patent_rights.OWNER_REPORTS``), so it can never undo an invalidation."""
        patent, version = await self._status_target(patent_id, principal)
        if not principal.is_secretariat and not owner_may_set(patent.status, status):
            raise Forbidden(
                f"only the secretariat changes a {patent.status} patent to {status} (it alone records an "
                "invalidation or reverses an end of force); ask for it with evidence: POST "
                f"/patents/{patent_id}/legal-status-review",
                field="status",
            )
        review = None if principal.is_secretariat else patent.review  # the secretariat's word settles a request
        updated = replace(patent, status=status, ended_on=ended_on, review=review)  # the domain validates it
        await self.repo.update_patent(updated, version)
        return updated

    async def request_status_review(
        self, patent_id: str, status: LegalStatus, ended_on: date | None, evidence: str, principal: Principal
    ) -> Patent:
        """The owner asks the secretariat for a status it may not set itself; nothing changes until decided."""
        patent, version = await self._status_target(patent_id, principal)
        replace(patent, status=status, ended_on=ended_on)  # the combination must be valid (the domain checks)
        review = StatusReview(str(status), ended_on, evidence, principal.subject, self.clock().date())
        updated = replace(patent, review=review)
        await self.repo.update_patent(updated, version, status_changed=False)
        return updated

    async def decide_status_review(self, patent_id: str, approve: bool, principal: Principal) -> Patent:
        """The secretariat approves (the requested status is recorded) or rejects an owner's request."""
        require_roles(principal, Role.SECRETARIAT)
        found = await self.repo.patent_with_version(patent_id)
        if found is None:
            raise NotFound(f"patent {patent_id} not found")
        patent, version = found
        if patent.review is None:
            raise Conflict("this patent has no status request to decide", field="approve")
        if not approve:
            updated = replace(patent, review=None)
            await self.repo.update_patent(updated, version, status_changed=False)
            return updated
        asked = patent.review
        updated = replace(patent, status=LegalStatus(asked.status), ended_on=asked.ended_on, review=None)
        await self.repo.update_patent(updated, version)
        return updated

    async def _status_target(self, patent_id: str, principal: Principal) -> tuple[Patent, int]:
        """The patent whose status ``principal`` may record: the secretariat's, or its owner's people's."""
        found = await self.repo.patent_with_version(patent_id)
        if found is None or not principal.can_access_org(found[0].owner_id):
            raise NotFound(f"patent {patent_id} not found")
        if not principal.is_secretariat:
            require_roles(principal, Role.MEMBER_ADMIN, Role.MEMBER_STAFF)
            if not principal.may_act_for(found[0].owner_id):
                raise Forbidden("only the secretariat or the owner records a patent's legal status")
        return found

    async def on_standard_published(self, envelope: Envelope, event: StandardPublished) -> None:
        """A published standard opens its pool programme; its declared patents are submitted.

        Idempotent by construction: the programme's and each submission's ids derive from the
        standard and the patent, so a redelivered event finds them and changes nothing.
        """
        today = self.clock().date()
        programme_id = f"PRG-{event.project_id}"
        programme = await self.repo.programme(programme_id)
        if programme is None:
            programme = Programme.create(
                id=programme_id,
                name=f"{event.number} patent pool",
                standard_ref=event.number,
                description=f"Essential patents of {event.number} {event.title}",
                on=today,
            )
            try:
                await self.repo.add_programme(programme)
            except AlreadyExists:
                pass
        for declared in event.declarations:
            if declared.commitment == "unwilling":
                continue  # a holder unwilling to license keeps its patent out of the pool
            patent = await self.repo.patent_by_number(declared.office, declared.number)
            if patent is None or patent.owner_id != declared.holder_id:
                log.info(
                    "declared patent %s %s is not registered by its holder; not submitted",
                    declared.office,
                    declared.number,
                )
                continue
            if await self.repo.submission(Submission.id_for(patent.id, programme_id)) is not None:
                continue
            try:
                await self.repo.save_submission(Submission.submit(patent, programme, "standards-publication", today))
            except Conflict:
                log.info("patent %s could not be submitted to %s", patent.number, programme_id)

    async def create_programme(self, name: str, standard_ref: str, description: str, principal: Principal) -> Programme:
        require_roles(principal, Role.SECRETARIAT)
        programme = Programme.create(
            id=str(uuid.uuid4()),
            name=name,
            standard_ref=standard_ref,
            description=description,
            on=self.clock().date(),
        )
        await self.repo.add_programme(programme)
        return programme

    async def programme(self, programme_id: str) -> Programme:
        programme = await self.repo.programme(programme_id)
        if programme is None:
            raise NotFound(f"programme {programme_id} not found")
        return programme

    async def programmes(self, cursor: str | None, limit: int) -> list[Programme]:
        return await self.repo.list_programmes(cursor, limit)

    async def listed_patents(self, programme_id: str, cursor: str | None, limit: int) -> list[Patent]:
        """The programme's essential patents: open to every licensee and member."""
        await self.programme(programme_id)
        essential = await self.repo.essential_submissions(programme_id, cursor, limit)
        ids = [s.patent_id for s in essential]
        found = {p.id: p for p in await self.repo.patents_by_id(ids)}
        return [found[i] for i in ids if i in found]

    async def submit(self, programme_id: str, patent_id: str, principal: Principal) -> Submission:
        programme = await self.programme(programme_id)
        patent = await self.repo.patent(patent_id)
        if patent is None or not principal.can_access_org(patent.owner_id):
            raise NotFound(f"patent {patent_id} not found")
        if not principal.may_act_for(patent.owner_id):
            raise Forbidden("only the secretariat or the owner submits a patent")
        if patent.claim not in (Claim.UNDISPUTED, Claim.CONFIRMED):
            raise Conflict(f"this registration's ownership is {patent.claim}: the secretariat decides first")
        submission = Submission.submit(patent, programme, principal.subject, self.clock().date())
        await self.repo.save_submission(submission)
        return submission

    async def assign(
        self, submission_id: str, evaluator_id: str, evaluator_org_id: str | None, principal: Principal
    ) -> Submission:
        require_roles(principal, Role.SECRETARIAT)
        submission, patent = await self._open(submission_id)
        submission.assign(patent, evaluator_id, evaluator_org_id, self.clock().date())
        await self.repo.save_submission(submission)
        return submission

    async def record(self, submission_id: str, result: str, reason: str, principal: Principal) -> Submission:
        require_roles(principal, Role.EXPERT)
        submission, patent = await self._open(submission_id)
        if submission.assignment is None or submission.assignment.evaluator_id != principal.subject:
            raise NotFound(f"submission {submission_id} not found")  # not assigned to you
        submission.record(patent, principal.subject, principal.org_id, result, reason, self.clock().date())
        await self.repo.save_submission(submission)
        return submission

    async def submissions_for(
        self, principal: Principal, programme_id: str | None, cursor: str | None, limit: int
    ) -> list[Submission]:
        programme = programme_id or None
        if principal.is_staff:
            return await self.repo.submissions_where(programme_id=programme, cursor=cursor, limit=limit)
        if principal.has_any(Role.EXPERT):
            return await self.repo.submissions_where(
                programme_id=programme, evaluator_id=principal.subject, cursor=cursor, limit=limit
            )
        return await self.repo.submissions_where(
            programme_id=programme, owner_id=principal.org_id or "", cursor=cursor, limit=limit
        )

    async def submission_for(self, submission_id: str, principal: Principal) -> Submission:
        submission = await self.repo.submission(submission_id)
        visible = submission is not None and (
            principal.can_access_org(submission.owner_id)
            or (submission.assignment is not None and submission.assignment.evaluator_id == principal.subject)
        )
        if submission is None or not visible:
            raise NotFound(f"submission {submission_id} not found")
        return submission

    async def _open(self, submission_id: str) -> tuple[Submission, Patent]:
        submission = await self.repo.submission(submission_id)
        patent = await self.repo.patent(submission.patent_id) if submission else None
        if submission is None or patent is None:
            raise NotFound(f"submission {submission_id} not found")
        return submission, patent

    async def _evaluates(self, principal: Principal, patent: Patent) -> bool:
        if not principal.has_any(Role.EXPERT):
            return False
        return await self.repo.evaluates(principal.subject, patent.id)
