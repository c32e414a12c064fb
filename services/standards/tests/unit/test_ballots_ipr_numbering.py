"""Ballot rules, IPR calls and declarations, numbering and periodic review."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from alliance_common.errors import Conflict, Forbidden, InvalidInput
from standards.domain.ballots import Position, Tally
from standards.domain.events import BallotVoteVoided, ProjectProposed, StandardPublished
from standards.domain.ipr import CallAnswerKind, Commitment, DeclarationStatus
from standards.domain.lifecycle import Action, Actor, Stage
from standards.domain.model import (
    Project,
    TransitionContext,
    TransitionOptions,
    add_years,
)
from standards.domain.numbering import NumberCounter, format_number

from .test_lifecycle import NOW, ready

SEC = frozenset({Actor.SECRETARIAT})
VOTERS = tuple(f"org-v{i}" for i in range(1, 9))


def opened_ballot(quorum: int | None = None, threshold: str | None = None, voters: tuple[str, ...] = VOTERS) -> Project:
    project = ready(Stage.PUBLIC_COMMENT)
    project.transition(
        Action.OPEN_BALLOT,
        TransitionContext(
            now=NOW,
            by="sec",
            actors=SEC,
            eligible_voters=(*voters, "org-chair", "org-ed"),
            options=TransitionOptions(ballot_quorum=quorum, ballot_threshold=Decimal(threshold) if threshold else None),
        ),
    )
    return project


def cast(project: Project, org: str, position: Position, reason: str | None = None, at: datetime = NOW) -> None:
    project.vote(organisation_id=org, position=position, reason=reason, in_good_standing=True, by=f"rep@{org}", now=at)


def tally(project: Project) -> Tally:
    ballot = project.current_ballot
    assert ballot is not None
    return ballot.tally()


# --- ballots ---------------------------------------------------------------------------------------


def test_drafting_organisations_are_excluded_and_the_quorum_defaults_to_half() -> None:
    project = opened_ballot()
    ballot = project.current_ballot
    assert ballot is not None
    assert ballot.eligible == list(VOTERS) and ballot.drafters == ["org-chair", "org-ed"]
    assert ballot.quorum == 4 and ballot.threshold == Decimal("0.75")
    with pytest.raises(Forbidden) as refused:
        cast(project, "org-chair", Position.APPROVE)
    assert refused.value.field == "organisation_id"
    assert ballot.votes == []


def test_three_quarters_of_votes_cast_abstentions_not_cast_but_counted_for_quorum() -> None:
    project = opened_ballot()
    for org in VOTERS[:3]:
        cast(project, org, Position.APPROVE)
    cast(project, VOTERS[3], Position.DISAPPROVE, "clause 6 is wrong")
    t = tally(project)
    assert (t.cast, t.returned, t.quorum_met, t.threshold_met, t.can_pass) == (4, 4, True, True, True)
    cast(project, VOTERS[4], Position.DISAPPROVE, "clause 7 too")
    t = tally(project)
    assert (t.approve, t.cast, t.threshold_met, t.can_pass, t.approvals_needed) == (3, 5, False, False, 3)
    for org in VOTERS[5:]:
        cast(project, org, Position.ABSTAIN)
    t = tally(project)
    assert (t.abstain, t.cast, t.returned, t.threshold_met) == (3, 5, 8, False)


def test_quorum_counts_abstentions_and_blocks_a_thin_approval() -> None:
    project = opened_ballot(quorum=3)
    cast(project, VOTERS[0], Position.APPROVE)
    t = tally(project)
    assert (t.threshold_met, t.quorum_met, t.can_pass, t.votes_needed_for_quorum) == (True, False, False, 2)
    cast(project, VOTERS[1], Position.ABSTAIN)
    cast(project, VOTERS[2], Position.ABSTAIN)
    t = tally(project)
    assert (t.cast, t.returned, t.can_pass) == (1, 3, True)


def test_the_ballot_cannot_close_as_approved_without_the_positions() -> None:
    project = opened_ballot(quorum=2)
    cast(project, VOTERS[0], Position.APPROVE)
    after = NOW + timedelta(days=31)
    with pytest.raises(Conflict) as refused:
        project.transition(Action.CLOSE_BALLOT_APPROVED, TransitionContext(now=after, by="s", actors=SEC))
    assert refused.value.field == "ballot" and "quorum" in refused.value.detail
    project.transition(Action.CLOSE_BALLOT_FAILED, TransitionContext(now=after, by="s", actors=SEC))
    assert project.status is Stage.COMMITTEE_DRAFT and project.ballots[-1].result == "failed"


def test_a_passing_ballot_closes_approved_once_the_window_ends() -> None:
    project = opened_ballot(quorum=2)
    cast(project, VOTERS[0], Position.APPROVE)
    cast(project, VOTERS[1], Position.APPROVE)
    with pytest.raises(Conflict):
        project.transition(Action.CLOSE_BALLOT_APPROVED, TransitionContext(now=NOW, by="s", actors=SEC))
    later = NOW + timedelta(days=30)
    project.transition(Action.CLOSE_BALLOT_APPROVED, TransitionContext(now=later, by="s", actors=SEC))
    assert project.status is Stage.APPROVED and project.approved_on == later.date()


def test_the_threshold_is_configurable_per_ballot() -> None:
    project = opened_ballot(quorum=3, threshold="0.6")
    for org, position in zip(VOTERS, [Position.APPROVE, Position.APPROVE, Position.DISAPPROVE], strict=False):
        cast(project, org, position, "no")
    assert tally(project).can_pass
    with pytest.raises(InvalidInput) as refused:
        opened_ballot(threshold="0.4")
    assert refused.value.field == "ballot_threshold"
    with pytest.raises(InvalidInput) as too_big:
        opened_ballot(quorum=99)
    assert too_big.value.field == "ballot_quorum"


def test_bad_votes_are_refused_naming_the_field_and_change_nothing() -> None:
    project = opened_ballot()
    cast(project, VOTERS[0], Position.APPROVE)
    with pytest.raises(Conflict) as twice:
        cast(project, VOTERS[0], Position.ABSTAIN)
    assert twice.value.field == "organisation_id"
    with pytest.raises(InvalidInput) as no_reason:
        cast(project, VOTERS[1], Position.DISAPPROVE, "  ")
    assert no_reason.value.field == "reason"
    with pytest.raises(Conflict) as late:
        cast(project, VOTERS[2], Position.APPROVE, at=NOW + timedelta(days=31))
    assert late.value.field == "ballot" and "outside the ballot window" in late.value.detail
    with pytest.raises(Forbidden) as lapsed:
        project.vote(
            organisation_id=VOTERS[3], position=Position.APPROVE, reason=None, in_good_standing=False, by="x", now=NOW
        )
    assert lapsed.value.field == "organisation_id"
    with pytest.raises(Forbidden):
        cast(project, "org-outsider", Position.APPROVE)
    assert tally(project).returned == 1


def test_voting_outside_a_ballot_stage_is_refused() -> None:
    project = ready(Stage.PUBLIC_COMMENT)
    with pytest.raises(Conflict) as refused:
        cast(project, VOTERS[0], Position.APPROVE)
    assert refused.value.field == "ballot"


def test_voiding_a_vote_is_idempotent_recorded_and_changes_the_tally() -> None:
    project = opened_ballot(quorum=2)
    cast(project, VOTERS[0], Position.APPROVE)
    cast(project, VOTERS[1], Position.APPROVE)
    assert tally(project).can_pass
    assert project.void_votes_of(VOTERS[0], "lost good standing (suspended)", NOW + timedelta(hours=1))
    assert not project.void_votes_of(VOTERS[0], "again", NOW + timedelta(hours=2))
    t = tally(project)
    assert (t.approve, t.voided, t.can_pass) == (1, 1, False)
    ballot = project.current_ballot
    assert ballot is not None
    voided = ballot.votes[0]
    assert voided.void_reason == "lost good standing (suspended)" and voided.voided_at == NOW + timedelta(hours=1)
    events = [e for e in project.events if isinstance(e, BallotVoteVoided)]
    assert [(e.organisation_id, e.ballot) for e in events] == [(VOTERS[0], 1)]
    assert project.history[-1].action == "vote_voided"
    assert not project.void_votes_of("org-never-voted", "x", NOW)


def test_approvals_needed_indicator() -> None:
    t = Tally(eligible=10, quorum=1, threshold=Decimal("0.75"), approve=0, disapprove=1, abstain=0, voided=0)
    assert t.approvals_needed == 3  # 3 of 4 cast
    assert Tally(10, 1, Decimal("0.75"), 0, 0, 0, 0).approvals_needed == 1
    assert Tally(10, 1, Decimal(1), 2, 1, 0, 0).approvals_needed is None


# --- IPR calls and declarations -------------------------------------------------------------------


def committee_draft() -> Project:
    project = ready(Stage.WORKING_DRAFT)
    project.transition(Action.SUBMIT_COMMITTEE_DRAFT, TransitionContext(now=NOW, by="s", actors=SEC))
    return project


def declare(project: Project, holder: str = "org-p", version: int = 1, number: str = "CN1001B") -> None:
    project.declare(
        id=f"d-{number}",
        holder_id=holder,
        draft_version=version,
        office="CN",
        number=number,
        title="LED fixture",
        family_id=None,
        commitment=Commitment.FRAND,
        by=f"ip@{holder}",
        now=NOW,
    )


def test_entering_committee_draft_calls_every_participant_with_a_deadline() -> None:
    project = committee_draft()
    (call,) = project.calls
    assert call.participants == ["org-chair", "org-ed", "org-p"]
    assert call.deadline == NOW + timedelta(days=30) and call.draft_version == 1 and call.reason == "committee_draft"


def test_a_declaration_names_an_existing_draft_version_and_answers_the_call() -> None:
    project = committee_draft()
    with pytest.raises(InvalidInput) as refused:
        declare(project, version=7)
    assert refused.value.field == "draft_version" and project.declarations == []
    with pytest.raises(Forbidden) as outsider:
        declare(project, holder="org-outsider")
    assert outsider.value.field == "holder_id"
    declare(project)
    assert project.calls[0].answers[0].answer is CallAnswerKind.DECLARED
    with pytest.raises(Conflict):
        declare(project)  # the same patent twice


def test_publication_is_blocked_while_a_call_is_unanswered_past_its_deadline() -> None:
    project = committee_draft()
    declare(project)
    project.answer_call("call-1", "org-chair", True, "x", NOW)
    project.status = Stage.APPROVED
    late = NOW + timedelta(days=31)
    publish = TransitionContext(now=late, by="s", actors=SEC, number="T/LEDA 002\u20142026")
    with pytest.raises(Conflict) as refused:
        project.transition(Action.PUBLISH, publish)
    assert "org-ed" in refused.value.detail and refused.value.field == "ipr_calls"
    with pytest.raises(InvalidInput) as nothing_declared:
        project.answer_call("call-1", "org-ed", False, "x", late)
    assert nothing_declared.value.field == "no_patents_known"
    project.answer_call("call-1", "org-ed", True, "x", late)
    with pytest.raises(Conflict):
        project.answer_call("call-1", "org-ed", True, "x", late)
    project.transition(Action.PUBLISH, publish)
    (published,) = [e for e in project.events if isinstance(e, StandardPublished)]
    assert [(d.holder_id, d.number, d.draft_version) for d in published.declarations] == [("org-p", "CN1001B", 1)]


def test_the_call_before_the_ballot_is_a_second_call() -> None:
    project = opened_ballot()
    assert [c.reason for c in project.calls] == ["pre_ballot"]


def test_a_revision_flags_old_declarations_for_re_declaration() -> None:
    original = committee_draft()
    declare(original)
    revision = Project.revision(original, id="p-2", by="council", now=NOW, reason="technology moved on")
    assert revision.status is Stage.WORKING_GROUP and revision.revision_of == "p-1"
    (proposed,) = [e for e in revision.events if isinstance(e, ProjectProposed)]
    assert proposed.stage == "working_group"  # the stage it starts in (the statistics read it)
    assert [d.status for d in revision.declarations] == [DeclarationStatus.NEEDS_REDECLARATION]
    assert revision.current_declarations == [] and revision.drafts == []
    revision.add_draft("https://docs.example/r1.pdf", "", "ed", NOW)
    declare(revision)
    assert [d.status for d in revision.declarations] == [DeclarationStatus.REDECLARED, DeclarationStatus.CURRENT]


# --- numbering ------------------------------------------------------------------------------------


def test_numbers_are_formatted_unique_and_never_reused() -> None:
    assert format_number("LEDA", 1, 2026) == "T/LEDA 001\u20142026"
    counter = NumberCounter()
    first = counter.allocate("p-1", "LEDA", 2026)
    assert counter.allocate("p-1", "LEDA", 2026) == first  # a retried publication keeps its number
    second = counter.allocate("p-2", "LEDA", 2027)
    assert (first, second) == ("T/LEDA 001\u20142026", "T/LEDA 002\u20142027")
    # A withdrawn standard keeps its number: the counter only moves forward.
    assert counter.allocate("p-3", "LEDA", 2027) == "T/LEDA 003\u20142027"
    with pytest.raises(InvalidInput):
        format_number("LE DA", 1, 2026)


# --- periodic review ------------------------------------------------------------------------------


def test_periodic_review_confirm_revise_withdraw() -> None:
    project = ready(Stage.APPROVED)
    project.transition(Action.PUBLISH, TransitionContext(now=NOW, by="s", actors=SEC, number="T/LEDA 001\u20142026"))
    assert project.review_due == date(2031, 6, 1)
    assert not project.due_for_review(NOW + timedelta(days=365))
    assert project.due_for_review(datetime(2031, 6, 1, tzinfo=UTC))
    due = datetime(2031, 6, 2, tzinfo=UTC)
    project.transition(Action.START_REVIEW, TransitionContext(now=due, by="job", actors=frozenset({Actor.SYSTEM})))
    council = frozenset({Actor.COUNCIL})
    project.transition(Action.CONFIRM, TransitionContext(now=due, by="c", actors=council))
    assert project.status is Stage.CONFIRMED and project.review_due == date(2036, 6, 2)
    project.transition(Action.START_REVIEW, TransitionContext(now=due, by="c", actors=council))
    project.transition(Action.WITHDRAW, TransitionContext(now=due, by="c", actors=council, reason="obsolete"))
    assert project.status is Stage.WITHDRAWN and project.standard_number == "T/LEDA 001\u20142026"
    assert not project.due_for_review(datetime(2040, 1, 1, tzinfo=UTC))


def test_add_years_on_a_leap_day() -> None:
    assert add_years(date(2028, 2, 29), 5) == date(2033, 2, 28)
