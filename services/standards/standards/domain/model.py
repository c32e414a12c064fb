"""Standards projects. Only a member in good standing may propose one.

Plain Python, no I/O; state changes append the integration events that record them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from alliance_common.errors import Forbidden
from alliance_common.events import IntegrationEvent
from alliance_contracts.standards import ProjectProposed


class ProjectStatus(StrEnum):
    PROPOSED = "proposed"


@dataclass
class HistoryEntry:
    at: datetime
    action: str
    by: str
    reason: str | None = None


@dataclass
class Project:
    id: str
    title: str
    scope: str
    proposer_id: str
    proposed_by: str
    status: ProjectStatus
    proposed_at: datetime
    history: list[HistoryEntry] = field(default_factory=list)
    version: int = 0
    events: list[IntegrationEvent] = field(default_factory=list, repr=False)

    @classmethod
    def propose(
        cls,
        *,
        id: str,
        title: str,
        scope: str,
        proposer_id: str,
        proposer_in_good_standing: bool,
        by: str,
        now: datetime,
    ) -> Project:
        if not proposer_in_good_standing:
            raise Forbidden(f"organisation {proposer_id} is not a member in good standing and may not propose projects")
        project = cls(
            id=id,
            title=title,
            scope=scope,
            proposer_id=proposer_id,
            proposed_by=by,
            status=ProjectStatus.PROPOSED,
            proposed_at=now,
        )
        project.history.append(HistoryEntry(now, "proposed", by))
        project.events.append(
            ProjectProposed(project_id=id, title=title, scope=scope, proposer_id=proposer_id, proposed_at=now)
        )
        return project
