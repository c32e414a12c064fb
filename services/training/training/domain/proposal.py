"""A session proposed on a newly published standard: a draft the secretariat can schedule.

Created from the standard's publication event, with an id derived from the standards project,
so a redelivered event finds it and changes nothing. It is not open for registration: scheduling
it (with dates, place and prices) creates the session. Plain Python, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from alliance_common.errors import Conflict
from training.domain.events import SessionProposed
from training.domain.model import Audience, SessionFormat


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    SCHEDULED = "scheduled"


@dataclass
class Proposal:
    id: str
    project_id: str
    standard_number: str
    standard_title: str
    published_on: date
    title: str
    audience: Audience
    format: SessionFormat
    status: ProposalStatus
    proposed_at: datetime
    session_id: str | None = None
    scheduled_by: str | None = None
    scheduled_at: datetime | None = None
    version: int = 0
    events: list[SessionProposed] = field(default_factory=list, repr=False)

    @staticmethod
    def id_for(project_id: str) -> str:
        return f"PROP-{project_id}"

    @classmethod
    def from_standard(cls, *, project_id: str, number: str, title: str, published_on: date, now: datetime) -> Proposal:
        proposal = cls(
            id=cls.id_for(project_id),
            project_id=project_id,
            standard_number=number,
            standard_title=title,
            published_on=published_on,
            title=f"{number} {title}: what the new standard requires",
            audience=Audience.ENGINEERS,
            format=SessionFormat.SEMINAR,
            status=ProposalStatus.PROPOSED,
            proposed_at=now,
        )
        proposal.events.append(
            SessionProposed(session_id=proposal.id, title=proposal.title, standard_number=number, project_id=project_id)
        )
        return proposal

    def session_id_for(self) -> str:
        """The session scheduling this proposal creates (one only, even if two staff race)."""
        return f"SES-{self.id}"

    def require_proposed(self) -> None:
        if self.status is not ProposalStatus.PROPOSED:
            raise Conflict(f"this proposal was scheduled already as session {self.session_id}", field="proposal_id")

    def mark_scheduled(self, session_id: str, *, by: str, now: datetime) -> None:
        self.require_proposed()
        self.status = ProposalStatus.SCHEDULED
        self.session_id = session_id
        self.scheduled_by = by
        self.scheduled_at = now
