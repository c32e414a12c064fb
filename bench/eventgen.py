"""A year of the alliance's events, generated deterministically, for the archive and annual-report benches.

``year_of_events(n, year, seed)`` yields ``ArchivedEvent``s (``seq`` 0: the archive assigns it)
shaped as the services publish them (each payload a contract's JSON dump; ``check_payloads``
validates a sample of every type against its contract): a history before the year (the members
admitted in the five years before, the projects under way, the sessions scheduled for January),
then ``n`` events during the year in time order, except ~1 % archived late (their ``time`` up to
a week before their neighbours'). The year's mix is the busy side of an alliance: training
attendance (registrations, credit hours, certificates), IPR answers, patents, royalty reports and
payments, standing and dues, ballots, and now and then an admission, a withdrawal, an expulsion,
a publication. ``Expected`` counts what the annual report must find, independently of it.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import alliance_contracts  # noqa: F401  (importing registers every event model)
from alliance_common.events import IntegrationEvent, source_for
from integration.domain.archive import ArchivedEvent

P = "alliance."
# In-year event types and their weights (per 10,000 events).
MIX: list[tuple[str, float]] = [
    ("training.credit_hours.earned.v1", 2400),
    ("training.registration.confirmed.v1", 2000),
    ("training.certificate.issued.v1", 1200),
    ("training.registration.status_changed.v1", 500),
    ("membership.member.status_changed.v1", 300),
    ("standards.ipr_call.answered.v1", 600),
    ("standards.project.stage_changed.v1", 300),
    ("standards.ballot.opened.v1", 250),
    ("licensing.patent.contributed.v1", 500),
    ("licensing.patent.submitted.v1", 300),
    ("licensing.patent.evaluated.v1", 280),
    ("licensing.royalty.reported.v1", 400),
    ("licensing.royalty.paid.v1", 380),
    ("membership.dues.invoiced.v1", 200),
    ("membership.dues.paid.v1", 190),
    ("membership.application.decided.v1", 30),
    ("membership.member.admitted.v1", 20),
    ("membership.member.withdrawn.v1", 3),
    ("membership.member.expelled.v1", 1),
    ("standards.project.proposed.v1", 20),
    ("standards.standard.published.v1", 6),
    ("licensing.licence.granted.v1", 60),
    ("licensing.royalties.distributed.v1", 4),
    ("training.session.scheduled.v1", 50),
]
COMMITMENTS = ("royalty_free", "frand", "frand", "frand", "declaration_later", "unwilling")
STAGES = ("accepted", "working_group", "working_draft", "committee_draft", "public_comment", "ballot", "approved")
REGIONS = ("Fujian", "Guangdong", "Jiangsu", "Zhejiang", "Shanghai", "Beijing", "Jiangxi", "Hubei")
SEGMENTS = ("substrate", "epitaxy", "chip", "packaging", "application", "equipment", "materials")


@dataclass
class Expected:
    """What the report must find for the year, counted as the events are made (not by the report)."""

    in_year: Counter[str] = field(default_factory=Counter)  # in-year events by type (short name)
    members_start: int = 0
    members_end: int = 0
    credit_hours: Decimal = Decimal(0)
    royalties_collected: Decimal = Decimal(0)
    dues_paid: Decimal = Decimal(0)
    history: int = 0  # events before the year
    total: int = 0


def _source(short: str) -> str:
    return source_for(short.split(".", 1)[0])


class Generator:
    def __init__(self, year: int, seed: int) -> None:
        self.year = year
        self.rng = random.Random(seed)
        self.start = datetime(year, 1, 1, tzinfo=UTC)
        self.members: list[str] = []
        self.gone: set[str] = set()
        self.projects: list[str] = []
        self.sessions: list[str] = []
        self.programmes = [f"PRG-{i}" for i in range(1, 5)]
        self.expected = Expected()
        self.counter = 0

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def event(self, short: str, when: datetime, subject: str, data: dict[str, Any]) -> ArchivedEvent:
        self.counter += 1
        return ArchivedEvent(self.uid(), 0, P + short, _source(short), subject, when, data)

    def member(self) -> str:
        return self.rng.choice(self.members)

    # ----------------------------------------------------------------------------- payloads

    def admitted(self, member: str, when: datetime) -> dict[str, Any]:
        rng = self.rng
        return {
            "member_id": member,
            "name": f"LED Enterprise {member}",
            "membership_number": f"M-{member[-6:]}",
            "credit_code": "91350100M000100Y43",
            "org_type": "enterprise",
            "segments": rng.sample(SEGMENTS, 2),
            "region": rng.choice(REGIONS),
            "tier": rng.choice(("ordinary", "ordinary", "council", "observer")),
            "in_good_standing": True,
            "admitted_at": when.isoformat().replace("+00:00", "Z"),
            "status": "new",
            "start_date": when.date().isoformat(),
            "end_date": (when.date() + timedelta(days=364)).isoformat(),
        }

    def payload(self, short: str, when: datetime) -> tuple[str, dict[str, Any]]:  # noqa: C901 (one table)
        rng, day, stamp = self.rng, when.date().isoformat(), when.isoformat().replace("+00:00", "Z")
        money = lambda low, high: f"{Decimal(rng.randint(low * 100, high * 100)) / 100:.2f}"  # noqa: E731
        if short.startswith("training."):
            session = rng.choice(self.sessions)
            reg = f"REG-{rng.getrandbits(40):x}"
            person = {"attendee_email": f"p{rng.getrandbits(24):x}@example.org", "organisation_id": self.member()}
            if short == "training.credit_hours.earned.v1":
                hours = Decimal(rng.choice((3, 6, 6, 7, 12))) / 2
                self.expected.credit_hours += hours
                return session, {
                    "session_id": session,
                    "registration_id": reg,
                    **person,
                    "attendee_name": "Attendee",
                    "hours": str(hours),
                    "days": [day],
                    "session_title": f"Session {session}",
                    "earned_on": day,
                }
            if short == "training.certificate.issued.v1":
                return session, {
                    "session_id": session,
                    "registration_id": reg,
                    **person,
                    "attendee_name": "Attendee",
                    "verification_code": f"{rng.getrandbits(48):012x}",
                    "credit_hours": "6",
                    "issued_on": day,
                    "session_title": f"Session {session}",
                }
            if short == "training.registration.confirmed.v1":
                return session, {
                    "session_id": session,
                    "registration_id": reg,
                    **person,
                    "price": money(100, 3000),
                    "currency": "CNY",
                    "member_price_applied": True,
                }
            if short == "training.registration.status_changed.v1":
                return session, {
                    "session_id": session,
                    "registration_id": reg,
                    **person,
                    "status": rng.choice(("wait_listed", "cancelled", "offered")),
                    "previous_status": "confirmed",
                    "reason": None,
                    "offer_expires_at": None,
                    "cancellation_fee": None,
                    "currency": None,
                    "session_title": None,
                }
            session = f"S-{len(self.sessions) + 1:05d}"  # training.session.scheduled.v1
            self.sessions.append(session)
            return session, self.scheduled(session, when + timedelta(days=rng.randint(7, 60)))
        if short.startswith("membership."):
            member = self.member()
            if short == "membership.member.status_changed.v1":
                return member, {
                    "member_id": member,
                    "old_status": "current",
                    "new_status": "grace",
                    "in_good_standing": True,
                    "was_in_good_standing": True,
                    "reason": None,
                    "changed_on": day,
                }
            if short in ("membership.dues.invoiced.v1", "membership.dues.paid.v1"):
                amount = money(2000, 50000)
                if short.endswith("paid.v1"):
                    self.expected.dues_paid += Decimal(amount)
                    return member, {
                        "member_id": member,
                        "invoice_id": f"INV-{rng.getrandbits(32):x}",
                        "amount": amount,
                        "outstanding": "0.00",
                        "credit": "0.00",
                        "received_on": day,
                    }
                return member, {
                    "member_id": member,
                    "invoice_id": f"INV-{rng.getrandbits(32):x}",
                    "amount": amount,
                    "credit_applied": "0.00",
                    "period_start": day,
                    "period_end": (when.date() + timedelta(days=364)).isoformat(),
                    "due_on": (when.date() + timedelta(days=30)).isoformat(),
                }
            if short == "membership.application.decided.v1":
                applicant = f"ORG-{self.uid()[:8]}"
                return applicant, {
                    "member_id": applicant,
                    "name": "Applicant",
                    "decision": rng.choice(("admitted", "admitted", "rejected", "changes_requested")),
                    "decided_by": rng.choice(("council", "council", "secretariat")),
                    "reason": None,
                    "applicant": "applicant@example.org",
                    "contact_name": "Applicant",
                    "contact_email": "applicant@example.org",
                    "decided_at": stamp,
                }
            if short == "membership.member.admitted.v1":
                member = f"ORG-{self.uid()[:12]}"
                self.members.append(member)
                return member, self.admitted(member, when)
            # One who was a member before the year (so no departure precedes its admission, even late).
            founders = self.members[: self.expected.members_start]
            present = [m for m in (rng.choice(founders) for _ in range(8)) if m not in self.gone]
            member = present[0] if present else rng.choice(founders)
            self.gone.add(member)
            if short == "membership.member.withdrawn.v1":
                return member, {"member_id": member, "reason": None, "in_good_standing": False, "withdrawn_on": day}
            return member, {"member_id": member, "reason": "misconduct", "in_good_standing": False, "expelled_on": day}
        if short.startswith("standards."):
            if short == "standards.project.proposed.v1":
                project = f"PRJ-{len(self.projects) + 1:05d}"
                self.projects.append(project)
                return project, self.proposed(project, stamp)
            project = rng.choice(self.projects)
            if short == "standards.ipr_call.answered.v1":
                return project, {
                    "project_id": project,
                    "call_id": f"CALL-{project}",
                    "organisation_id": self.member(),
                    "answer": rng.choice(("declared", "no_patents_known", "no_patents_known")),
                    "answered_at": stamp,
                }
            if short == "standards.project.stage_changed.v1":
                to_stage = rng.choice(STAGES)
                return project, {
                    "project_id": project,
                    "from_stage": "proposed",
                    "to_stage": to_stage,
                    "action": "approve_proposal" if to_stage == "accepted" else "start_drafting",
                    "by": "secretariat@example.org",
                    "reason": None,
                    "at": stamp,
                }
            if short == "standards.ballot.opened.v1":
                return project, {
                    "project_id": project,
                    "ballot": 1,
                    "title": f"Standard {project}",
                    "opened_at": stamp,
                    "closes_at": stamp,
                    "eligible": [self.member() for _ in range(5)],
                }
            declarations = [
                {
                    "holder_id": self.member(),
                    "office": "CN",
                    "number": f"CN{rng.randint(10**8, 10**9)}",
                    "commitment": rng.choice(COMMITMENTS),
                    "title": None,
                    "family_id": None,
                    "draft_version": None,
                    "declaration_id": None,
                }
                for _ in range(rng.randint(0, 12))
            ]
            return project, {
                "project_id": project,
                "number": f"T/LEDA {rng.randint(1, 999):03d}—{self.year}",
                "title": f"Standard {project}",
                "published_on": day,
                "declarations": declarations,
                "scope": None,
                "drafting_organisations": [],
                "implementation_on": None,
                "revision_of": None,
            }
        # licensing
        programme = rng.choice(self.programmes)
        patent = f"PAT-{rng.getrandbits(32):x}"
        if short == "licensing.patent.contributed.v1":
            return patent, {
                "patent_id": patent,
                "owner_id": self.member(),
                "office": rng.choice(("CN", "US", "EP", "JP")),
                "number": f"CN{rng.randint(10**8, 10**9)}",
                "family_id": f"FAM-{rng.getrandbits(20):x}",
                "expiry_date": f"{self.year + rng.randint(1, 19)}-06-30",
            }
        if short == "licensing.patent.submitted.v1":
            return patent, {
                "submission_id": f"SUB-{rng.getrandbits(32):x}",
                "patent_id": patent,
                "programme_id": programme,
                "owner_id": self.member(),
            }
        if short == "licensing.patent.evaluated.v1":
            return patent, {
                "submission_id": f"SUB-{rng.getrandbits(32):x}",
                "patent_id": patent,
                "programme_id": programme,
                "owner_id": self.member(),
                "essential": rng.random() < 0.6,
                "reason": "claims read on the standard",
                "evaluated_on": day,
            }
        report = f"RPT-{rng.getrandbits(32):x}"
        licensee = f"LIC-{rng.randint(1, 300):03d}"
        if short == "licensing.royalty.reported.v1":
            return report, {
                "report_id": report,
                "programme_id": programme,
                "licensee_id": licensee,
                "period": f"{self.year}-Q{(when.month - 1) // 3 + 1}",
                "total": money(1000, 900000),
                "currency": "CNY",
                "due_on": day,
                "lines": rng.randint(1, 1000),
            }
        if short == "licensing.royalty.paid.v1":
            amount = money(1000, 900000)
            self.expected.royalties_collected += Decimal(amount)
            return report, {
                "report_id": report,
                "programme_id": programme,
                "licensee_id": licensee,
                "amount": amount,
                "late_interest": "0.00",
                "outstanding": "0.00",
                "received_on": day,
            }
        if short == "licensing.licence.granted.v1":
            kind = rng.choice(("internal_cross_licence", "programme_licence"))
            licence = f"PL-{programme}-{licensee}" if kind == "programme_licence" else f"XL-{self.member()}"
            return licence, {
                "licence_id": licence,
                "licensee_id": licensee,
                "kind": kind,
                "programme": programme if kind == "programme_licence" else "alliance-internal",
                "granted_at": stamp,
            }
        collected = Decimal(money(100000, 5000000))  # licensing.royalties.distributed.v1
        fee = (collected * Decimal("0.05")).quantize(Decimal("0.01"))
        return f"DIST-{rng.getrandbits(32):x}", {
            "distribution_id": f"DIST-{rng.getrandbits(32):x}",
            "programme_id": programme,
            "period": f"{self.year}-Q{(when.month - 1) // 3 + 1}",
            "collected": str(collected),
            "admin_fee": str(fee),
            "distributed": str(collected - fee),
            "shares": [{"licensor_id": self.member(), "amount": str(collected - fee)}],
        }

    def proposed(self, project: str, stamp: str) -> dict[str, Any]:
        return {
            "project_id": project,
            "title": f"Standard {project}",
            "scope": "Test methods for LED packages",
            "proposer_id": self.member(),
            "proposed_at": stamp,
        }

    def scheduled(self, session: str, starts_at: datetime) -> dict[str, Any]:
        return {
            "session_id": session,
            "title": f"Session {session}",
            "audience": "engineers",
            "starts_at": starts_at.isoformat().replace("+00:00", "Z"),
            "capacity": 120,
            "member_price": "800.00",
            "non_member_price": "1600.00",
            "currency": "CNY",
        }

    # ----------------------------------------------------------------------------- the stream

    def history(self, members: int, projects: int, sessions: int) -> Iterator[ArchivedEvent]:
        """Before the year: members admitted over five years, projects proposed, January's sessions."""
        first = self.start - timedelta(days=5 * 365)
        span = (self.start - first).total_seconds()
        for i in range(members):
            when = first + timedelta(seconds=span * (i + 0.5) / members)
            member = f"ORG-{i + 1:06d}"
            self.members.append(member)
            yield self.event("membership.member.admitted.v1", when, member, self.admitted(member, when))
        self.expected.members_start = members
        for i in range(projects):
            when = first + timedelta(seconds=span * (i + 0.5) / projects)
            project = f"PRJ-{i + 1:05d}"
            self.projects.append(project)
            yield self.event("standards.project.proposed.v1", when, project, self.proposed(project, _iso(when)))
        for i in range(sessions):
            session = f"S-{i + 1:05d}"
            self.sessions.append(session)
            when = self.start - timedelta(days=20)
            yield self.event(
                "training.session.scheduled.v1", when, session, self.scheduled(session, self.start + timedelta(days=9))
            )
        self.expected.history = members + projects + sessions

    def during_year(self, n: int) -> Iterator[ArchivedEvent]:
        types = [t for t, _ in MIX]
        weights = [w for _, w in MIX]
        span = 365 * 86400 - 1
        choices = self.rng.choices(types, weights=weights, k=n)
        for i, short in enumerate(choices):
            when = self.start + timedelta(seconds=span * i / n)
            if self.rng.random() < 0.01:  # archived late: it happened up to a week earlier
                when = max(self.start, when - timedelta(seconds=self.rng.randint(60, 7 * 86400)))
            subject, data = self.payload(short, when)
            self.expected.in_year[short] += 1
            yield self.event(short, when, subject, data)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def year_of_events(
    n: int, year: int, seed: int = 20250101, members: int = 1600, projects: int = 300, sessions: int = 40
) -> tuple[Iterator[ArchivedEvent], Expected]:
    """The history before ``year`` and ``n`` events during it; ``Expected`` fills as the stream is consumed."""
    generator = Generator(year, seed)

    def stream() -> Iterator[ArchivedEvent]:
        yield from generator.history(members, projects, sessions)
        yield from generator.during_year(n)
        generator.expected.total = generator.counter
        generator.expected.members_end = len(generator.members) - len(generator.gone)

    return stream(), generator.expected


def check_payloads(events: list[ArchivedEvent], per_type: int = 20) -> None:
    """Validate up to ``per_type`` payloads of every type against its contract (raises on a mismatch)."""
    seen: Counter[str] = Counter()
    for event in events:
        if seen[event.type] >= per_type:
            continue
        seen[event.type] += 1
        model = IntegrationEvent.registry[event.type]
        model.model_validate(event.data)
        if event.source != model.source:
            raise AssertionError(f"{event.type}: source {event.source}, the contract says {model.source}")
