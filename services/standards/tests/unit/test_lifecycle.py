"""The transition table, exhaustively: every (stage, action) pair, every actor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from alliance_common.errors import Conflict, DomainError, Forbidden, InvalidInput
from standards.domain.ballots import Ballot, Position, Vote
from standards.domain.events import ProjectStageChanged, StandardPublished
from standards.domain.lifecycle import TRANSITIONS, Action, Actor, Stage
from standards.domain.model import (
    CommentPeriod,
    DraftVersion,
    GroupMember,
    GroupRole,
    Policy,
    Project,
    TransitionContext,
    TransitionOptions,
)

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ALL_ACTORS = frozenset(Actor)
VOTERS = ("org-v1", "org-v2", "org-v3", "org-v4")


def ready(stage: Stage, action: Action | None = None) -> Project:
    """A project in ``stage`` whose data satisfies the guard of ``action``."""
    project = Project(
        id="p-1",
        title="Lumen maintenance of LED packages",
        scope="Test method for lumen maintenance.",
        proposer_id="org-chair",
        proposed_by="chen@chair.example",
        status=stage,
        proposed_at=NOW - timedelta(days=400),
    )
    project.working_group = [
        GroupMember("org-chair", GroupRole.CHAIR, "Dr. Chen"),
        GroupMember("org-ed", GroupRole.EDITOR),
        GroupMember("org-p", GroupRole.PARTICIPANT),
    ]
    project.drafts = [DraftVersion(1, "https://d.example/wd1.pdf", "", "working_draft", "ed", NOW - timedelta(days=90))]
    project.comment_periods = [CommentPeriod(1, NOW - timedelta(days=60), NOW - timedelta(days=1))]
    if stage is Stage.BALLOT:
        passing = action is Action.CLOSE_BALLOT_APPROVED
        ballot = Ballot(
            1,
            NOW - timedelta(days=30),
            NOW - timedelta(seconds=1),
            2,
            Decimal("0.75"),
            list(VOTERS),
            ["org-chair", "org-ed"],
        )
        if passing:
            ballot.votes = [Vote(o, Position.APPROVE, None, "x", NOW - timedelta(days=2)) for o in VOTERS[:3]]
        project.ballots = [ballot]
    if stage in (Stage.PUBLISHED, Stage.FILED, Stage.UNDER_REVIEW, Stage.CONFIRMED, Stage.REVISED):
        project.standard_number, project.is_published = "T/LEDA 001\u20142026", True
        project.published_on = (NOW - timedelta(days=10)).date()
    return project


def ctx(actors: frozenset[Actor], **options: object) -> TransitionContext:
    return TransitionContext(
        now=NOW,
        by="someone@example",
        actors=actors,
        reason="because the committee decided so",
        options=TransitionOptions(registry_reference="REG-2026-17"),
        policy=Policy(),
        eligible_voters=VOTERS,
        number="T/LEDA 001\u20142026",
        revision_id="p-2",
    )


PAIRS = [(s, a) for s in Stage for a in Action]
ALLOWED = [(s, a) for (s, a) in PAIRS if (s, a) in TRANSITIONS]
FORBIDDEN = [(s, a) for (s, a) in PAIRS if (s, a) not in TRANSITIONS]


def test_the_table_covers_the_whole_life() -> None:
    assert len(PAIRS) == len(ALLOWED) + len(FORBIDDEN)
    reachable = {Stage.PROPOSED} | {t.target for t in TRANSITIONS.values()}
    assert reachable == set(Stage)
    terminal = {s for s in Stage if not any(k[0] is s for k in TRANSITIONS)}
    assert terminal == {Stage.REJECTED, Stage.ABANDONED, Stage.WITHDRAWN}


@pytest.mark.parametrize(("stage", "action"), ALLOWED, ids=[f"{s.value}-{a.value}" for s, a in ALLOWED])
def test_every_allowed_transition_succeeds_for_each_allowed_actor_and_only_them(stage: Stage, action: Action) -> None:
    rule = TRANSITIONS[(stage, action)]
    for actor in rule.actors:
        project = ready(stage, action)
        project.transition(action, ctx(frozenset({actor})))
        assert project.status is rule.target
        last = project.history[-1]
        assert (last.action, last.from_stage, last.to_stage, last.by) == (
            action.value,
            stage.value,
            rule.target.value,
            "someone@example",
        )
        changed = [e for e in project.events if isinstance(e, ProjectStageChanged)]
        expected = [(stage.value, rule.target.value, action.value)]
        assert [(e.from_stage, e.to_stage, e.action) for e in changed] == expected
    for actor in ALL_ACTORS - rule.actors:
        project = ready(stage, action)
        with pytest.raises(Forbidden) as refused:
            project.transition(action, ctx(frozenset({actor})))
        assert refused.value.status == 403 and stage.value in refused.value.detail
        assert project.status is stage and project.events == []


@pytest.mark.parametrize(("stage", "action"), FORBIDDEN, ids=[f"{s.value}-{a.value}" for s, a in FORBIDDEN])
def test_every_other_pair_is_a_409_naming_the_stage(stage: Stage, action: Action) -> None:
    project = ready(stage, action)
    history = list(project.history)
    with pytest.raises(Conflict) as refused:
        project.transition(action, ctx(ALL_ACTORS))
    assert refused.value.status == 409
    assert f"stage '{stage.value}'" in refused.value.detail
    assert project.status is stage and project.history == history and project.events == []


def test_a_reason_is_required_where_the_table_says_so() -> None:
    project = ready(Stage.PROPOSED)
    with pytest.raises(InvalidInput) as refused:
        project.transition(
            Action.REJECT_PROPOSAL, TransitionContext(now=NOW, by="c", actors=frozenset({Actor.COUNCIL}))
        )
    assert refused.value.field == "reason" and project.status is Stage.PROPOSED


@pytest.mark.parametrize(
    ("stage", "action", "spoil", "field"),
    [
        (Stage.ACCEPTED, Action.FORM_WORKING_GROUP, lambda p: setattr(p, "working_group", []), "working_group"),
        (Stage.WORKING_DRAFT, Action.SUBMIT_COMMITTEE_DRAFT, lambda p: setattr(p, "drafts", []), "drafts"),
        (
            Stage.PUBLIC_COMMENT,
            Action.OPEN_BALLOT,
            lambda p: setattr(p.comment_periods[-1], "closes_at", NOW + timedelta(days=1)),
            "comment_period",
        ),
        (Stage.BALLOT, Action.CLOSE_BALLOT_APPROVED, lambda p: setattr(p.ballots[-1], "votes", []), "ballot"),
        (
            Stage.BALLOT,
            Action.CLOSE_BALLOT_FAILED,
            lambda p: setattr(p.ballots[-1], "closes_at", NOW + timedelta(days=1)),
            "ballot",
        ),
    ],
)
def test_a_failing_guard_refuses_and_changes_nothing(stage: Stage, action: Action, spoil: object, field: str) -> None:
    project = ready(stage, action)
    assert callable(spoil)
    spoil(project)
    with pytest.raises(DomainError) as refused:
        project.transition(action, ctx(ALL_ACTORS))
    assert refused.value.field == field and project.status is stage and project.events == []


def test_filing_needs_the_registry_reference() -> None:
    project = ready(Stage.PUBLISHED)
    with pytest.raises(InvalidInput) as refused:
        project.transition(Action.FILE, TransitionContext(now=NOW, by="s", actors=frozenset({Actor.SECRETARIAT})))
    assert refused.value.field == "registry_reference"


def test_the_public_comment_period_has_a_minimum() -> None:
    project = ready(Stage.COMMITTEE_DRAFT)
    short = TransitionContext(
        now=NOW,
        by="s",
        actors=frozenset({Actor.SECRETARIAT}),
        options=TransitionOptions(comment_closes_at=NOW + timedelta(days=10)),
    )
    with pytest.raises(InvalidInput) as refused:
        project.transition(Action.OPEN_PUBLIC_COMMENT, short)
    assert refused.value.field == "comment_closes_at" and project.status is Stage.COMMITTEE_DRAFT
    project.transition(Action.OPEN_PUBLIC_COMMENT, ctx(frozenset({Actor.SECRETARIAT})))
    period = project.current_comment_period
    assert period is not None and period.closes_at - period.opens_at == timedelta(days=30)


def test_publication_emits_the_standard_with_number_and_dates() -> None:
    project = ready(Stage.APPROVED)
    project.transition(Action.PUBLISH, ctx(frozenset({Actor.SECRETARIAT})))
    published = [e for e in project.events if isinstance(e, StandardPublished)]
    assert len(published) == 1 and published[0].number == "T/LEDA 001\u20142026"
    assert project.review_due == NOW.date().replace(year=2031)
    assert published[0].drafting_organisations == ("org-chair", "org-ed")
