"""How much one standards project may hold: every string and every list it keeps, written once.

A project is one document (MongoDB's limit: 16 MiB), and everything in it grows with use:
comments, declarations, drafts, ballots and their votes, IPR calls and the history. Each list
has a bound here, chosen from the alliance's practice, so that a project filled to every bound
at once, with every text at its maximum length in three-byte (CJK) characters, still fits
with room to spare (``test_standards_bounds`` builds that project and measures it as BSON).

The bounds are refused with 409 (the project's state does not allow more, the field named) or,
for a request's own strings and lists, with 422 from the request schema.

One list is bounded by the alliance rather than by the project: a ballot's eligible voters are
the members in good standing when it opens (one vote each). The budget holds for
``ELIGIBLE_VOTERS_BUDGETED`` of them per ballot; an alliance beyond that keeps ballots in their
own documents.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

# --- strings (characters) ------------------------------------------------------------------------
TITLE_MAX = 300
SCOPE_MAX = 5000
REASON_MAX = 2000  # a transition's reason
CLAUSE_MAX = 50
COMMENT_TEXT_MAX = 2000  # a public comment (was 5000: one paragraph of argument, not an essay)
PROPOSED_CHANGE_MAX = 1000
DISPOSITION_REASON_MAX = 1000
VOTE_REASON_MAX = 500  # a disapproval's reasons; the detail goes to a comment
VOID_REASON_MAX = 200  # why a vote was voided (the membership event's reason, shortened)
DRAFT_URI_MAX = 1000
DRAFT_NOTES_MAX = 1000
ORG_ID_MAX = 100
PERSON_MAX = 200
REFERENCE_MAX = 100  # a registry reference
PATENT_OFFICE_MAX = 10
PATENT_NUMBER_MAX = 40
PATENT_TITLE_MAX = 500
PATENT_FAMILY_MAX = 100
DRAFTER_NAME_MAX = 60  # a drafting person's name as the filing record prints it
CLASSIFICATION_MAX = 20  # an ICS or CCS code as given (the formats are far shorter)

# --- lists kept inside one project ---------------------------------------------------------------
WORKING_GROUP_MAX = 200  # organisations in the working group
WORKING_GROUP_CHANGES_MAX = 10  # times the group is set (each is one history entry naming every member)
DRAFT_VERSIONS_MAX = 50
COMMENTS_MAX = 400  # all public comments of the project, over every comment period
COMMENTS_PER_COMMENTER_PER_PERIOD = 50  # per organisation (or per person without one), per period
DECLARATIONS_MAX = 400  # IPR declarations, every holder, every edition
DECLARATIONS_PER_HOLDER = 100
COMMENT_PERIODS_MAX = 5  # the first and up to four repeats
BALLOTS_MAX = 3  # the first and up to two repeats
IPR_CALLS_MAX = 10  # one per committee draft submitted and per ballot opened
STAGE_CHANGES_MAX = 100  # transitions through the table (abandoning or withdrawing is always possible)
ICS_CODES_MAX = 5  # ICS codes of one standard
DRAFTERS_MAX = 30  # drafting persons (起草人) named in the filing record; a group standard names ~5-20
ELIGIBLE_VOTERS_BUDGETED = 500  # see the module's note: bounded by the membership, not by the project

# --- dates: a range every date computed from one stays inside (a year past 9999 is an error) -----
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2199, 12, 31, tzinfo=UTC)
