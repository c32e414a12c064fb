"""Archived events built from the contract models, as the services publish them (JSON-mode payloads).

``Timeline`` keeps a clock and appends one ``ArchivedEvent`` per contract event, with the
envelope's type, source and subject, so the folds read exactly what the archive would hold.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from alliance_common.events import IntegrationEvent
from alliance_contracts import licensing as lic
from alliance_contracts import membership as mem
from alliance_contracts import standards as std
from alliance_contracts import training as trn
from integration.domain.archive import ArchivedEvent


def archived(event: IntegrationEvent, subject: str, at: datetime, seq: int = 0) -> ArchivedEvent:
    assert event.source is not None
    return ArchivedEvent(
        id=str(uuid.uuid4()),
        seq=seq,
        type=event.event_type,
        source=event.source,
        subject=subject,
        time=at,
        data=event.model_dump(mode="json"),
    )


class Timeline:
    def __init__(self, start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)) -> None:
        self.now = start
        self.events: list[ArchivedEvent] = []

    def at(self, moment: datetime) -> Timeline:
        self.now = moment
        return self

    def later(self, **delta: float) -> Timeline:
        self.now += timedelta(**delta)
        return self

    def add(self, event: IntegrationEvent, subject: str) -> None:
        self.events.append(archived(event, subject, self.now, seq=len(self.events) + 1))

    # --- membership ---

    def admit(
        self,
        member_id: str,
        name: str,
        *,
        tier: str = "ordinary_member",
        segments: tuple[str, ...] = ("chip",),
        region: str = "CN-FJ",
        status: str = "new",
    ) -> None:
        self.add(
            mem.ApplicationDecided(
                member_id=member_id,
                name=name,
                decision="admitted",
                decided_by="council",
                applicant=f"admin@{member_id}.example",
                contact_name="Chen Li",
                contact_email=f"chen.li@{member_id}.example",
                decided_at=self.now,
            ),
            member_id,
        )
        self.add(
            mem.UserAdded(
                member_id=member_id,
                subject=f"admin@{member_id}.example",
                name="Chen Li",
                email=f"chen.li@{member_id}.example",
                role="member_admin",
                added_at=self.now,
            ),
            member_id,
        )
        self.add(
            mem.MemberAdmitted(
                member_id=member_id,
                name=name,
                membership_number=f"M2026-{len(self.events):05d}",
                credit_code="91350100M000100Y43",
                org_type="enterprise",
                segments=list(segments),
                region=region,
                tier=tier,
                admitted_at=self.now,
                status=status,
                start_date=self.now.date(),
                end_date=self.now.date() + timedelta(days=364),
            ),
            member_id,
        )

    def status(self, member_id: str, old: str, new: str, good: bool = True) -> None:
        self.add(
            mem.MemberStatusChanged(
                member_id=member_id,
                old_status=old,
                new_status=new,
                in_good_standing=good,
                was_in_good_standing=True,
                changed_on=self.now.date(),
            ),
            member_id,
        )

    def suspend(self, member_id: str) -> None:
        self.add(mem.MemberSuspended(member_id=member_id, reason="dues unpaid", suspended_at=self.now), member_id)

    def reinstate(self, member_id: str, status: str = "current") -> None:
        self.add(mem.MemberReinstated(member_id=member_id, reinstated_at=self.now, status=status), member_id)

    def withdraw(self, member_id: str) -> None:
        self.add(mem.MemberWithdrawn(member_id=member_id, reason="merger", withdrawn_on=self.now.date()), member_id)

    def expel(self, member_id: str) -> None:
        self.add(mem.MemberExpelled(member_id=member_id, reason="breach", expelled_on=self.now.date()), member_id)

    def invoice(self, member_id: str, amount: str) -> None:
        self.add(
            mem.DuesInvoiced(
                member_id=member_id,
                invoice_id=f"INV-{member_id}",
                amount=Decimal(amount),
                credit_applied=Decimal("0.00"),
                period_start=self.now.date(),
                period_end=self.now.date() + timedelta(days=364),
                due_on=self.now.date() + timedelta(days=30),
            ),
            member_id,
        )

    # --- licensing ---

    def programme(self, programme_id: str, name: str, standard: str) -> None:
        self.add(lic.ProgrammeCreated(programme_id=programme_id, name=name, standard_ref=standard), programme_id)

    def patent(
        self,
        patent_id: str,
        owner: str,
        office: str,
        *,
        segment: str = "chip",
        status: str = "granted",
        granted: date | None = date(2018, 3, 1),
        expiry: date = date(2036, 3, 1),
        validated_in: tuple[str, ...] = (),
        number: str | None = None,
        title: str = "LED epitaxial structure",
    ) -> None:
        self.add(
            lic.PatentContributed(
                patent_id=patent_id,
                owner_id=owner,
                office=office,
                number=number or f"{office}2019{patent_id}",
                family_id=f"F-{patent_id}",
                expiry_date=expiry,
                title=title,
                segment=segment,
                status=status,
                grant_date=granted,
                validated_in=list(validated_in),
            ),
            patent_id,
        )

    def legal_status(self, patent_id: str, owner: str, status: str, ended_on: date | None) -> None:
        self.add(
            lic.PatentLegalStatusChanged(patent_id=patent_id, owner_id=owner, status=status, ended_on=ended_on),
            patent_id,
        )

    def evaluate(self, patent_id: str, owner: str, programme_id: str, essential: bool) -> None:
        submission = f"S-{patent_id}-{programme_id}"
        self.add(
            lic.PatentSubmitted(
                submission_id=submission, patent_id=patent_id, programme_id=programme_id, owner_id=owner
            ),
            submission,
        )
        self.add(
            lic.EvaluatorAssigned(
                submission_id=submission, patent_id=patent_id, evaluator_id="expert@alliance.example"
            ),
            submission,
        )
        self.add(
            lic.PatentEvaluated(
                submission_id=submission,
                patent_id=patent_id,
                programme_id=programme_id,
                owner_id=owner,
                essential=essential,
                reason="claims 1-3 read on clause 5.2" if essential else "no claim reads on the standard",
                evaluated_on=self.now.date(),
            ),
            submission,
        )

    def licence(self, licence_id: str, licensee: str, kind: str, programme: str) -> None:
        self.add(
            lic.LicenceGranted(
                licence_id=licence_id, licensee_id=licensee, kind=kind, programme=programme, granted_at=self.now
            ),
            licence_id,
        )

    def suspend_licence(self, licence_id: str, licensee: str) -> None:
        self.add(
            lic.LicenceSuspended(
                licence_id=licence_id, licensee_id=licensee, reason="member suspended", suspended_at=self.now
            ),
            licence_id,
        )

    def report(self, report_id: str, programme: str, licensee: str, period: str, total: str) -> None:
        self.add(
            lic.RoyaltyReported(
                report_id=report_id,
                programme_id=programme,
                licensee_id=licensee,
                period=period,
                total=Decimal(total),
                currency="CNY",
                due_on=self.now.date() + timedelta(days=30),
                lines=3,
            ),
            f"{programme}:{licensee}",  # the royalty account: licensing's aggregate and partition key
        )

    def pay(self, report_id: str, programme: str, licensee: str, amount: str, interest: str = "0.00") -> None:
        self.add(
            lic.RoyaltyPaid(
                report_id=report_id,
                programme_id=programme,
                licensee_id=licensee,
                amount=Decimal(amount),
                late_interest=Decimal(interest),
                outstanding=Decimal("0.00"),
                received_on=self.now.date(),
            ),
            f"{programme}:{licensee}",
        )

    def distribute(self, programme: str, period: str, collected: str, fee: str, shares: dict[str, str]) -> None:
        self.add(
            lic.RoyaltiesDistributed(
                distribution_id=f"D-{programme}-{period}",
                programme_id=programme,
                period=period,
                collected=Decimal(collected),
                admin_fee=Decimal(fee),
                distributed=Decimal(collected) - Decimal(fee),
                shares=[lic.LicensorShare(licensor_id=k, amount=Decimal(v)) for k, v in shares.items()],
            ),
            programme,
        )

    # --- standards ---

    def propose(self, project_id: str, title: str, proposer: str, stage: str | None = "proposed") -> None:
        self.add(
            std.ProjectProposed(
                project_id=project_id,
                title=title,
                scope="Test methods for LED luminous efficacy",
                proposer_id=proposer,
                proposed_at=self.now,
                stage=stage,
            ),
            project_id,
        )

    def move(self, project_id: str, from_stage: str, to_stage: str, action: str = "advance") -> None:
        self.add(
            std.ProjectStageChanged(
                project_id=project_id,
                from_stage=from_stage,
                to_stage=to_stage,
                action=action,
                by="secretariat@alliance.example",
                at=self.now,
            ),
            project_id,
        )

    def vote_voided(self, project_id: str, org: str) -> None:
        self.add(
            std.BallotVoteVoided(
                project_id=project_id, ballot=1, organisation_id=org, reason="lost standing", voided_at=self.now
            ),
            project_id,
        )

    def publish(
        self, project_id: str, number: str, title: str, commitments: tuple[str, ...] = (), holder: str = "m1"
    ) -> None:
        self.add(
            std.StandardPublished(
                project_id=project_id,
                number=number,
                title=title,
                published_on=self.now.date(),
                declarations=[
                    std.DeclaredPatent(holder_id=holder, office="CN", number=f"CN10{i}B", commitment=c)
                    for i, c in enumerate(commitments)
                ],
                scope="Test methods for LED luminous efficacy",
                drafting_organisations=[holder],
                implementation_on=self.now.date() + timedelta(days=60),
            ),
            project_id,
        )

    # --- training ---

    def session(self, session_id: str, title: str, starts_at: datetime, capacity: int = 30) -> None:
        self.add(
            trn.SessionScheduled(
                session_id=session_id,
                title=title,
                audience="members",
                starts_at=starts_at,
                capacity=capacity,
                member_price=Decimal("800.00"),
                non_member_price=Decimal("1200.00"),
                currency="CNY",
                ends_at=starts_at + timedelta(hours=7),
                format="course",
                venue="Xiamen, Software Park Phase II",
                online=False,
            ),
            session_id,
        )

    def register(
        self, session_id: str, registration_id: str, email: str, org: str | None = "m1", price: str = "800.00"
    ) -> None:
        self.add(
            trn.RegistrationConfirmed(
                session_id=session_id,
                registration_id=registration_id,
                organisation_id=org,
                attendee_email=email,
                price=Decimal(price),
                currency="CNY",
                member_price_applied=True,
            ),
            session_id,
        )

    def cancel(self, session_id: str, registration_id: str, email: str) -> None:
        self.add(
            trn.RegistrationStatusChanged(
                session_id=session_id,
                registration_id=registration_id,
                organisation_id="m1",
                attendee_email=email,
                status="cancelled",
                previous_status="confirmed",
            ),
            session_id,
        )

    def attend(self, session_id: str, registration_id: str, name: str, email: str, hours: str, cert: bool) -> None:
        self.add(
            trn.CreditHoursEarned(
                session_id=session_id,
                registration_id=registration_id,
                organisation_id="m1",
                attendee_name=name,
                attendee_email=email,
                hours=Decimal(hours),
                days=[self.now.date()],
                session_title="LED reliability testing",
                earned_on=self.now.date(),
            ),
            session_id,
        )
        if cert:
            self.add(
                trn.CertificateIssued(
                    session_id=session_id,
                    registration_id=registration_id,
                    organisation_id="m1",
                    attendee_name=name,
                    attendee_email=email,
                    verification_code=f"CERT{registration_id.upper()}",
                    credit_hours=Decimal(hours),
                    issued_on=self.now.date(),
                ),
                session_id,
            )
