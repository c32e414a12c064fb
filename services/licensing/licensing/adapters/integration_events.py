"""Domain events → the versioned integration events of ``alliance_contracts`` (at the edge).

One table from each domain event type to its contract; the shared ``EventTable`` copies the
fields by name (nested value objects too) and refuses a domain field its contract lacks, so
no field is listed here.
"""

from __future__ import annotations

from alliance_common.repository import EventTable
from alliance_contracts import licensing as contracts
from licensing.domain import events

INTEGRATION_EVENTS = EventTable(
    {
        events.LicenceGranted: contracts.LicenceGranted,
        events.LicenceSuspended: contracts.LicenceSuspended,
        events.LicenceRestored: contracts.LicenceRestored,
        events.LicenceFilingRecorded: contracts.LicenceFilingRecorded,
        events.LicenceFilingOverdue: contracts.LicenceFilingOverdue,
        events.ProgrammeCreated: contracts.ProgrammeCreated,
        events.PatentContributed: contracts.PatentContributed,
        events.PatentLegalStatusChanged: contracts.PatentLegalStatusChanged,
        events.PatentSubmitted: contracts.PatentSubmitted,
        events.EvaluatorAssigned: contracts.EvaluatorAssigned,
        events.PatentEvaluated: contracts.PatentEvaluated,
        events.RoyaltyReported: contracts.RoyaltyReported,
        events.RoyaltyPaid: contracts.RoyaltyPaid,
        events.RoyaltiesDistributed: contracts.RoyaltiesDistributed,
    }
)
