"""IPR calls and patent declarations of a standards project.

Plain Python, no I/O. A call asks the working group's organisations to declare their patents
(or answer that none are known) by a deadline; a declaration names the patent and the holder's
licensing commitment, and a revision copies the old edition's declarations for re-declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Commitment(StrEnum):
    ROYALTY_FREE = "royalty_free"
    FRAND = "frand"
    DECLARATION_LATER = "declaration_later"
    UNWILLING = "unwilling"


class DeclarationStatus(StrEnum):
    CURRENT = "current"
    NEEDS_REDECLARATION = "needs_redeclaration"  # copied from the revised edition; not counted until re-declared
    REDECLARED = "redeclared"  # replaced by a new declaration on this edition


class CallAnswerKind(StrEnum):
    DECLARED = "declared"
    NO_PATENTS_KNOWN = "no_patents_known"


@dataclass
class CallAnswer:
    org_id: str
    answer: CallAnswerKind
    by: str
    at: datetime


@dataclass
class IprCall:
    id: str
    reason: str  # committee_draft | pre_ballot
    issued_at: datetime
    deadline: datetime
    draft_version: int | None
    participants: list[str]
    answers: list[CallAnswer] = field(default_factory=list)

    def answered_by(self, org_id: str) -> bool:
        return any(a.org_id == org_id for a in self.answers)

    def unanswered(self) -> list[str]:
        return [p for p in self.participants if not self.answered_by(p)]


@dataclass
class Declaration:
    id: str
    holder_id: str
    draft_version: int
    office: str
    number: str
    title: str
    family_id: str | None
    commitment: Commitment
    declared_by: str
    declared_at: datetime
    status: DeclarationStatus = DeclarationStatus.CURRENT
    edition_of: str | None = None  # a flagged copy names the project it came from
