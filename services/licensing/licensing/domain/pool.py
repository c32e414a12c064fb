"""The pool: programmes, patent contributions, submissions and their evaluations.

Plain Python, no I/O. A submission is its own aggregate (patent + programme), so a
programme's list of patents is simply its essential submissions: no write ever spans
two documents. The independence and written-reason rules live in ``patents``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from alliance_common.errors import Conflict, Forbidden, InvalidInput
from licensing.domain.events import (
    EvaluatorAssigned,
    LicensingEvent,
    PatentContributed,
    PatentEvaluated,
    PatentLegalStatusChanged,
    PatentSubmitted,
    ProgrammeCreated,
)
from licensing.domain.patents import (
    Essentiality,
    Evaluation,
    EvaluationAssignment,
    Patent,
    assign_evaluator,
    record_evaluation,
)
from licensing.domain.royalties import RateSchedule


@dataclass
class Programme:
    id: str
    name: str
    standard_ref: str  # the standard whose essential patents this pool licenses
    description: str
    created_on: date
    schedule: RateSchedule | None = None  # the published rates; reports need one
    admin_fee_percent: Decimal = Decimal("10")  # kept by the administrator before distribution
    late_interest_percent: Decimal = Decimal("6")  # simple annual interest on overdue royalties
    version: int = 0
    events: list[LicensingEvent] = field(default_factory=list, repr=False)

    def publish_schedule(
        self, schedule: RateSchedule, admin_fee_percent: Decimal, late_interest_percent: Decimal
    ) -> None:
        for value, name in ((admin_fee_percent, "admin_fee_percent"), (late_interest_percent, "late_interest_percent")):
            if not Decimal(0) <= value <= Decimal(100):
                raise InvalidInput("a percentage between 0 and 100", field=name)
        self.schedule = schedule
        self.admin_fee_percent = admin_fee_percent
        self.late_interest_percent = late_interest_percent

    @classmethod
    def create(cls, *, id: str, name: str, standard_ref: str, description: str, on: date) -> Programme:
        programme = cls(id=id, name=name, standard_ref=standard_ref, description=description, created_on=on)
        programme.events.append(ProgrammeCreated(programme_id=id, name=name, standard_ref=standard_ref))
        return programme


def contributed(patent: Patent) -> PatentContributed:
    return PatentContributed(
        patent_id=patent.id,
        owner_id=patent.owner_id,
        office=patent.office,
        number=patent.number,
        family_id=patent.family_id,
        expiry_date=patent.expiry_date,
        title=patent.title,
        segment=patent.segment,
        status=patent.status,
        grant_date=patent.grant_date,
        validated_in=tuple(sorted(patent.validated_in)),
    )


def legal_status_changed(patent: Patent) -> PatentLegalStatusChanged:
    """The event of a patent's recorded expiry, invalidation or lapse."""
    return PatentLegalStatusChanged(
        patent_id=patent.id, owner_id=patent.owner_id, status=patent.status, ended_on=patent.ended_on
    )


class SubmissionStatus(StrEnum):
    AWAITING_EVALUATOR = "awaiting_evaluator"
    UNDER_EVALUATION = "under_evaluation"
    ESSENTIAL = "essential"  # listed in the programme
    NOT_ESSENTIAL = "not_essential"


@dataclass
class Submission:
    id: str
    patent_id: str
    programme_id: str
    owner_id: str
    submitted_by: str
    submitted_on: date
    status: SubmissionStatus = SubmissionStatus.AWAITING_EVALUATOR
    assignment: EvaluationAssignment | None = None
    evaluation: Evaluation | None = None
    version: int = 0
    events: list[LicensingEvent] = field(default_factory=list, repr=False)

    @staticmethod
    def id_for(patent_id: str, programme_id: str) -> str:
        # One submission per patent and programme: a second one is a conflict, not a duplicate.
        return f"{programme_id}:{patent_id}"

    @classmethod
    def submit(cls, patent: Patent, programme: Programme, by: str, on: date) -> Submission:
        if not patent.in_force_on(on) and patent.grant_date is not None:
            raise Conflict(f"patent {patent.number} is no longer in force and cannot join a pool")
        submission = cls(
            id=cls.id_for(patent.id, programme.id),
            patent_id=patent.id,
            programme_id=programme.id,
            owner_id=patent.owner_id,
            submitted_by=by,
            submitted_on=on,
        )
        submission.events.append(
            PatentSubmitted(
                submission_id=submission.id, patent_id=patent.id, programme_id=programme.id, owner_id=patent.owner_id
            )
        )
        return submission

    def assign(self, patent: Patent, evaluator_id: str, evaluator_org_id: str | None, on: date) -> None:
        if self.status not in (SubmissionStatus.AWAITING_EVALUATOR, SubmissionStatus.UNDER_EVALUATION):
            raise Conflict(f"the evaluation is closed ({self.status})")
        self.assignment = assign_evaluator(patent, evaluator_id, evaluator_org_id, on)
        self.status = SubmissionStatus.UNDER_EVALUATION
        self.events.append(
            EvaluatorAssigned(submission_id=self.id, patent_id=self.patent_id, evaluator_id=evaluator_id)
        )

    def record(
        self, patent: Patent, evaluator_id: str, evaluator_org_id: str | None, result: str, reason: str, on: date
    ) -> None:
        if self.assignment is None or self.status is not SubmissionStatus.UNDER_EVALUATION:
            raise Conflict(f"no evaluation is open for this submission ({self.status})")
        if evaluator_org_id is not None and evaluator_org_id == patent.owner_id:
            raise Forbidden("an expert of the owner's organisation may not evaluate its patent", field="evaluator_id")
        self.evaluation = record_evaluation(
            self.assignment, patent, evaluator_id=evaluator_id, result=result, reason=reason, on=on
        )
        essential = self.evaluation.result is Essentiality.ESSENTIAL
        self.status = SubmissionStatus.ESSENTIAL if essential else SubmissionStatus.NOT_ESSENTIAL
        self.events.append(
            PatentEvaluated(
                submission_id=self.id,
                patent_id=self.patent_id,
                programme_id=self.programme_id,
                owner_id=self.owner_id,
                essential=essential,
                reason=self.evaluation.reason,
                evaluated_on=on,
            )
        )
