"""What the change feed shows to whom, and its cursor. Plain Python: no I/O, no HTTP.

The archive holds every event, also what no agency may read (one company's money, people's
names and addresses, a member's vote). A machine client reads the feed with ``events:read``, and
sees exactly the event types its other scopes name below, an allow-list: a type not listed
(including one a service publishes later) is shown to the alliance's staff only, until it is
listed here.

- ``licensing:read``: the pool's public record: programmes, patents contributed, submitted,
  evaluated and their legal status, licences granted, suspended and restored. Not royalty reports
  or payments (one licensee's sales and money), not distributions (each licensor's share), not
  which expert evaluates what.
- ``standards:read``: projects proposed and moving through their stages, IPR calls and the
  declarations answering them, ballots opened and closed with their results, standards
  published. Not one member's voided vote.
- ``training:read``: sessions scheduled and proposed. Not registrations, attendance, credit
  hours or certificates (people's names and e-mail addresses, prices paid).
- ``statistics:read``: the public membership record: members admitted, renewed, withdrawn and
  expelled. Not applications (an applicant not admitted is nobody's business), dues (money),
  status changes and suspensions (they follow dues), or the organisations' users (people).

The secretariat and the council (portal users) read every event; other people read none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SCOPE_TYPES: dict[str, frozenset[str]] = {
    "licensing:read": frozenset(
        {
            "alliance.licensing.programme.created.v1",
            "alliance.licensing.patent.contributed.v1",
            "alliance.licensing.patent.submitted.v1",
            "alliance.licensing.patent.evaluated.v1",
            "alliance.licensing.patent.legal_status_changed.v1",
            "alliance.licensing.licence.granted.v1",
            "alliance.licensing.licence.suspended.v1",
            "alliance.licensing.licence.restored.v1",
        }
    ),
    "standards:read": frozenset(
        {
            "alliance.standards.project.proposed.v1",
            "alliance.standards.project.stage_changed.v1",
            "alliance.standards.ipr_call.issued.v1",
            "alliance.standards.ipr_call.answered.v1",
            "alliance.standards.ballot.opened.v1",
            "alliance.standards.ballot.closed.v1",
            "alliance.standards.standard.published.v1",
        }
    ),
    "training:read": frozenset(
        {
            "alliance.training.session.scheduled.v1",
            "alliance.training.session.proposed.v1",
        }
    ),
    # The pool's licence-contract filings (licensors, licensee, patents, deadline): public filings.
    "licence-filings:read": frozenset({"alliance.licensing.licence.filing_recorded.v1"}),
    "statistics:read": frozenset(
        {
            "alliance.membership.member.admitted.v1",
            "alliance.membership.member.renewed.v1",
            "alliance.membership.member.withdrawn.v1",
            "alliance.membership.member.expelled.v1",
        }
    ),
}

# An event type as the platform names them: alliance.<owner>.<aggregate>.<fact>.v<N>.
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,5}\.v[1-9][0-9]{0,3}")
MAX_TYPES = 50


def types_for_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The event types a machine client holding ``scopes`` may read in the feed and the archive."""
    return frozenset().union(*(SCOPE_TYPES.get(scope, frozenset()) for scope in scopes))


def parse_types(text: str | None) -> frozenset[str] | None:
    """``a,b`` → the set of types (None: no filter); ValueError names what is wrong."""
    if text is None or not text.strip():
        return None
    names = [name.strip() for name in text.split(",")]
    if len(names) > MAX_TYPES:
        raise ValueError(f"at most {MAX_TYPES} types")
    for name in names:
        if EVENT_TYPE.fullmatch(name) is None:
            raise ValueError(f"{name!r} is not an event type (e.g. alliance.membership.member.admitted.v1)")
    return frozenset(names)
