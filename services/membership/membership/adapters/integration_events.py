"""Domain events → the versioned integration events of ``alliance_contracts`` (at the edge).

One table from each domain event type to its contract; the shared ``EventTable`` copies the
fields by name (and refuses a domain field its contract lacks), so no field is listed here.
"""

from __future__ import annotations

from alliance_common.repository import EventTable
from alliance_contracts import membership as contracts
from membership.domain import events

INTEGRATION_EVENTS = EventTable(
    {
        events.ApplicationSubmitted: contracts.ApplicationSubmitted,
        events.MemberAdmitted: contracts.MemberAdmitted,
        events.MemberSuspended: contracts.MemberSuspended,
        events.MemberReinstated: contracts.MemberReinstated,
        events.MemberStatusChanged: contracts.MemberStatusChanged,
        events.MemberRenewed: contracts.MemberRenewed,
        events.MemberWithdrawn: contracts.MemberWithdrawn,
        events.MemberExpelled: contracts.MemberExpelled,
        events.DuesInvoiced: contracts.DuesInvoiced,
        events.DuesPaid: contracts.DuesPaid,
        events.DuesReminderDue: contracts.DuesReminderDue,
        events.ApplicationDecided: contracts.ApplicationDecided,
        events.UserAdded: contracts.UserAdded,
        events.UserRemoved: contracts.UserRemoved,
    }
)
