"""Licence ↔ document mapping (pure functions; no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from licensing.adapters.repository import from_document, to_document
from licensing.domain.model import Licence, LicenceStatus

NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)


def licence() -> Licence:
    return Licence.grant_cross_licence("org-1", "Fujian LED Co.", NOW, cause="event-1")


def test_document_leaves_out_id_version_and_events() -> None:
    doc = to_document(licence())
    assert not {"id", "version", "events"} & doc.keys()
    assert doc["licensee_id"] == "org-1"


def test_round_trip_of_a_granted_licence() -> None:
    original = licence()
    back = from_document(original.id, 0, to_document(original))
    original.events = []
    assert back == original


def test_round_trip_of_a_suspended_licence_keeps_status_history_and_version() -> None:
    original = licence()
    original.suspend("member suspended", NOW, cause="event-2")
    back = from_document(original.id, 5, to_document(original))
    assert back.version == 5
    assert back.status is LicenceStatus.SUSPENDED
    assert [(h.action, h.cause, h.reason) for h in back.history] == [
        ("granted", "event-1", None),
        ("suspended", "event-2", "member suspended"),
    ]
    assert back.events == []


def test_round_trip_from_plain_strings_as_stored() -> None:
    doc = {k: (str(v) if k in ("kind", "status") else v) for k, v in to_document(licence()).items()}
    back = from_document("XL-org-1", 1, doc)
    assert back.status is LicenceStatus.ACTIVE
    assert back.kind == "internal_cross_licence"
