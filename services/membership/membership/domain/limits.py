"""How much one organisation's document may hold: every string and list it keeps, written once.

An organisation is one document (MongoDB's limit: 16 MiB) that lives as long as the member:
its users, its history, its invoices with their payments and the reminders sent. Nothing in it
may grow without a bound:

- users: at most ``USERS_MAX`` at a time;
- history: what people do is bounded per year (``USER_CHANGES_PER_YEAR`` user changes,
  ``STANDING_ACTIONS_PER_YEAR`` suspensions, reinstatements and overrides, ``REVIEWS_MAX`` reviews
  of the application); what the rules do is bounded by the calendar (one renewal and a few
  status changes per membership period);
- invoices: one per membership period (a second bill for a period is refused), each with at most
  ``PAYMENTS_PER_INVOICE_MAX`` payments; reminders: a few per period.

At these rates a member's document grows by well under 1 MiB a year even with every text at its
maximum in three-byte characters; ``test_membership_bounds`` measures fifty such years as BSON.
Refusals are 409s naming the field; a request's own strings and lists are refused with 422.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

# --- strings (characters) ------------------------------------------------------------------------
NAME_MAX = 200  # an organisation's name
PERSON_NAME_MAX = 120
EMAIL_MAX = 254  # RFC 5321's path limit
PHONE_MAX = 40
SUBJECT_MAX = 200  # a login (the subject of a token)
REASON_MAX = 1000  # a review's, a decision's, a suspension's... reason
PAYMENT_METHOD_MAX = 40
PAYMENT_REFERENCE_MAX = 100

# --- lists kept inside one organisation ----------------------------------------------------------
USERS_MAX = 100
USER_CHANGES_PER_YEAR = 60  # users added or removed in any 365 days
STANDING_ACTIONS_PER_YEAR = 24  # suspensions, reinstatements and status overrides in any 365 days
REVIEWS_MAX = 20  # secretariat reviews of one application (changes requested, then reviewed again)
PAYMENTS_PER_INVOICE_MAX = 20
YEAR = timedelta(days=365)

# --- dates: a range every date computed from one stays inside (a year past 9999 is an error) -----
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2199, 12, 31, tzinfo=UTC)
