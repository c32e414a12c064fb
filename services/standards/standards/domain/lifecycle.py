"""A standards project's life: ONE explicit transition table.

``TRANSITIONS[(stage, action)]`` gives the next stage, who may take the action and the guard
that must hold. Any (stage, action) pair not in the table is forbidden (409 naming the
stage); an actor not listed is refused (403); a failing guard says why (409, or 422 naming
the missing field). Plain Python, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from alliance_common.errors import Conflict, Forbidden, InvalidInput

if TYPE_CHECKING:
    from standards.domain.model import Project, TransitionContext


class Stage(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"  # the council approved the proposal
    WORKING_GROUP = "working_group"  # the working group is formed
    WORKING_DRAFT = "working_draft"
    COMMITTEE_DRAFT = "committee_draft"
    PUBLIC_COMMENT = "public_comment"
    BALLOT = "ballot"
    APPROVED = "approved"
    PUBLISHED = "published"
    FILED = "filed"  # filed with the government group-standards registry
    UNDER_REVIEW = "under_review"  # periodic review
    CONFIRMED = "confirmed"
    REVISED = "revised"  # a revision project replaces it
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    ABANDONED = "abandoned"


class Action(StrEnum):
    APPROVE_PROPOSAL = "approve_proposal"
    REJECT_PROPOSAL = "reject_proposal"
    FORM_WORKING_GROUP = "form_working_group"
    START_DRAFTING = "start_drafting"
    SUBMIT_COMMITTEE_DRAFT = "submit_committee_draft"
    OPEN_PUBLIC_COMMENT = "open_public_comment"
    REPEAT_PUBLIC_COMMENT = "repeat_public_comment"
    OPEN_BALLOT = "open_ballot"
    CLOSE_BALLOT_APPROVED = "close_ballot_approved"
    CLOSE_BALLOT_FAILED = "close_ballot_failed"
    REPEAT_BALLOT = "repeat_ballot"
    PUBLISH = "publish"
    FILE = "file"
    START_REVIEW = "start_review"
    CONFIRM = "confirm"
    REVISE = "revise"
    WITHDRAW = "withdraw"
    BACK = "back"  # send the project back one stage
    ABANDON = "abandon"


class Actor(StrEnum):
    """Who takes an action: platform roles and the project's own roles."""

    COUNCIL = "council"
    SECRETARIAT = "secretariat"
    CHAIR = "chair"  # the working group chair's organisation
    EDITOR = "editor"
    SYSTEM = "system"  # the periodic review job


Guard = Callable[["Project", "TransitionContext"], None]


@dataclass(frozen=True)
class Transition:
    target: Stage
    actors: frozenset[Actor]
    guard: Guard | None = None
    reason_required: bool = False
    description: str = ""


# --- guards: raise when the project is not ready for the action ------------------------------


def working_group_complete(project: Project, ctx: TransitionContext) -> None:
    if project.chair_org is None:
        raise Conflict("the working group needs a chair before it is formed", field="working_group")
    if not project.editor_orgs:
        raise Conflict("the working group needs at least one editor before it is formed", field="working_group")


def has_draft(project: Project, ctx: TransitionContext) -> None:
    if not project.drafts:
        raise Conflict("a committee draft needs at least one working draft version", field="drafts")


def comment_period_over(project: Project, ctx: TransitionContext) -> None:
    period = project.current_comment_period
    if period is None or ctx.now < period.closes_at:
        closes = period.closes_at.isoformat() if period else "never opened"
        raise Conflict(f"the public comment period is still open (closes {closes})", field="comment_period")


def comments_disposed(project: Project, ctx: TransitionContext) -> None:
    comment_period_over(project, ctx)
    open_comments = [c.id for c in project.comments if c.disposition is None]
    if open_comments:
        raise Conflict(
            f"every comment needs a disposition first; undisposed: {', '.join(open_comments)}", field="comments"
        )


