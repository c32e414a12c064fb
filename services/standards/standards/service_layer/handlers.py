"""Use cases of the standards service."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from alliance_common.auth import Principal, Role, require_roles
from alliance_common.errors import Forbidden, NotFound
from alliance_common.pagination import after_filter
from alliance_contracts.standing import StandingProjection
from standards.adapters.repository import ProjectRepository
from standards.domain.model import Project


def utcnow() -> datetime:
    return datetime.now(UTC)


class StandardsService:
    def __init__(
        self, repo: ProjectRepository, standing: StandingProjection, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.repo = repo
        self.standing = standing
        self.clock = clock

    async def propose(self, title: str, scope: str, principal: Principal, correlation_id: str | None = None) -> Project:
        require_roles(principal, Role.MEMBER_ADMIN, Role.MEMBER_STAFF)
        if principal.org_id is None:
            raise Forbidden("your account is not linked to a member organisation")
        project = Project.propose(
            id=str(uuid.uuid4()),
            title=title,
            scope=scope,
            proposer_id=principal.org_id,
            proposer_in_good_standing=await self.standing.in_good_standing(principal.org_id),
            by=principal.subject,
            now=self.clock(),
        )
        await self.repo.add(project, correlation_id)
        return project

    async def get(self, project_id: str) -> Project:
        project = await self.repo.get(project_id)
        if project is None:
            raise NotFound(f"project {project_id} not found")
        return project

    async def list_projects(self, cursor: str | None, limit: int, proposer_id: str | None) -> list[Project]:
        query: dict[str, object] = {"proposer_id": proposer_id} if proposer_id else {}
        return await self.repo.find(after_filter(query, cursor), limit)
