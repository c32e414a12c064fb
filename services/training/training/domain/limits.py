"""Training's bounds on what a request may carry, written once.

A group registration names at most ``GROUP_ATTENDEES_MAX`` people (one organisation's group
for one session); the domain refuses more (422 on ``attendees``) whoever calls it, and the
request schema says so. How many registrations a session keeps is the registrations' own
document layout (they move out of the session document), not bounded here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

# --- strings (characters) ------------------------------------------------------------------------
TITLE_MAX = 300
VENUE_MAX = 300
PERSON_NAME_MAX = 120
EMAIL_MAX = 254  # RFC 5321's path limit
REASON_MAX = 500  # a cancellation's or a rejection's reason

# --- numbers and lists -----------------------------------------------------------------------------
CAPACITY_MAX = 10_000
GROUP_ATTENDEES_MAX = 50
MIN_DAYS_FOR_CERTIFICATE_MAX = 60

# --- dates: a range every date computed from one stays inside (a year past 9999 is an error) -----
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2199, 12, 31, tzinfo=UTC)
