"""Ballots of a standards project: one vote per eligible member organisation, counted by a tally.

Plain Python, no I/O. A vote is never deleted: losing standing voids it (``voided_at``), and
the tally counts only the votes that still count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Position(StrEnum):
    APPROVE = "approve"
    DISAPPROVE = "disapprove"
    ABSTAIN = "abstain"


@dataclass
class Vote:
    organisation_id: str
    position: Position
    reason: str | None
    by: str
    at: datetime
    voided_at: datetime | None = None
    void_reason: str | None = None

    @property
    def counts(self) -> bool:
        return self.voided_at is None


@dataclass(frozen=True)
class Tally:
    eligible: int
    quorum: int
    threshold: Decimal
    approve: int
    disapprove: int
    abstain: int
    voided: int

    @property
    def cast(self) -> int:
        """Votes cast: approvals and disapprovals (abstentions are not cast)."""
        return self.approve + self.disapprove

    @property
    def returned(self) -> int:
        """Every counted vote, abstentions included: what the quorum counts."""
        return self.cast + self.abstain

    @property
    def quorum_met(self) -> bool:
        return self.returned >= self.quorum

    @property
    def threshold_met(self) -> bool:
        return self.cast > 0 and Decimal(self.approve) >= self.threshold * self.cast

    @property
    def can_pass(self) -> bool:
        return self.quorum_met and self.threshold_met

    @property
    def votes_needed_for_quorum(self) -> int:
        return max(0, self.quorum - self.returned)

    @property
    def approvals_needed(self) -> int | None:
        """More approvals needed to meet the threshold if nobody else disapproves (None: impossible)."""
        if self.threshold >= 1:
            return None if self.disapprove else max(0, 1 - self.approve)
        k = math.ceil((self.threshold * self.cast - self.approve) / (1 - self.threshold))
        k = max(0, k)
        if self.approve + k == 0:
            k = 1
        return k

    def explain(self) -> str:
        return (
            f"{self.returned} of the {self.quorum} votes the quorum needs; "
            f"{self.approve} approvals of {self.cast} votes cast, {self.threshold} needed"
        )


@dataclass
class Ballot:
    number: int
    opened_at: datetime
    closes_at: datetime
    quorum: int
    threshold: Decimal
    eligible: list[str]
    drafters: list[str]
    votes: list[Vote] = field(default_factory=list)
    result: str | None = None  # approved | failed | repeated
    closed_at: datetime | None = None

    def tally(self) -> Tally:
        counted = [v for v in self.votes if v.counts]
        return Tally(
            eligible=len(self.eligible),
            quorum=self.quorum,
            threshold=self.threshold,
            approve=sum(v.position is Position.APPROVE for v in counted),
            disapprove=sum(v.position is Position.DISAPPROVE for v in counted),
            abstain=sum(v.position is Position.ABSTAIN for v in counted),
            voided=len(self.votes) - len(counted),
        )

    def vote_of(self, org_id: str) -> Vote | None:
        for vote in self.votes:
            if vote.organisation_id == org_id and vote.counts:
                return vote
        return None

    @property
    def all_voted(self) -> bool:
        return bool(self.eligible) and all(self.vote_of(o) is not None for o in self.eligible)

    def is_open(self, now: datetime) -> bool:
        return self.result is None and self.opened_at <= now < self.closes_at
