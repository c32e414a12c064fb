"""The edge between the domain's events and the versioned events on ``standards.events``.

One table: each domain event type and the ``alliance_contracts`` type it is published as.
Fields are copied by name (``EventTable`` refuses a domain field the contract lacks), so the
fields are written twice only: in the domain event and in the contract.
"""

from __future__ import annotations

from alliance_common.repository import EventTable
from alliance_contracts import standards as contracts
from standards.domain import events

TO_CONTRACT = EventTable(
    {
        events.ProjectProposed: contracts.ProjectProposed,
        events.ProjectStageChanged: contracts.ProjectStageChanged,
        events.StandardPublished: contracts.StandardPublished,
        events.BallotVoteVoided: contracts.BallotVoteVoided,
        events.IprCallIssued: contracts.IprCallIssued,
        events.IprCallAnswered: contracts.IprCallAnswered,
        events.BallotOpened: contracts.BallotOpened,
        events.BallotClosed: contracts.BallotClosed,
    }
)
