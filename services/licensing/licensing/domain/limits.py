"""How much licensing's documents may hold: every string and list they keep, written once.

The lists that grow inside one document, and what bounds them:

- a royalty account (one per programme and licensee group) keeps every report it filed: one per
  quarter (a second report for a quarter is refused), none for a quarter more than
  ``REPORT_LOOKBACK_YEARS`` back, each with at most ``REPORT_LINES_MAX`` lines and
  ``PAYMENTS_PER_REPORT_MAX`` payments (each payment is one history entry);
- a licensee group holds at most ``SUBSIDIARIES_MAX`` subsidiaries;
- a licence's history grows with its licensee's standing changes, which membership bounds per
  year (``membership.domain.limits.STANDING_ACTIONS_PER_YEAR``; the rules add a few per period);
- a patent's EP validations, a licence's territory and a schedule's markets are sets of country
  codes, bounded by the codes that exist.

The account is the one list that grows without a calendar bound on its size: a stored report
line costs 1.1 to 1.8 KB (with every pricing step), plus about 65 bytes for each listed patent in
force that covers it (its id, and its number in the explanation). So an account holds at most
``ACCOUNT_LINES_MAX`` lines and ``ACCOUNT_COVERAGE_MAX`` (line, covering patent) pairs over all its
reports; a report that would pass either is refused (409 naming ``lines``) before anything is
stored, rather than failing in the store. With a pool of 300 patents covering every line that is
about 210 lines in all: storing a line's coverage once per report, or each report as its own
document, would lift it (not done here). ``test_licensing_bounds`` files an account up to both
bounds and measures it as BSON (11.3 MiB).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

# --- strings (characters) ------------------------------------------------------------------------
ID_MAX = 64  # an organisation's, patent's, programme's... id given in a request
NAME_MAX = 200
TEXT_MAX = 500  # a patent's title, its family id
PATENT_NUMBER_MAX = 40
DESCRIPTION_MAX = 5000
EVALUATION_REASON_MAX = 5000
CATEGORY_MAX = 60  # a product category of a rate schedule

# --- numbers ---------------------------------------------------------------------------------------
UNITS_MAX = 10**12  # units on one report line, free units a year, a tier's bound (BSON's int64 is far above)

# --- lists ------------------------------------------------------------------------------------------
COUNTRIES_MAX = 250  # ISO 3166 has 249 codes
CATEGORIES_MAX = 50  # product categories of one rate schedule
TIERS_MAX = 10  # volume tiers of one category
REPORT_LINES_MAX = 500
REPORT_LOOKBACK_YEARS = 10  # back-royalty lines and recorded history reach this far back, no further
PAYMENTS_PER_REPORT_MAX = 20
ACCOUNT_LINES_MAX = 4_000  # report lines stored in one royalty account, all reports
ACCOUNT_COVERAGE_MAX = 64_000  # (line, covering patent) pairs stored in one royalty account
SUBSIDIARIES_MAX = 200

# --- dates: a range every date computed from one stays inside (a year past 9999 is an error) -----
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2199, 12, 31, tzinfo=UTC)
