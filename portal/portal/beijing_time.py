"""Times as the alliance's people read them: Beijing time (UTC+8, no daylight saving).

The API gives UTC timestamps; every page that shows a deadline (and the notification mails, see
``notifications.domain.messages``) writes it in Beijing time and says so, so that a deadline in a
mail and on the portal read the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

BEIJING = timezone(timedelta(hours=8), "CST")
LABEL = {"en": "Beijing time, UTC+8", "zh": "北京时间"}


def beijing(value: Any) -> str:
    """An API timestamp (ISO 8601; naive means UTC) in Beijing time: ``2026-12-01 17:30``; a value
    that is not a timestamp as it is."""
    text = str(value or "")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
