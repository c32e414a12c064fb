"""The organisation aggregate: application, review, council decision, standing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from alliance_common.errors import Conflict, InvalidInput
from membership.domain.events import (
    ApplicationDecided,
    ApplicationSubmitted,
    MemberAdmitted,
    MemberExpelled,
    MemberReinstated,
    MemberRenewed,
    MemberStatusChanged,
    MemberSuspended,
    MemberWithdrawn,
    UserAdded,
    UserRemoved,
)
from membership.domain.model import (
    ApplicationStatus,
    Contact,
    CouncilDecision,
    Organisation,
    OrgType,
    OrgUser,
    ReviewDecision,
    Segment,
    Tier,
    UserRole,
    membership_number,
)
from membership.domain.standing import MembershipStatus

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
CODE = "91350100M000100Y43"


def apply(**overrides: object) -> Organisation:
    values: dict[str, object] = {
        "id": "org-1",
        "name": "Fujian LED Co.",
        "credit_code": CODE,
        "org_type": OrgType.ENTERPRISE,
        "segments": [Segment.CHIP, Segment.PACKAGING],
        "region": "Fujian",
        "tier": Tier.ORDINARY_MEMBER,
        "contact": Contact("Chen Li", "chen.li@example.com"),
        "applicant": "chen.li@example.com",
        "now": NOW,
    }
    values.update(overrides)
    return Organisation.apply(**values)  # type: ignore[arg-type]


def accepted() -> Organisation:
    org = apply()
    org.review(ReviewDecision.ACCEPT, None, "secretariat-1", NOW)
    return org


def admitted() -> Organisation:
    org = accepted()
    org.decide(CouncilDecision.ADMIT, None, "M2025-00001", "council-1", LATER)
    return org


def in_status(status: ApplicationStatus) -> Organisation:
    org = apply()
    if status is ApplicationStatus.ACCEPTED_FOR_DECISION:
        org.review(ReviewDecision.ACCEPT, None, "s", NOW)
    elif status is ApplicationStatus.CHANGES_REQUESTED:
        org.review(ReviewDecision.REQUEST_CHANGES, "add contact phone", "s", NOW)
    elif status is ApplicationStatus.REJECTED:
        org.review(ReviewDecision.REJECT, "not in the industry", "s", NOW)
    elif status is ApplicationStatus.ADMITTED:
        org.review(ReviewDecision.ACCEPT, None, "s", NOW)
        org.decide(CouncilDecision.ADMIT, None, "M2025-00001", "c", NOW)
    assert org.status is status
    return org


# --- apply ---------------------------------------------------------------------------------


def test_apply_with_an_invalid_credit_code_is_invalid_input_on_credit_code() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        apply(credit_code=CODE[:17] + "0")
    assert excinfo.value.field == "credit_code"
    assert "check character" in excinfo.value.detail


def test_apply_without_segments_is_invalid_input_on_segments() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        apply(segments=[])
    assert excinfo.value.field == "segments"


def test_apply_starts_as_a_submitted_application_without_standing() -> None:
    org = apply()
    assert org.status is ApplicationStatus.SUBMITTED
    assert org.standing is None
    assert org.membership_number is None
    assert not org.in_good_standing
    assert [(h.action, h.by) for h in org.history] == [("applied", "chen.li@example.com")]


def test_apply_sorts_and_deduplicates_segments() -> None:
    org = apply(segments=[Segment.PACKAGING, Segment.CHIP, Segment.PACKAGING])
    assert org.segments == [Segment.CHIP, Segment.PACKAGING]


def test_apply_appends_application_submitted() -> None:
    org = apply()
    assert len(org.events) == 1
    event = org.events[0]
    assert isinstance(event, ApplicationSubmitted)
    assert event.member_id == "org-1"
    assert event.credit_code == CODE
    assert event.segments == ("chip", "packaging")
    assert event.submitted_at == NOW


# --- review --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "reason", "status"),
    [
        (ReviewDecision.ACCEPT, None, ApplicationStatus.ACCEPTED_FOR_DECISION),
        (ReviewDecision.REQUEST_CHANGES, "add a phone", ApplicationStatus.CHANGES_REQUESTED),
        (ReviewDecision.REJECT, "out of scope", ApplicationStatus.REJECTED),
    ],
)
def test_review_of_a_submitted_application_moves_it(
    decision: ReviewDecision, reason: str | None, status: ApplicationStatus
) -> None:
    org = apply()
    org.review(decision, reason, "secretariat-1", LATER)
    assert org.status is status
    assert org.history[-1].action == f"review:{decision}"
    assert org.history[-1].reason == reason


def test_an_application_with_changes_requested_can_be_reviewed_again() -> None:
    org = in_status(ApplicationStatus.CHANGES_REQUESTED)
    org.review(ReviewDecision.ACCEPT, None, "secretariat-1", LATER)
    assert org.status is ApplicationStatus.ACCEPTED_FOR_DECISION


@pytest.mark.parametrize(
    "status", [ApplicationStatus.ACCEPTED_FOR_DECISION, ApplicationStatus.REJECTED, ApplicationStatus.ADMITTED]
)
def test_review_in_other_statuses_is_a_conflict_on_decision(status: ApplicationStatus) -> None:
    org = in_status(status)
    with pytest.raises(Conflict) as excinfo:
        org.review(ReviewDecision.ACCEPT, None, "secretariat-1", LATER)
    assert excinfo.value.field == "decision"
    assert org.status is status


@pytest.mark.parametrize("decision", [ReviewDecision.REQUEST_CHANGES, ReviewDecision.REJECT])
@pytest.mark.parametrize("reason", [None, ""])
def test_review_other_than_accept_needs_a_reason(decision: ReviewDecision, reason: str | None) -> None:
    org = apply()
    with pytest.raises(InvalidInput) as excinfo:
        org.review(decision, reason, "secretariat-1", LATER)
    assert excinfo.value.field == "reason"
    assert org.status is ApplicationStatus.SUBMITTED


def test_review_emits_no_integration_event() -> None:
    org = apply()
    org.review(ReviewDecision.ACCEPT, None, "secretariat-1", LATER)
    assert [type(e) for e in org.events] == [ApplicationSubmitted]


# --- check_decision / decide ---------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.CHANGES_REQUESTED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.ADMITTED,
    ],
)
@pytest.mark.parametrize("decision", list(CouncilDecision))
def test_council_decides_only_accepted_applications(status: ApplicationStatus, decision: CouncilDecision) -> None:
    org = in_status(status)
    with pytest.raises(Conflict) as excinfo:
        org.check_decision(decision, "a reason")
    assert excinfo.value.field == "decision"
    with pytest.raises(Conflict):
        org.decide(decision, "a reason", "M2025-00009", "council-1", LATER)
    assert org.status is status


def test_check_decision_allows_admit_without_reason() -> None:
    accepted().check_decision(CouncilDecision.ADMIT, None)


@pytest.mark.parametrize("reason", [None, ""])
def test_council_rejection_needs_a_reason(reason: str | None) -> None:
    org = accepted()
    with pytest.raises(InvalidInput) as excinfo:
        org.check_decision(CouncilDecision.REJECT, reason)
    assert excinfo.value.field == "reason"
    with pytest.raises(InvalidInput):
        org.decide(CouncilDecision.REJECT, reason, None, "council-1", LATER)
    assert org.status is ApplicationStatus.ACCEPTED_FOR_DECISION


def test_council_rejection_rejects_without_membership_and_tells_the_applicant() -> None:
    org = accepted()
    org.decide(CouncilDecision.REJECT, "not eligible", None, "council-1", LATER)
    assert org.status is ApplicationStatus.REJECTED
    assert org.standing is None
    assert org.membership_number is None
    assert org.history[-1].action == "council:reject"
    assert [type(e) for e in org.events] == [ApplicationSubmitted, ApplicationDecided]
    decided = org.events[-1]
    assert isinstance(decided, ApplicationDecided)
    assert (decided.decision, decided.decided_by, decided.reason) == ("rejected", "council", "not eligible")
    assert decided.contact_email == org.contact.email and decided.applicant == org.applicant


@pytest.mark.parametrize(
    ("decision", "outcome"),
    [(ReviewDecision.REJECT, "rejected"), (ReviewDecision.REQUEST_CHANGES, "changes_requested")],
)
def test_a_review_that_stops_the_application_tells_the_applicant(decision: ReviewDecision, outcome: str) -> None:
    org = apply()
    org.review(decision, "the licence copy is unreadable", "secretariat-1", LATER)
    decided = org.events[-1]
    assert isinstance(decided, ApplicationDecided)
    assert (decided.decision, decided.decided_by) == (outcome, "secretariat")


def test_admission_adds_the_applicant_as_a_user_and_users_changes_are_events() -> None:
    org = admitted()
    assert [type(e) for e in org.events] == [ApplicationSubmitted, ApplicationDecided, UserAdded, MemberAdmitted]
    org.add_user(OrgUser("wang@example.com", "Wang", "wang@example.com", UserRole.MEMBER_STAFF), "admin", LATER)
    org.remove_user("wang@example.com", "admin", LATER)
    added, removed = org.events[-2:]
    assert isinstance(added, UserAdded) and (added.subject, added.role) == ("wang@example.com", "member_staff")
    assert isinstance(removed, UserRemoved) and removed.subject == "wang@example.com"


def test_admission_needs_a_membership_number() -> None:
    org = accepted()
    with pytest.raises(ValueError):
        org.decide(CouncilDecision.ADMIT, None, None, "council-1", LATER)
    assert org.status is ApplicationStatus.ACCEPTED_FOR_DECISION


def test_admission_makes_a_new_member_in_good_standing_with_its_number() -> None:
    org = admitted()
    assert org.status is ApplicationStatus.ADMITTED
    assert org.standing is MembershipStatus.NEW
    assert org.membership_number == "M2025-00001"
    assert org.admitted_at == LATER
    assert org.in_good_standing
    assert org.history[-1].action == "council:admit"


def test_admission_emits_member_admitted_with_the_membership_number() -> None:
    org = admitted()
    event = org.events[-1]
    assert isinstance(event, MemberAdmitted)
    assert event.member_id == "org-1"
    assert event.membership_number == "M2025-00001"
    assert event.in_good_standing is True
    assert event.admitted_at == LATER
    assert event.tier == "ordinary_member"


# --- suspend / reinstate -------------------------------------------------------------------


def test_suspending_a_current_member_emits_member_suspended() -> None:
    org = admitted()
    org.suspend("unpaid dues", "secretariat-1", LATER)
    assert org.standing is MembershipStatus.SUSPENDED
    assert not org.in_good_standing
    event = org.events[-1]
    assert isinstance(event, MemberSuspended)
    assert (event.member_id, event.reason, event.in_good_standing) == ("org-1", "unpaid dues", False)
    assert (org.history[-1].action, org.history[-1].reason) == ("suspended", "unpaid dues")


def test_suspending_a_suspended_member_is_a_conflict() -> None:
    org = admitted()
    org.suspend("unpaid dues", "secretariat-1", LATER)
    events = len(org.events)
    with pytest.raises(Conflict):
        org.suspend("again", "secretariat-1", LATER)
    assert len(org.events) == events


@pytest.mark.parametrize("status", [s for s in ApplicationStatus if s is not ApplicationStatus.ADMITTED])
def test_a_non_member_cannot_be_suspended(status: ApplicationStatus) -> None:
    org = in_status(status)
    with pytest.raises(Conflict):
        org.suspend("unpaid dues", "secretariat-1", LATER)
    assert org.standing is None


def test_reinstating_a_suspended_member_emits_member_reinstated() -> None:
    org = admitted()
    org.suspend("unpaid dues", "secretariat-1", LATER)
    org.reinstate("paid", "secretariat-1", LATER)
    assert org.standing is MembershipStatus.NEW
    assert org.in_good_standing
    event = org.events[-1]
    assert isinstance(event, MemberReinstated)
    assert (event.member_id, event.in_good_standing, event.reinstated_at) == ("org-1", True, LATER)
    assert event.status == "new"  # the status the rules give on reinstatement (the statistics read it)


def test_reinstating_a_current_member_is_a_conflict() -> None:
    org = admitted()
    with pytest.raises(Conflict):
        org.reinstate(None, "secretariat-1", LATER)
    assert org.standing is MembershipStatus.NEW


def test_a_non_member_cannot_be_reinstated() -> None:
    org = apply()
    with pytest.raises(Conflict):
        org.reinstate(None, "secretariat-1", LATER)
    assert org.standing is None


def test_events_record_the_whole_lifecycle_in_order() -> None:
    org = admitted()
    org.suspend("unpaid dues", "s", LATER)
    org.reinstate(None, "s", LATER)
    assert [type(e) for e in org.events] == [
        ApplicationSubmitted,
        ApplicationDecided,
        UserAdded,
        MemberAdmitted,
        MemberSuspended,
        MemberReinstated,
    ]


# --- in_good_standing / membership_number --------------------------------------------------


def test_an_applicant_is_not_in_good_standing() -> None:
    assert apply().in_good_standing is False


@pytest.mark.parametrize("status", list(MembershipStatus))
def test_good_standing_follows_the_status_rules_flags(status: MembershipStatus) -> None:
    org = admitted()
    assert org.membership is not None
    org.membership = replace(org.membership, status=status)
    good = {MembershipStatus.NEW, MembershipStatus.CURRENT, MembershipStatus.GRACE}
    assert org.in_good_standing is (status in good)


# --- the membership period: admission dates, daily rules, renewal, leaving ----------------------


def test_admission_opens_a_twelve_month_period_from_today() -> None:
    org = admitted()
    assert org.membership is not None
    # Rolling periods: twelve months, the last day covered being the day before the anniversary.
    assert (org.membership.start_date, org.membership.end_date) == (date(2025, 3, 2), date(2026, 3, 1))
    event = org.events[-1]
    assert isinstance(event, MemberAdmitted)
    assert (event.status, event.start_date, event.end_date) == ("new", date(2025, 3, 2), date(2026, 3, 1))


def test_an_existing_member_admitted_with_a_lapsed_period_is_expired_and_not_in_good_standing() -> None:
    org = accepted()
    org.decide(CouncilDecision.ADMIT, None, "M2025-00009", "council-1", LATER, start_date=date(2023, 1, 1))
    assert org.standing is MembershipStatus.EXPIRED
    event = org.events[-1]
    assert isinstance(event, MemberAdmitted) and event.in_good_standing is False


def test_the_daily_rules_move_a_member_through_its_statuses_with_one_event_per_change() -> None:
    org = admitted()
    end = date(2026, 3, 1)
    assert org.recalculate(date(2025, 7, 1), LATER) is True  # past the first three months
    assert org.recalculate(date(2025, 7, 1), LATER) is False  # idempotent the same day
    assert org.recalculate(end + timedelta(days=1), LATER) is True
    assert org.recalculate(end + timedelta(days=31), LATER) is True
    changes = [e for e in org.events if isinstance(e, MemberStatusChanged)]
    assert [(e.old_status, e.new_status, e.in_good_standing) for e in changes] == [
        ("new", "current", True),
        ("current", "grace", True),
        ("grace", "expired", False),
    ]
    assert org.in_good_standing is False


def test_renewing_a_lapsed_member_starts_a_new_period_and_restores_good_standing() -> None:
    org = admitted()
    org.recalculate(date(2026, 6, 1), LATER)
    assert org.standing is MembershipStatus.EXPIRED
    org.renew("secretariat-1", datetime(2026, 6, 2, tzinfo=UTC))
    assert org.in_good_standing
    assert org.membership is not None
    assert (org.membership.start_date, org.membership.end_date) == (date(2026, 6, 2), date(2027, 6, 1))
    renewed = [e for e in org.events if isinstance(e, MemberRenewed)]
    assert renewed and renewed[-1].in_good_standing is True
    assert isinstance(org.events[-1], MemberStatusChanged) and org.events[-1].new_status == "current"


def test_withdrawal_and_expulsion_are_final() -> None:
    org = admitted()
    org.withdraw("leaving the industry", "admin-1", LATER)
    assert isinstance(org.events[-1], MemberWithdrawn) and not org.in_good_standing
    with pytest.raises(Conflict):
        org.reinstate(None, "secretariat-1", LATER)
    other = admitted()
    other.expel("breach of the IPR policy", "council-1", LATER)
    assert isinstance(other.events[-1], MemberExpelled)
    with pytest.raises(Conflict):
        other.withdraw(None, "admin-1", LATER)


def test_a_status_override_needs_a_reason_and_emits_a_change() -> None:
    org = admitted()
    with pytest.raises(InvalidInput) as caught:
        org.override_status(MembershipStatus.CURRENT, "", None, "secretariat-1", LATER)
    assert caught.value.field == "reason"
    org.override_status(MembershipStatus.EXPIRED, "dues waived in error, correcting", None, "secretariat-1", LATER)
    assert isinstance(org.events[-1], MemberStatusChanged) and org.events[-1].reason
    assert not org.in_good_standing


@pytest.mark.parametrize(
    ("year", "sequence", "number"),
    [(2025, 1, "M2025-00001"), (2025, 42, "M2025-00042"), (2026, 99999, "M2026-99999")],
)
def test_membership_number_is_m_year_dash_five_digit_sequence(year: int, sequence: int, number: str) -> None:
    assert membership_number(year, sequence) == number
