"""Events published by the membership service on ``membership.events`` (key: member id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from alliance_common.events import IntegrationEvent

TOPIC = "membership.events"


class MembershipEvent(IntegrationEvent):
    topic: ClassVar[str] = TOPIC
    member_id: str


class ApplicationSubmitted(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.application.submitted.v1"
    summary: ClassVar[str] = "An organisation applied for membership."
    name: str
    credit_code: str
    org_type: str
    segments: list[str]
    region: str
    tier: str
    submitted_at: datetime


class MemberAdmitted(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.member.admitted.v1"
    summary: ClassVar[str] = "The council admitted an organisation; it is a member in good standing."
    name: str
    membership_number: str
    credit_code: str
    org_type: str
    segments: list[str]
    region: str
    tier: str
    in_good_standing: bool = True
    admitted_at: datetime


class MemberSuspended(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.member.suspended.v1"
    summary: ClassVar[str] = "A member was suspended and is no longer in good standing."
    reason: str
    in_good_standing: bool = False
    suspended_at: datetime


class MemberReinstated(MembershipEvent):
    event_type: ClassVar[str] = "alliance.membership.member.reinstated.v1"
    summary: ClassVar[str] = "A suspended member was reinstated to good standing."
    in_good_standing: bool = True
    reinstated_at: datetime
