"""What the secretariat's and the council's pages share (``pages/applications.py``, ``pages/pool.py``,
``pages/sessions_admin.py``): who may see them, the form values and the API's field errors, and
times shown and entered in China Standard Time (the alliance's; the API speaks UTC).

Templates: ``templates/staff/_staff.html`` holds the form macros these pages use beyond
``_macros.html`` (a text area, radio buttons, a check box); they take their labels as arguments.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from portal.sessions import User
from portal.web import ApiProblem, NotAllowed, environment, require_user

CHINA = timezone(timedelta(hours=8), "CST")  # no daylight saving in China


def secretariat(user: User | None) -> bool:
    return user is not None and user.has_any("secretariat")


def council(user: User | None) -> bool:
    return user is not None and user.has_any("council")


def staff(user: User | None) -> bool:
    return user is not None and user.is_staff


def require_staff(request: Request) -> None:
    """The staff pages' gate: sign in first, then the secretariat or the council only (a plain 403 page)."""
    if not staff(require_user(request)):
        raise NotAllowed()


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def field_errors(problem: ApiProblem, known: dict[str, str] | None = None) -> dict[str, str]:
    """The API's field errors by the form's field names: ``lines.0.units`` -> ``lines``, and
    ``known`` renames an API field to the form's (``body.start_date`` -> ``start_date``)."""
    errors: dict[str, str] = {}
    for api_field, reason in problem.errors.items():
        name = re.sub(r"(\.\d+)+$", "", api_field.removeprefix("body."))
        errors.setdefault((known or {}).get(name, name), reason)
    return errors


def parse_moment(value: Any) -> datetime | None:
    """An API timestamp (``2026-11-27T15:30:00Z``); None for anything else, a bare date too."""
    if not value or "T" not in str(value):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def when(value: Any) -> str:
    """An API timestamp as China time, ``2026-11-27 23:30``; a date stays as it is."""
    moment = parse_moment(value)
    if moment is None:
        return str(value or "")
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def local_input(value: Any) -> str:
    """An API timestamp as a ``datetime-local`` input's value (China time)."""
    moment = parse_moment(value)
    return moment.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


def from_local_input(value: str) -> str | None:
    """A ``datetime-local`` value (China time) as the API's ISO timestamp; None if empty or not one."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def today_in_china() -> date:
    return datetime.now(CHINA).date()


environment.filters["china_time"] = when
environment.filters["local_input"] = local_input
