"""The edge between the domain's events and the versioned events on ``training.events``.

One table: each domain event type and the ``alliance_contracts`` type it is published as.
Fields are copied by name (``EventTable`` refuses a domain field the contract lacks).
"""

from __future__ import annotations

from alliance_common.repository import EventTable
from alliance_contracts import training as contracts
from training.domain import events

TO_CONTRACT = EventTable(
    {
        events.SessionScheduled: contracts.SessionScheduled,
        events.RegistrationConfirmed: contracts.RegistrationConfirmed,
        events.RegistrationStatusChanged: contracts.RegistrationStatusChanged,
        events.CreditHoursEarned: contracts.CreditHoursEarned,
        events.CertificateIssued: contracts.CertificateIssued,
        events.SessionProposed: contracts.SessionProposed,
    }
)
