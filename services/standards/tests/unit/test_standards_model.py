"""Standards projects: only a member in good standing may propose one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alliance_common.errors import Forbidden
from standards.domain.events import ProjectProposed
from standards.domain.model import Project, ProjectStatus

NOW = datetime(2025, 5, 1, 8, 30, tzinfo=UTC)


def propose(in_good_standing: bool) -> Project:
    return Project.propose(
        id="proj-1",
        title="Mini-LED reliability test method",
        scope="Accelerated ageing of mini-LED backlights",
        proposer_id="org-1",
        proposer_in_good_standing=in_good_standing,
        by="chen.li@example.com",
        now=NOW,
    )


def test_a_member_in_good_standing_may_propose() -> None:
    project = propose(True)
    assert project.status is ProjectStatus.PROPOSED
    assert (project.proposer_id, project.proposed_by, project.proposed_at) == ("org-1", "chen.li@example.com", NOW)
    assert [(h.action, h.by) for h in project.history] == [("proposed", "chen.li@example.com")]


def test_proposal_by_an_organisation_not_in_good_standing_is_forbidden() -> None:
    with pytest.raises(Forbidden) as excinfo:
        propose(False)
    assert "org-1" in excinfo.value.detail
    assert excinfo.value.status == 403


def test_proposal_emits_project_proposed() -> None:
    (event,) = propose(True).events
    assert isinstance(event, ProjectProposed)
    assert event.stage == "proposed"
    assert (event.project_id, event.title, event.scope, event.proposer_id, event.proposed_at) == (
        "proj-1",
        "Mini-LED reliability test method",
        "Accelerated ageing of mini-LED backlights",
        "org-1",
        NOW,
    )
