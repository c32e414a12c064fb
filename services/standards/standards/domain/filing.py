"""What the national group-standard platform asks of a standard's filing beyond its number and title.

The platform (全国团体标准信息平台) records, for each group standard: the English title, its
classification in the International Classification for Standards (ICS) and in the Chinese
Standard Classification (CCS, 中国标准文献分类法), the drafting organisations and the drafting
persons (起草人), and the patents declared on it with their holders' names.

Formats, validated here (one place; the request schemas call the same checks):

- ICS: a two-digit field (01-99), optionally a three-digit group and a two-digit sub-group, dot
  separated: ``31``, ``31.260``, ``33.160.01``. (The hyphenated fourth level some national
  catalogues add is not part of the ICS and is not accepted.)
- CCS: one of the 24 first-level category letters (A-Z without I and O) and a two-digit second
  level: ``L51``, ``M36``, ``K74``.

These particulars are given at proposal and may be given or corrected at publication and at
filing; none is required by the life cycle (standards published before they existed stay
readable and fileable), so the filing record states which ones it still ``missing``.

Organisations' names (the drafting organisations', the drafting persons', the patent holders')
are not kept with the project: the filing record reads them, when it is read, from standards'
own view of membership (``adapters.standing``, from the admission events it already consumes),
so a record always shows the name membership last stated, and the published event stays within
Kafka's message size (names travel with membership's events). Plain Python, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from alliance_common.errors import InvalidInput
from standards.domain import limits

ICS_PATTERN = r"^(0[1-9]|[1-9][0-9])(\.[0-9]{3}(\.[0-9]{2})?)?$"
CCS_PATTERN = r"^[A-HJ-NP-Z][0-9]{2}$"
_ICS = re.compile(ICS_PATTERN)
_CCS = re.compile(CCS_PATTERN)

ICS_RULE = (
    "an ICS code is a two-digit field (01-99), optionally .group (3 digits) and .sub-group (2 digits), "
    "e.g. 31.260 or 33.160.01"
)
CCS_RULE = "a CCS code is a category letter (A-Z except I and O) and two digits, e.g. L51 or M36"


def ics_problem(code: str) -> str | None:
    """Why ``code`` is not an ICS code, or None."""
    return None if _ICS.fullmatch(code) else f"'{code}' is not an ICS code: {ICS_RULE}"


def ccs_problem(code: str) -> str | None:
    """Why ``code`` is not a CCS code, or None."""
    return None if _CCS.fullmatch(code) else f"'{code}' is not a CCS code: {CCS_RULE}"


def english_title_problem(title: str) -> str | None:
    if not any("a" <= c.lower() <= "z" for c in title):
        return "the English title must be written in English (Latin letters)"
    return None


@dataclass(frozen=True)
class DraftingPerson:
    name: str
    org_id: str


def check_ics_codes(codes: tuple[str, ...], field: str = "ics_codes") -> tuple[str, ...]:
    if len(codes) > limits.ICS_CODES_MAX:
        raise InvalidInput(f"at most {limits.ICS_CODES_MAX} ICS codes", field=field)
    for i, code in enumerate(codes):
        problem = ics_problem(code)
        if problem:
            raise InvalidInput(problem, field=f"{field}.{i}")
    if len(set(codes)) != len(codes):
        raise InvalidInput("an ICS code is listed twice", field=field)
    return codes


def check_ccs_code(code: str, field: str = "ccs_code") -> str:
    problem = ccs_problem(code)
    if problem:
        raise InvalidInput(problem, field=field)
    return code


def check_english_title(title: str, field: str = "title_en") -> str:
    title = title.strip()
    problem = english_title_problem(title) if title else "the English title is empty"
    if problem:
        raise InvalidInput(problem, field=field)
    return title


def check_drafters(
    drafters: tuple[DraftingPerson, ...], organisations: list[str], field: str = "drafters"
) -> tuple[DraftingPerson, ...]:
    """Each drafting person named, of an organisation of the working group, listed once."""
    if len(drafters) > limits.DRAFTERS_MAX:
        raise InvalidInput(f"at most {limits.DRAFTERS_MAX} drafting persons", field=field)
    seen: set[tuple[str, str]] = set()
    for i, person in enumerate(drafters):
        if not person.name.strip():
            raise InvalidInput("a drafting person needs a name", field=f"{field}.{i}.name")
        if len(person.name.strip()) > limits.DRAFTER_NAME_MAX:
            raise InvalidInput(f"at most {limits.DRAFTER_NAME_MAX} characters", field=f"{field}.{i}.name")
        if person.org_id not in organisations:
            raise InvalidInput(
                f"organisation {person.org_id} is not in this project's working group", field=f"{field}.{i}.org_id"
            )
        key = (person.name.strip(), person.org_id)
        if key in seen:
            raise InvalidInput(f"{person.name} of {person.org_id} is listed twice", field=f"{field}.{i}")
        seen.add(key)
    return tuple(DraftingPerson(p.name.strip(), p.org_id) for p in drafters)


# What the platform asks that a record may lack (the rest every published standard has).
PARTICULARS = ("title_en", "ics_codes", "ccs_code", "drafters")
