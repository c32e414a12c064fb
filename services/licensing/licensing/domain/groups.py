"""Licensee groups: a company and its more-than-50 %-owned subsidiaries.

Free units, volume tiers and the annual cap are counted per group, so a licensee cannot
multiply them by reporting through its subsidiaries. Plain Python, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from alliance_common.errors import Conflict, InvalidInput
from licensing.domain import limits

CONTROL = Decimal("50")


@dataclass(frozen=True)
class Subsidiary:
    org_id: str
    name: str
    ownership_percent: Decimal
    since: date


@dataclass
class LicenseeGroup:
    id: str  # the parent company's organisation id
    name: str
    subsidiaries: list[Subsidiary] = field(default_factory=list)
    version: int = 0

    def members(self) -> set[str]:
        return {self.id, *(s.org_id for s in self.subsidiaries)}

    def add(self, org_id: str, name: str, ownership_percent: Decimal, since: date) -> Subsidiary:
        if not CONTROL < ownership_percent <= Decimal(100):
            raise InvalidInput("a subsidiary is more than 50 % owned (50 < ownership ≤ 100)", field="ownership_percent")
        if org_id == self.id:
            raise InvalidInput("the parent company is in its group already", field="org_id")
        if org_id in self.members():
            raise Conflict(f"{org_id} is in this group already", field="org_id")
        if len(self.subsidiaries) >= limits.SUBSIDIARIES_MAX:
            raise Conflict(f"a licensee group has at most {limits.SUBSIDIARIES_MAX} subsidiaries", field="subsidiaries")
        subsidiary = Subsidiary(org_id, name, ownership_percent, since)
        self.subsidiaries.append(subsidiary)
        return subsidiary
