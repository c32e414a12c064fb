"""HTTP request and response bodies of the standards service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from alliance_common.problems import RequestModel
from standards.domain.model import Project, ProjectStatus


class ProjectCreate(RequestModel):
    title: Annotated[str, StringConstraints(min_length=5, max_length=300)]
    scope: Annotated[str, StringConstraints(min_length=10, max_length=5000)]

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "title": "Test method for luminous flux maintenance of LED packages",
                    "scope": "Specifies the test conditions and method for lumen maintenance of LED packages.",
                }
            ]
        },
    }


class HistoryPublic(BaseModel):
    at: datetime
    action: str
    by: str
    reason: str | None


class ProjectPublic(BaseModel):
    id: str
    title: str
    scope: str
    proposer_id: str
    status: ProjectStatus
    proposed_at: datetime
    history: list[HistoryPublic]

    @classmethod
    def of(cls, project: Project) -> ProjectPublic:
        return cls(
            id=project.id,
            title=project.title,
            scope=project.scope,
            proposer_id=project.proposer_id,
            status=project.status,
            proposed_at=project.proposed_at,
            history=[HistoryPublic(at=h.at, action=h.action, by=h.by, reason=h.reason) for h in project.history],
        )
