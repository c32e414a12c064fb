"""How much licensing's documents may hold: every string and list they keep, written once.

The lists that grow inside one document, and what bounds them:

- a royalty account (one per programme and licensee group) keeps every report it filed: one per
  quarter that has ended (a second report for a quarter is refused), none for a quarter more than
  ``REPORT_LOOKBACK_YEARS`` back when it is filed, so at most 4 a year the programme runs plus
  4 × ``REPORT_LOOKBACK_YEARS`` at its first filing. A report's lines are not in the account: they
  are its body, kept apart in ``royalty_lines`` chunks (``licensing.adapters.royalty_repository``,
  at most ~4 MB of JSON each, compressed); the account keeps per report only its reference to them
  (key, line count, chunk counts), its totals and dates, at most ``PAYMENTS_PER_REPORT_MAX``
  payments and one history entry for the filing and each payment; and one year-to-date position per
  year reported. So what the account grows by is the calendar, not the lines:
  ``test_licensing_bounds`` files a century of quarterly reports (440, each with every payment, at
  the longest strings) and measures the account as BSON: 4.2 MiB, ~10 KB a report (16 MiB would
  take ~1,600 reports, four centuries);
- a report has at most ``REPORT_LINES_MAX`` lines. The figure comes from the gateway's body limit
  (``gateway.settings.max_body_bytes``, 1 MiB = 1,048,576 bytes): the largest valid line (every
  field given, units at ``UNITS_MAX``, a category of ``CATEGORY_MAX`` characters outside the basic
  plane, which JSON's default ASCII escapes write as 12 bytes each) is 871 bytes as Python's
  ``json.dumps`` writes it, so 1,000 of them with the report's other fields are 873,138 bytes (963
  KB even indented by 4): any report the schema accepts passes the gateway. 1,200 would be the
  most that fit; 1,000 leaves room for whitespace. A usual line (an ASCII category, no sale date)
  is ~110 bytes: 1,000 lines is ~110 KB. A report's lines are summed by category, countries and
  quarter, so 1,000 lines is e.g. 10 categories x 100 countries of sale; a licensee that sells more
  widely sums by region. At the bound, with every line covered by 300 patents (~25 KB of JSON a
  priced line), a report's body is 8 chunks of at most 4 MB of JSON, ~250 KB each as stored
  (``test_licensing_bounds`` measures them as BSON);
- a licensee group holds at most ``SUBSIDIARIES_MAX`` subsidiaries;
- a licence's history grows with its licensee's standing changes, which membership bounds per
  year (``membership.domain.limits.STANDING_ACTIONS_PER_YEAR``; the rules add a few per period);
- a patent's EP validations, a licence's territory and a schedule's markets are sets of country
  codes, bounded by the codes that exist.
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
FILING_NUMBER_MAX = 60  # the patent office's filing number of a licence contract

# --- numbers ---------------------------------------------------------------------------------------
UNITS_MAX = 10**12  # units on one report line, free units a year, a tier's bound (BSON's int64 is far above)

# --- lists ------------------------------------------------------------------------------------------
COUNTRIES_MAX = 250  # ISO 3166 has 249 codes
CATEGORIES_MAX = 50  # product categories of one rate schedule
TIERS_MAX = 10  # volume tiers of one category
REPORT_LINES_MAX = 1_000  # 1,000 of the largest valid line fit the gateway's 1 MiB body (see above)
REPORT_LOOKBACK_YEARS = 10  # back-royalty lines and recorded history reach this far back, no further
PAYMENTS_PER_REPORT_MAX = 20
SUBSIDIARIES_MAX = 200

# --- dates: a range every date computed from one stays inside (a year past 9999 is an error) -----
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2199, 12, 31, tzinfo=UTC)
