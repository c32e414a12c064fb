"""Training credit hours per organisation and per person, learnt from training's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from alliance_common.auth import Principal
from alliance_common.errors import NotFound
from alliance_common.events import Envelope
from alliance_contracts.training import CreditHoursEarned
from membership.adapters.credit_hours import CreditEntry, CreditHoursRepository


@dataclass
class PersonHours:
    attendee_email: str
    attendee_name: str
    hours: Decimal = Decimal("0")
    sessions: int = 0


@dataclass
class OrganisationHours:
    organisation_id: str
    total_hours: Decimal = Decimal("0")
    sessions: int = 0
    people: list[PersonHours] = field(default_factory=list)


def summarise(org_id: str, entries: list[CreditEntry]) -> OrganisationHours:
    people: dict[str, PersonHours] = {}
    for e in entries:
        person = people.setdefault(e.attendee_email, PersonHours(e.attendee_email, e.attendee_name))
        person.hours += e.hours
        person.sessions += 1
    return OrganisationHours(
        organisation_id=org_id,
        total_hours=sum((e.hours for e in entries), Decimal("0")),
        sessions=len({e.session_id for e in entries}),
        people=sorted(people.values(), key=lambda p: p.attendee_email),
    )


class CreditHoursService:
    def __init__(self, repo: CreditHoursRepository) -> None:
        self.repo = repo

    async def on_credit_hours_earned(self, envelope: Envelope, event: CreditHoursEarned) -> None:
        # Keyed by the training registration: a redelivered event is recorded once.
        await self.repo.record(
            CreditEntry(
                id=f"{event.session_id}/{event.registration_id}",
                organisation_id=event.organisation_id,
                attendee_email=event.attendee_email.lower(),
                attendee_name=event.attendee_name,
                hours=event.hours,
                days=list(event.days),
                session_id=event.session_id,
                session_title=event.session_title,
                earned_on=event.earned_on,
                event_id=envelope.id,
            )
        )

    async def for_organisation(self, org_id: str, principal: Principal) -> OrganisationHours:
        # The organisation's own users and staff; anyone else is told it does not exist.
        if not principal.can_access_org(org_id):
            raise NotFound(f"organisation {org_id} not found")
        return summarise(org_id, await self.repo.for_organisation(org_id))
