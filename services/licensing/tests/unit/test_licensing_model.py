"""Licences: the internal cross-licence follows its member's standing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from licensing.domain.events import LicenceGranted, LicenceRestored, LicenceSuspended
from licensing.domain.model import INTERNAL_PROGRAMME, Licence, LicenceKind, LicenceStatus

NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def granted() -> Licence:
    return Licence.grant_cross_licence("org-1", "Fujian LED Co.", NOW, cause="event-admitted-1")


def test_cross_licence_id_is_derived_from_the_member() -> None:
    assert Licence.cross_licence_id("org-1") == "XL-org-1"


def test_grant_makes_an_active_internal_cross_licence() -> None:
    licence = granted()
    assert licence.id == "XL-org-1"
    assert licence.licensee_id == "org-1"
    assert licence.kind is LicenceKind.INTERNAL_CROSS_LICENCE
    assert licence.programme == INTERNAL_PROGRAMME
    assert licence.status is LicenceStatus.ACTIVE
    assert licence.in_force


def test_grant_emits_licence_granted() -> None:
    events = granted().events
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, LicenceGranted)
    assert (event.licence_id, event.licensee_id, event.kind, event.programme, event.granted_at) == (
        "XL-org-1",
        "org-1",
        "internal_cross_licence",
        INTERNAL_PROGRAMME,
        NOW,
    )


def test_grant_records_its_cause() -> None:
    (entry,) = granted().history
    assert (entry.action, entry.cause, entry.at) == ("granted", "event-admitted-1", NOW)


def test_suspend_takes_the_licence_out_of_force_and_emits_licence_suspended() -> None:
    licence = granted()
    licence.suspend("member suspended", LATER, cause="event-suspended-1")
    assert licence.status is LicenceStatus.SUSPENDED
    assert not licence.in_force
    event = licence.events[-1]
    assert isinstance(event, LicenceSuspended)
    assert (event.licence_id, event.licensee_id, event.reason, event.suspended_at) == (
        "XL-org-1",
        "org-1",
        "member suspended",
        LATER,
    )


def test_suspend_records_cause_and_reason() -> None:
    licence = granted()
    licence.suspend("member suspended", LATER, cause="event-suspended-1")
    entry = licence.history[-1]
    assert (entry.action, entry.cause, entry.reason, entry.at) == (
        "suspended",
        "event-suspended-1",
        "member suspended",
        LATER,
    )


def test_suspending_a_suspended_licence_changes_nothing() -> None:
    licence = granted()
    licence.suspend("member suspended", LATER, cause="event-suspended-1")
    events, history = list(licence.events), list(licence.history)
    licence.suspend("member suspended", LATER, cause="event-suspended-2")
    assert licence.events == events
    assert licence.history == history
    assert licence.status is LicenceStatus.SUSPENDED


def test_restore_puts_a_suspended_licence_back_in_force() -> None:
    licence = granted()
    licence.suspend("member suspended", NOW, cause="event-suspended-1")
    licence.restore(LATER, cause="event-reinstated-1")
    assert licence.status is LicenceStatus.ACTIVE
    assert licence.in_force
    event = licence.events[-1]
    assert isinstance(event, LicenceRestored)
    assert (event.licence_id, event.licensee_id, event.restored_at) == ("XL-org-1", "org-1", LATER)
    entry = licence.history[-1]
    assert (entry.action, entry.cause) == ("restored", "event-reinstated-1")


def test_restoring_an_active_licence_changes_nothing() -> None:
    licence = granted()
    licence.restore(LATER, cause="event-reinstated-1")
    assert [type(e) for e in licence.events] == [LicenceGranted]
    assert [h.action for h in licence.history] == ["granted"]


def test_history_explains_every_state_by_its_cause() -> None:
    licence = granted()
    licence.suspend("member suspended", NOW, cause="e2")
    licence.restore(NOW, cause="e3")
    licence.suspend("member suspended again", LATER, cause="e4")
    assert [(h.action, h.cause) for h in licence.history] == [
        ("granted", "event-admitted-1"),
        ("suspended", "e2"),
        ("restored", "e3"),
        ("suspended", "e4"),
    ]
    assert [type(e) for e in licence.events] == [LicenceGranted, LicenceSuspended, LicenceRestored, LicenceSuspended]