def ballot_passes(project: Project, ctx: TransitionContext) -> None:
    ballot = project.current_ballot
    if ballot is None:
        raise Conflict("there is no ballot", field="ballot")
    tally = ballot.tally()
    if not tally.can_pass:
        raise Conflict(
            f"the ballot cannot close as approved: {tally.explain()}",
            field="ballot",
        )
    if ctx.now < ballot.closes_at and not ballot.all_voted:
        raise Conflict(
            f"the ballot window is open until {ballot.closes_at.isoformat()} and not every eligible member has voted",
            field="ballot",
        )


def ballot_failed(project: Project, ctx: TransitionContext) -> None:
    ballot = project.current_ballot
    if ballot is None:
        raise Conflict("there is no ballot", field="ballot")
    if ctx.now < ballot.closes_at and not ballot.all_voted:
        raise Conflict(f"the ballot window is open until {ballot.closes_at.isoformat()}", field="ballot")
    if ballot.tally().can_pass:
        raise Conflict("the ballot has the positions to pass; close it as approved", field="ballot")


def ballot_window_over(project: Project, ctx: TransitionContext) -> None:
    ballot_failed(project, ctx)


def ipr_calls_answered(project: Project, ctx: TransitionContext) -> None:
    for call in project.calls:
        missing = call.unanswered()
        if missing and ctx.now >= call.deadline:
            raise Conflict(
                f"IPR call {call.id} is unanswered past its deadline by: {', '.join(missing)}", field="ipr_calls"
            )


def registry_reference_given(project: Project, ctx: TransitionContext) -> None:
    if not ctx.options.registry_reference:
        raise InvalidInput("filing needs the registry's reference", field="registry_reference")


# --- the table -------------------------------------------------------------------------------

_STAFF = frozenset({Actor.SECRETARIAT, Actor.COUNCIL})
_SEC = frozenset({Actor.SECRETARIAT})
_COUNCIL = frozenset({Actor.COUNCIL})
_SEC_CHAIR = frozenset({Actor.SECRETARIAT, Actor.CHAIR})
_REVIEW = frozenset({Actor.SECRETARIAT, Actor.COUNCIL, Actor.SYSTEM})

ABANDON = Transition(Stage.ABANDONED, _STAFF, reason_required=True, description="abandon the project")

