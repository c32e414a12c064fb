"""Who may change what about a registered patent: its legal status, and whose it is.

Plain Python, no I/O.

Legal status. The alliance's register must not be a place where an owner can undo what the
secretariat recorded: an invalidation (by an office or a court) takes a patent out of the pool's
distribution, so its owner gains by reversing it. So:
- the secretariat sets any status, and alone sets ``invalidated`` and reverses any end of force;
- the owner organisation may itself record only the end of its own patent's force, which never
  favours it: a granted patent expired or lapsed, a pending application lapsed (``OWNER_REPORTS``);
- any other change the owner wants (a grant, a revival, a reversed invalidation) is a request with
  its evidence (``StatusReview``) that stays on the patent, unchanged, until the secretariat
  approves or rejects it.

Ownership. The platform cannot see the patent office's register, so a first registration of a
number cannot lock the number: when a second organisation registers an office and number that
another organisation registered already, both registrations become ``disputed`` (the claim goes
to the secretariat's review, visible to staff), neither can be submitted to a programme, and the
secretariat confirms one (``undisputed``) and rejects the others (``rejected``: kept, for the
record, and no longer counted as the number's registration).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# The changes an owner records itself: the end of its own patent's force (never in its favour).
# (Values of ``patents.LegalStatus``, a StrEnum: patents.py imports this module, not the reverse.)
OWNER_REPORTS: frozenset[tuple[str, str]] = frozenset(
    {("granted", "expired"), ("granted", "lapsed"), ("pending", "lapsed")}
)


def owner_may_set(current: str, new: str) -> bool:
    """May the owner organisation itself move its patent from ``current`` to ``new``?"""
    return (str(current), str(new)) in OWNER_REPORTS


@dataclass(frozen=True)
class StatusReview:
    """An owner's request for a status only the secretariat sets, with the evidence for it."""

    status: str
    ended_on: date | None
    evidence: str
    requested_by: str
    requested_on: date


class Claim(StrEnum):
    UNDISPUTED = "undisputed"  # the only live registration of its number
    DISPUTED = "disputed"  # another organisation registered the same number: under the secretariat's review
    CONFIRMED = "confirmed"  # the secretariat found this organisation owns it; later claims cannot unsettle it
    REJECTED = "rejected"  # the secretariat found this organisation does not own it (kept for the record)


LIVE_CLAIMS = frozenset({Claim.UNDISPUTED, Claim.DISPUTED, Claim.CONFIRMED})


class ClaimDecision(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"


def claims_on_registration(owner: str, live: dict[str, tuple[str, Claim]]) -> tuple[Claim, dict[str, Claim]]:
    """A new registration by ``owner`` of a number whose live registrations are ``live``
    (registration id → (owner, claim)): the new one's claim, and the changed claims of the others.

    No other organisation: undisputed. Another organisation's registration confirmed by the
    secretariat: the new claim alone goes to review (the confirmed owner keeps its patent).
    Otherwise every registration of the number is disputed until the secretariat decides: the
    first to register gains nothing over the real owner.
    """
    others = {rid: claim for rid, (other, claim) in live.items() if other != owner}
    if not others:
        return Claim.UNDISPUTED, {}
    if any(claim is Claim.CONFIRMED for claim in others.values()):
        return Claim.DISPUTED, {}
    return Claim.DISPUTED, {rid: Claim.DISPUTED for rid, claim in others.items() if claim is not Claim.DISPUTED}


def claims_on_decision(chosen: str, decision: ClaimDecision, live: dict[str, tuple[str, Claim]]) -> dict[str, Claim]:
    """The secretariat's decision on registration ``chosen`` among the number's ``live`` ones.

    Confirming one confirms it and rejects every other organisation's; rejecting one rejects it,
    and a single remaining owner's registrations become undisputed again.
    """
    owner = live[chosen][0]
    if decision is ClaimDecision.CONFIRM:
        return {rid: Claim.CONFIRMED if other == owner else Claim.REJECTED for rid, (other, _) in live.items()}
    changes = {chosen: Claim.REJECTED}
    remaining = {rid: (other, claim) for rid, (other, claim) in live.items() if rid != chosen}
    if len({other for other, _ in remaining.values()}) == 1:
        changes.update({rid: Claim.UNDISPUTED for rid, (_, claim) in remaining.items() if claim is Claim.DISPUTED})
    return changes
