"""Numbers of published standards: ``T/<alliance code> <number>—<year>``, unique, never reused.

A single counter document allocates them through the versioned write, so two publications
racing never get the same number; a number once allocated (even if its standard is later
withdrawn) stays taken, and allocating again for the same project returns its number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alliance_common.errors import InvalidInput

COUNTER_ID = "standard-numbers"


def format_number(code: str, sequence: int, year: int) -> str:
    if not code or not code.isalnum():
        raise InvalidInput(f"the alliance code {code!r} must be letters and digits", field="alliance_code")
    return f"T/{code} {sequence:03d}\u2014{year}"


@dataclass
class Allocation:
    project_id: str
    sequence: int
    number: str


@dataclass
class NumberCounter:
    last: int = 0
    allocations: list[Allocation] = field(default_factory=list)
    id: str = COUNTER_ID
    version: int = 0
    events: list[object] = field(default_factory=list, repr=False)  # it raises none

    def allocate(self, project_id: str, code: str, year: int) -> str:
        for allocation in self.allocations:
            if allocation.project_id == project_id:
                return allocation.number
        self.last += 1
        number = format_number(code, self.last, year)
        self.allocations.append(Allocation(project_id, self.last, number))
        return number