TRANSITIONS: dict[tuple[Stage, Action], Transition] = {
    (Stage.PROPOSED, Action.APPROVE_PROPOSAL): Transition(Stage.ACCEPTED, _COUNCIL, description="council approval"),
    (Stage.PROPOSED, Action.REJECT_PROPOSAL): Transition(Stage.REJECTED, _COUNCIL, reason_required=True),
    (Stage.PROPOSED, Action.ABANDON): ABANDON,
    (Stage.ACCEPTED, Action.FORM_WORKING_GROUP): Transition(Stage.WORKING_GROUP, _STAFF, working_group_complete),
    (Stage.ACCEPTED, Action.ABANDON): ABANDON,
    (Stage.WORKING_GROUP, Action.START_DRAFTING): Transition(Stage.WORKING_DRAFT, _SEC_CHAIR),
    (Stage.WORKING_GROUP, Action.BACK): Transition(Stage.ACCEPTED, _SEC, reason_required=True),
    (Stage.WORKING_GROUP, Action.ABANDON): ABANDON,
    (Stage.WORKING_DRAFT, Action.SUBMIT_COMMITTEE_DRAFT): Transition(
        Stage.COMMITTEE_DRAFT, _SEC_CHAIR, has_draft, description="also issues a call for IPR declarations"
    ),
    (Stage.WORKING_DRAFT, Action.BACK): Transition(Stage.WORKING_GROUP, _SEC_CHAIR, reason_required=True),
    (Stage.WORKING_DRAFT, Action.ABANDON): ABANDON,
    (Stage.COMMITTEE_DRAFT, Action.OPEN_PUBLIC_COMMENT): Transition(Stage.PUBLIC_COMMENT, _SEC, has_draft),
    (Stage.COMMITTEE_DRAFT, Action.BACK): Transition(Stage.WORKING_DRAFT, _SEC_CHAIR, reason_required=True),
    (Stage.COMMITTEE_DRAFT, Action.ABANDON): ABANDON,
    (Stage.PUBLIC_COMMENT, Action.OPEN_BALLOT): Transition(
        Stage.BALLOT, _SEC, comments_disposed, description="also issues the pre-ballot call for IPR declarations"
    ),
    (Stage.PUBLIC_COMMENT, Action.REPEAT_PUBLIC_COMMENT): Transition(
        Stage.PUBLIC_COMMENT, _SEC, comment_period_over, reason_required=True
    ),
    (Stage.PUBLIC_COMMENT, Action.BACK): Transition(Stage.COMMITTEE_DRAFT, _SEC_CHAIR, reason_required=True),
    (Stage.PUBLIC_COMMENT, Action.ABANDON): ABANDON,
    (Stage.BALLOT, Action.CLOSE_BALLOT_APPROVED): Transition(Stage.APPROVED, _SEC, ballot_passes),
    (Stage.BALLOT, Action.CLOSE_BALLOT_FAILED): Transition(Stage.COMMITTEE_DRAFT, _SEC, ballot_failed),
    (Stage.BALLOT, Action.REPEAT_BALLOT): Transition(Stage.BALLOT, _SEC, ballot_window_over, reason_required=True),
    (Stage.BALLOT, Action.ABANDON): ABANDON,
    (Stage.APPROVED, Action.PUBLISH): Transition(
        Stage.PUBLISHED, _SEC, ipr_calls_answered, description="allocates the standard's number"
    ),
    (Stage.APPROVED, Action.ABANDON): ABANDON,
    (Stage.PUBLISHED, Action.FILE): Transition(Stage.FILED, _SEC, registry_reference_given),
    (Stage.PUBLISHED, Action.START_REVIEW): Transition(Stage.UNDER_REVIEW, _REVIEW),
    (Stage.FILED, Action.START_REVIEW): Transition(Stage.UNDER_REVIEW, _REVIEW),
    (Stage.CONFIRMED, Action.START_REVIEW): Transition(Stage.UNDER_REVIEW, _REVIEW),
    (Stage.UNDER_REVIEW, Action.CONFIRM): Transition(Stage.CONFIRMED, _COUNCIL),
    (Stage.UNDER_REVIEW, Action.REVISE): Transition(
        Stage.REVISED, _COUNCIL, reason_required=True, description="opens a revision project"
    ),
    (Stage.UNDER_REVIEW, Action.WITHDRAW): Transition(Stage.WITHDRAWN, _COUNCIL, reason_required=True),
    (Stage.REVISED, Action.WITHDRAW): Transition(Stage.WITHDRAWN, _COUNCIL, reason_required=True),
}

# Stages in which a number has been allocated (the standard exists).
NUMBERED = frozenset(
    {Stage.PUBLISHED, Stage.FILED, Stage.UNDER_REVIEW, Stage.CONFIRMED, Stage.REVISED, Stage.WITHDRAWN}
)
DUE_FOR_REVIEW_FROM = frozenset({Stage.PUBLISHED, Stage.FILED, Stage.CONFIRMED})


def transition_for(stage: Stage, action: Action, actors: frozenset[Actor]) -> Transition:
    """The allowed transition, or the error: 409 naming the stage, then 403 for the actor."""
    transition = TRANSITIONS.get((stage, action))
    if transition is None:
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s is stage)
        raise Conflict(
            f"action '{action.value}' is not allowed in stage '{stage.value}'"
            + (f" (allowed: {', '.join(allowed)})" if allowed else " (no action is allowed in this stage)"),
            field="action",
        )
    if not transition.actors & actors:
        raise Forbidden(
            f"action '{action.value}' in stage '{stage.value}' may be taken by: "
            + ", ".join(sorted(a.value for a in transition.actors)),
            field="action",
        )
    return transition
