"""Every list a standards project keeps is bounded, and a project at every bound fits in one document.

The refusals are 409s naming the list, and change nothing; the request schemas refuse
over-long strings and lists with 422 naming the field.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import bson
import pytest
from pydantic import ValidationError

from alliance_common.errors import Conflict, InvalidInput
from alliance_common.events import envelope_for
from alliance_common.testing import InMemoryStore
from standards.adapters.integration_events import TO_CONTRACT
from standards.adapters.repository import ProjectRepository
from standards.domain import limits
from standards.domain.ballots import Ballot, Position, Vote
from standards.domain.filing import DraftingPerson
from standards.domain.ipr import CallAnswer, CallAnswerKind, Commitment, Declaration, IprCall
from standards.domain.lifecycle import Action, Actor, Stage
from standards.domain.model import (
    Comment,
    CommentPeriod,
    Disposition,
    DraftVersion,
    GroupMember,
    GroupRole,
    HistoryEntry,
    Project,
    TransitionContext,
)
from standards.entrypoints.schemas import CommentCreate, DeclarationCreate, VoteCreate, WorkingGroupBody

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MONGO_DOCUMENT_LIMIT = 16 * 1024 * 1024
KAFKA_MESSAGE_LIMIT = 1024 * 1024  # the producer's max_request_size and the broker's message.max.bytes, by default
WIDE = "光"  # three bytes in UTF-8: the worst case for a string of a given length in characters
SEC = TransitionContext(now=NOW, by="sec@alliance.example", actors=frozenset({Actor.SECRETARIAT}), reason="r")


def org() -> str:
    return str(uuid.uuid4())


def wide(n: int) -> str:
    return WIDE * n


def project(status: Stage = Stage.PUBLIC_COMMENT) -> Project:
    chair, editor = "org-chair", "org-editor"
    return Project(
        id="proj-1",
        title="Mini-LED reliability test method",
        scope="Accelerated ageing of mini-LED backlights",
        proposer_id=chair,
        proposed_by="chen.li@example.com",
        status=status,
        proposed_at=NOW - timedelta(days=200),
        working_group=[
            GroupMember(chair, GroupRole.CHAIR),
            GroupMember(editor, GroupRole.EDITOR),
            GroupMember("org-part", GroupRole.PARTICIPANT),
        ],
        drafts=[DraftVersion(1, "https://docs.example/wd1.pdf", "", "working_draft", "ed", NOW - timedelta(days=90))],
        comment_periods=[CommentPeriod(1, NOW - timedelta(days=1), NOW + timedelta(days=29))],
    )


def comment(p: Project, org_id: str | None, author: str = "someone@example.com", n: int = 0) -> Comment:
    return p.comment(
        id=f"c-{org_id}-{n}-{len(p.comments)}",
        organisation_id=org_id,
        author=author,
        clause="6.2",
        text="The test duration is too short.",
        proposed_change=None,
        now=NOW,
    )


def assert_unchanged(p: Project, before: Project) -> None:
    assert p == before and p.events == before.events


# --- comments --------------------------------------------------------------------------------------


def test_an_organisation_may_comment_up_to_its_quota_per_period_then_409_naming_comments() -> None:
    p = project()
    for i in range(limits.COMMENTS_PER_COMMENTER_PER_PERIOD):
        comment(p, "org-a", n=i)
    before = copy.deepcopy(p)
    with pytest.raises(Conflict) as refused:
        comment(p, "org-a", author="another.person@org-a.example")  # the quota is the organisation's
    assert refused.value.field == "comments" and refused.value.status == 409
    assert str(limits.COMMENTS_PER_COMMENTER_PER_PERIOD) in refused.value.detail
    assert_unchanged(p, before)
    comment(p, "org-b")  # another organisation still may
    assert len(p.comments) == limits.COMMENTS_PER_COMMENTER_PER_PERIOD + 1


def test_a_person_without_an_organisation_has_the_quota_as_a_person() -> None:
    p = project()
    for i in range(limits.COMMENTS_PER_COMMENTER_PER_PERIOD):
        comment(p, None, author="expert@uni.example", n=i)
    with pytest.raises(Conflict) as refused:
        comment(p, None, author="expert@uni.example")
    assert refused.value.field == "comments"
    comment(p, None, author="other.expert@uni.example")


def test_the_quota_starts_again_in_a_repeated_comment_period() -> None:
    p = project()
    for i in range(limits.COMMENTS_PER_COMMENTER_PER_PERIOD):
        comment(p, "org-a", n=i)
    p.comment_periods.append(CommentPeriod(2, NOW - timedelta(hours=1), NOW + timedelta(days=30)))
    assert comment(p, "org-a").period == 2


def test_a_project_holds_at_most_comments_max_comments() -> None:
    p = project()
    per = limits.COMMENTS_PER_COMMENTER_PER_PERIOD
    for i in range(limits.COMMENTS_MAX):
        comment(p, f"org-{i // per}", n=i)
    before = copy.deepcopy(p)
    with pytest.raises(Conflict) as refused:
        comment(p, "org-new")
    assert refused.value.field == "comments" and str(limits.COMMENTS_MAX) in refused.value.detail
    assert_unchanged(p, before)


# --- drafts, working group, declarations ---------------------------------------------------------


def test_draft_versions_are_bounded() -> None:
    p = project(Stage.WORKING_DRAFT)
    while len(p.drafts) < limits.DRAFT_VERSIONS_MAX:
        p.add_draft("https://docs.example/wd.pdf", "", "ed", NOW)
    before = copy.deepcopy(p)
    with pytest.raises(Conflict) as refused:
        p.add_draft("https://docs.example/one-more.pdf", "", "ed", NOW)
    assert refused.value.field == "drafts"
    assert_unchanged(p, before)


def test_the_working_group_is_bounded_in_size_and_in_changes() -> None:
    p = project(Stage.WORKING_GROUP)
    too_many = [GroupMember(org(), GroupRole.PARTICIPANT) for _ in range(limits.WORKING_GROUP_MAX)]
    too_many.append(GroupMember("org-chair", GroupRole.CHAIR))
    standing = {m.org_id: True for m in too_many}
    with pytest.raises(InvalidInput) as refused:
        p.set_working_group(too_many, standing, "sec", NOW)
    assert refused.value.field == "members"

    group = [GroupMember("org-chair", GroupRole.CHAIR)]
    for _ in range(limits.WORKING_GROUP_CHANGES_MAX):
        p.set_working_group(group, {"org-chair": True}, "sec", NOW)
    before = copy.deepcopy(p)
    with pytest.raises(Conflict) as refused_again:
        p.set_working_group(group, {"org-chair": True}, "sec", NOW)
    assert refused_again.value.field == "members"
    assert_unchanged(p, before)


def declare(p: Project, holder: str, number: str) -> Declaration:
    return p.declare(
        id=f"d-{holder}-{number}",
        holder_id=holder,
        draft_version=1,
        office="CN",
        number=number,
        title="Fixture for lumen maintenance",
        family_id=None,
        commitment=Commitment.FRAND,
        by="ip@example.com",
        now=NOW,
    )


def test_declarations_are_bounded_per_holder_and_per_project() -> None:
    p = project()
    for i in range(limits.DECLARATIONS_PER_HOLDER):
        declare(p, "org-part", f"CN{i:09d}B")
    before = copy.deepcopy(p)
    with pytest.raises(Conflict) as refused:
        declare(p, "org-part", "CN999999999B")
    assert refused.value.field == "declarations"
    assert_unchanged(p, before)
    declare(p, "org-editor", "CN999999999B")  # another holder still may

    p.declarations.extend(copy.deepcopy(p.declarations[0]) for _ in range(limits.DECLARATIONS_MAX))
    with pytest.raises(Conflict) as full:
        declare(p, "org-chair", "CN888888888B")
    assert full.value.field == "declarations" and str(limits.DECLARATIONS_MAX) in full.value.detail


# --- the life cycle --------------------------------------------------------------------------------


def test_comment_periods_ballots_and_ipr_calls_are_bounded() -> None:
    p = project(Stage.COMMITTEE_DRAFT)
    p.comment_periods = [CommentPeriod(i + 1, NOW, NOW) for i in range(limits.COMMENT_PERIODS_MAX)]
    with pytest.raises(Conflict) as periods:
        p.check(Action.OPEN_PUBLIC_COMMENT, SEC)
    assert periods.value.field == "comment_periods"

    p = project(Stage.PUBLIC_COMMENT)
    p.ballots = [Ballot(i + 1, NOW, NOW, 1, Decimal("0.75"), ["x"], []) for i in range(limits.BALLOTS_MAX)]
    with pytest.raises(Conflict) as ballots:
        p.check(Action.OPEN_BALLOT, SEC)
    assert ballots.value.field == "ballots"

    p = project(Stage.WORKING_DRAFT)
    p.calls = [IprCall(f"call-{i}", "committee_draft", NOW, NOW, 1, []) for i in range(limits.IPR_CALLS_MAX)]
    before = copy.deepcopy(p)
    with pytest.raises(Conflict) as calls:
        p.transition(Action.SUBMIT_COMMITTEE_DRAFT, SEC)
    assert calls.value.field == "ipr_calls"
    assert_unchanged(p, before)


def test_stage_changes_are_bounded_but_a_project_can_always_be_abandoned() -> None:
    p = project(Stage.WORKING_DRAFT)
    p.history = [HistoryEntry(NOW, "back", "sec", "r", "a", "b") for _ in range(limits.STAGE_CHANGES_MAX)]
    before = copy.deepcopy(p)
    with pytest.raises(Conflict) as refused:
        p.transition(Action.BACK, SEC)
    assert refused.value.field == "action"
    assert_unchanged(p, before)
    staff = TransitionContext(now=NOW, by="sec", actors=frozenset({Actor.SECRETARIAT}), reason="no progress")
    p.transition(Action.ABANDON, staff)
    assert p.status is Stage.ABANDONED


# --- the request schemas ---------------------------------------------------------------------------


def field_of(error: ValidationError) -> list[str]:
    return [".".join(str(x) for x in e["loc"]) for e in error.errors()]


def test_the_schemas_refuse_strings_and_lists_past_their_bounds_naming_the_field() -> None:
    ok = {"clause": "6.2", "text": "x" * limits.COMMENT_TEXT_MAX}
    CommentCreate.model_validate(ok)
    with pytest.raises(ValidationError) as text:
        CommentCreate.model_validate({**ok, "text": "x" * (limits.COMMENT_TEXT_MAX + 1)})
    assert field_of(text.value) == ["text"]
    with pytest.raises(ValidationError) as change:
        CommentCreate.model_validate({**ok, "proposed_change": "x" * (limits.PROPOSED_CHANGE_MAX + 1)})
    assert field_of(change.value) == ["proposed_change"]
    with pytest.raises(ValidationError) as vote:
        VoteCreate.model_validate({"position": "disapprove", "reason": "x" * (limits.VOTE_REASON_MAX + 1)})
    assert field_of(vote.value) == ["reason"]
    members = [{"org_id": f"o{i}", "role": "participant"} for i in range(limits.WORKING_GROUP_MAX + 1)]
    with pytest.raises(ValidationError) as group:
        WorkingGroupBody.model_validate({"members": members})
    assert field_of(group.value) == ["members"]
    declaration = {"draft_version": 1, "office": "CN", "number": "CN1B", "title": "t" * 501, "commitment": "frand"}
    with pytest.raises(ValidationError) as title:
        DeclarationCreate.model_validate(declaration)
    assert field_of(title.value) == ["title"]


# --- the budget ------------------------------------------------------------------------------------


def full_project() -> Project:
    """A project with every list at its bound and every kept text at its maximum, in 3-byte characters.

    Organisation ids are membership's (UUIDs): working-group members and voters must be known
    members in good standing, and a commenter's organisation comes from its token.
    """
    by = "x" * 64
    members = [org() for _ in range(limits.WORKING_GROUP_MAX)]
    voters = [org() for _ in range(limits.ELIGIBLE_VOTERS_BUDGETED)]
    p = project()
    p.title, p.scope = wide(limits.TITLE_MAX), wide(limits.SCOPE_MAX)
    p.working_group = [GroupMember(m, GroupRole.PARTICIPANT, wide(limits.PERSON_MAX)) for m in members]
    group_text = ", ".join(f"{m}:participant" for m in members)
    p.history = [HistoryEntry(NOW, "back", by, wide(limits.REASON_MAX), "working_draft", "working_group")] * (
        limits.STAGE_CHANGES_MAX
    )
    p.history += [HistoryEntry(NOW, "working_group_set", by, group_text)] * limits.WORKING_GROUP_CHANGES_MAX
    p.history += [HistoryEntry(NOW, "draft_added", by, "version 50")] * limits.DRAFT_VERSIONS_MAX
    p.history += [
        HistoryEntry(NOW, "vote_voided", "system", f"{v}: {wide(limits.VOID_REASON_MAX)}")
        for v in voters * limits.BALLOTS_MAX
    ]
    p.drafts = [
        DraftVersion(i + 1, wide(limits.DRAFT_URI_MAX), wide(limits.DRAFT_NOTES_MAX), "working_draft", by, NOW)
        for i in range(limits.DRAFT_VERSIONS_MAX)
    ]
    p.comment_periods = [CommentPeriod(i + 1, NOW, NOW) for i in range(limits.COMMENT_PERIODS_MAX)]
    p.comments = [
        Comment(
            id=f"c-{uuid.uuid4().hex[:12]}",
            period=1,
            draft_version=50,
            organisation_id=members[i % len(members)],
            author=by,
            clause=wide(limits.CLAUSE_MAX),
            text=wide(limits.COMMENT_TEXT_MAX),
            proposed_change=wide(limits.PROPOSED_CHANGE_MAX),
            submitted_at=NOW,
            disposition=Disposition.ACCEPTED_IN_PART,
            disposition_reason=wide(limits.DISPOSITION_REASON_MAX),
            disposed_by=by,
            disposed_at=NOW,
        )
        for i in range(limits.COMMENTS_MAX)
    ]
    p.declarations = [
        Declaration(
            id=str(uuid.uuid4()),
            holder_id=members[i % len(members)],
            draft_version=50,
            office=wide(limits.PATENT_OFFICE_MAX),
            number=wide(limits.PATENT_NUMBER_MAX),
            title=wide(limits.PATENT_TITLE_MAX),
            family_id=wide(limits.PATENT_FAMILY_MAX),
            commitment=Commitment.FRAND,
            declared_by=by,
            declared_at=NOW,
            edition_of="p" * 36,
        )
        for i in range(limits.DECLARATIONS_MAX)
    ]
    p.title_en = "T" * limits.TITLE_MAX
    p.ics_codes = ["33.160.01"] * limits.ICS_CODES_MAX
    p.ccs_code = "L51"
    p.drafters = [
        DraftingPerson(wide(limits.DRAFTER_NAME_MAX), members[i % len(members)]) for i in range(limits.DRAFTERS_MAX)
    ]
    p.calls = [
        IprCall(
            f"call-{i}",
            "pre_ballot",
            NOW,
            NOW,
            50,
            list(members),
            [CallAnswer(m, CallAnswerKind.NO_PATENTS_KNOWN, by, NOW) for m in members],
        )
        for i in range(limits.IPR_CALLS_MAX)
    ]
    p.ballots = [
        Ballot(
            i + 1,
            NOW,
            NOW,
            len(voters),
            Decimal("0.75"),
            list(voters),
            members[:10],
            [
                Vote(v, Position.DISAPPROVE, wide(limits.VOTE_REASON_MAX), by, NOW, NOW, wide(limits.VOID_REASON_MAX))
                for v in voters
            ],
        )
        for i in range(limits.BALLOTS_MAX)
    ]
    return p


def test_a_project_at_every_bound_fits_in_one_document_with_room_to_spare() -> None:
    doc = ProjectRepository(InMemoryStore()).to_document(full_project())
    size = len(bson.encode(doc))
    # Three quarters of the limit: the rest is for pending outbox entries and the store's own fields.
    assert size < MONGO_DOCUMENT_LIMIT * 3 // 4, f"{size / 2**20:.1f} MiB"


def test_a_long_reason_for_voiding_a_vote_is_kept_shortened() -> None:
    p = project(Stage.BALLOT)
    p.ballots = [Ballot(1, NOW - timedelta(days=1), NOW + timedelta(days=1), 1, Decimal("0.75"), ["org-v"], [])]
    p.vote(
        organisation_id="org-v",
        position=Position.APPROVE,
        reason=None,
        in_good_standing=True,
        by="v@org-v.example",
        now=NOW,
    )
    assert p.void_votes_of("org-v", "suspended: " + "x" * 5000, NOW)
    vote = p.ballots[0].votes[0]
    assert vote.void_reason is not None and len(vote.void_reason) == limits.VOID_REASON_MAX
    assert vote.void_reason.startswith("suspended: x") and vote.void_reason.endswith("…")


def test_dates_are_refused_outside_1900_to_2199_naming_the_field() -> None:
    from standards.entrypoints.schemas import TransitionBody

    for body, field in (
        ({"action": "open_ballot", "ballot_closes_at": "9999-12-31T23:59:59Z"}, "ballot_closes_at"),
        ({"action": "open_public_comment", "comment_closes_at": "2200-01-01T00:00:00Z"}, "comment_closes_at"),
        ({"action": "file", "registry_reference": "R-1", "filed_on": "0001-01-01"}, "filed_on"),
    ):
        with pytest.raises(ValidationError) as refused:
            TransitionBody.model_validate(body)
        assert field_of(refused.value) == [field]


def test_the_published_event_of_a_project_at_every_bound_stays_under_kafkas_message_limit() -> None:
    # standard.published carries every current declaration: DECLARATIONS_MAX bounds it too.
    p = full_project()
    p.standard_number, p.published_on, p.implementation_on = "T/LEDA 001—2026", NOW.date(), NOW.date()
    event = TO_CONTRACT(p.published_event())
    assert event is not None
    size = len(envelope_for(event, source="/alliance/standards", subject=p.id).to_bytes())
    assert size < KAFKA_MESSAGE_LIMIT * 7 // 8, f"{size / 1024:.0f} KiB"  # the rest: headers and record framing
