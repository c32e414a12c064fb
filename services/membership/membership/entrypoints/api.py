"""HTTP routes: thin, they turn requests into use-case calls and results into bodies."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from alliance_common.auth import CorrelationId, CurrentPrincipal
from alliance_common.pagination import CursorParam, LimitParam, Page, next_cursor
from membership.domain.dues import Payment
from membership.domain.model import ApplicationStatus, Contact, Organisation, OrgUser
from membership.entrypoints.schemas import (
    ApplicationCreate,
    CreditHoursPublic,
    DecisionIn,
    DuesPublic,
    ExpulsionIn,
    InvoiceCreate,
    InvoicePublic,
    OrganisationPublic,
    PaymentIn,
    PersonHoursPublic,
    RecalculationIn,
    RecalculationPublic,
    ReinstatementIn,
    RenewalIn,
    ReviewIn,
    StatusOverrideIn,
    SuspensionIn,
    UserCreate,
    UserPublic,
    WithdrawalIn,
)
from membership.service_layer.credit_hours import CreditHoursService
from membership.service_layer.handlers import Apply, MembershipService


async def get_service(request: Request) -> MembershipService:
    service: MembershipService = request.app.state.service
    return service


Service = Annotated[MembershipService, Depends(get_service)]


async def get_credit_hours(request: Request) -> CreditHoursService:
    credit_hours: CreditHoursService = request.app.state.credit_hours
    return credit_hours


CreditHours = Annotated[CreditHoursService, Depends(get_credit_hours)]

router = APIRouter(prefix="/api/v1/membership", tags=["membership"])


def organisation_body(org: Organisation) -> Response:
    """One organisation as its JSON body, serialised once.

    Returning the model would make FastAPI dump it, validate it again against
    ``response_model`` and serialise it a second time (about twice the work, and it grows
    with the history). The routes keep ``response_model`` for the documented schema.
    """
    return Response(OrganisationPublic.of(org).model_dump_json(), media_type="application/json")


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationPublic,
    summary="Apply for membership (any signed-in user, for their organisation)",
)
async def apply(
    body: ApplicationCreate, principal: CurrentPrincipal, service: Service, correlation: CorrelationId
) -> OrganisationPublic:
    org = await service.apply(
        Apply(
            name=body.name,
            credit_code=body.credit_code,
            org_type=body.org_type,
            segments=body.segments,
            region=body.region,
            tier=body.tier,
            contact=Contact(body.contact.name, body.contact.email, body.contact.phone),
        ),
        principal,
        correlation,
    )
    return OrganisationPublic.of(org)


@router.get(
    "/organisations",
    response_model=Page[OrganisationPublic],
    summary="Organisations: all for staff, your own for members",
)
async def list_organisations(
    principal: CurrentPrincipal,
    service: Service,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
    status: ApplicationStatus | None = None,
    credit_code_conflict: Annotated[
        bool, Query(description="Staff: only applications whose credit code another organisation claims.")
    ] = False,
) -> Page[OrganisationPublic]:
    orgs = await service.list_for(principal, cursor, limit, status, credit_code_conflict)
    items = [OrganisationPublic.of(o) for o in orgs]
    return Page(items=items, next_cursor=next_cursor([{"_id": o.id} for o in orgs], limit))


@router.get("/organisations/{org_id}", response_model=OrganisationPublic, summary="One organisation")
async def get_organisation(org_id: str, principal: CurrentPrincipal, service: Service) -> Response:
    return organisation_body(await service.get_for(org_id, principal))


@router.post(
    "/organisations/{org_id}/review",
    response_model=OrganisationPublic,
    summary="Secretariat review: accept for decision, request changes, or reject",
)
async def review(org_id: str, body: ReviewIn, principal: CurrentPrincipal, service: Service) -> Response:
    return organisation_body(await service.review(org_id, body.decision, body.reason, principal))


@router.post(
    "/organisations/{org_id}/decision",
    response_model=OrganisationPublic,
    summary="Council decision: admit (emits member.admitted) or reject",
)
async def decide(org_id: str, body: DecisionIn, principal: CurrentPrincipal, service: Service) -> Response:
    return organisation_body(await service.decide(org_id, body.decision, body.reason, principal, body.start_date))


@router.post(
    "/organisations/{org_id}/suspension",
    response_model=OrganisationPublic,
    summary="Suspend a member (emits member.suspended)",
)
async def suspend(org_id: str, body: SuspensionIn, principal: CurrentPrincipal, service: Service) -> Response:
    return organisation_body(await service.suspend(org_id, body.reason, principal))


@router.post(
    "/organisations/{org_id}/reinstatement",
    response_model=OrganisationPublic,
    summary="Reinstate a suspended member (emits member.reinstated)",
)
async def reinstate(org_id: str, body: ReinstatementIn, principal: CurrentPrincipal, service: Service) -> Response:
    return organisation_body(await service.reinstate(org_id, body.reason, principal))


@router.post(
    "/organisations/{org_id}/renewal",
    response_model=OrganisationPublic,
    summary="Renew: extends the period while in standing, starts a new one once lapsed (secretariat)",
)
async def renew(org_id: str, body: RenewalIn, principal: CurrentPrincipal, service: Service) -> Response:
    return organisation_body(await service.renew(org_id, principal))


@router.post(
    "/organisations/{org_id}/withdrawal",
    response_model=OrganisationPublic,
    summary="Withdraw from the alliance (the member's admin or the secretariat; final)",
)
async def withdraw(org_id: str, body: WithdrawalIn, principal: CurrentPrincipal, service: Service) -> Response:
    return organisation_body(await service.withdraw(org_id, body.reason, principal))


@router.post(
    "/organisations/{org_id}/expulsion",
    response_model=OrganisationPublic,
    summary="Expel a member (council; final)",
)
async def expel(org_id: str, body: ExpulsionIn, principal: CurrentPrincipal, service: Service) -> Response:
    return organisation_body(await service.expel(org_id, body.reason, principal))


@router.post(
    "/organisations/{org_id}/status-override",
    response_model=OrganisationPublic,
    summary="Set a member's status by hand, with a reason and an optional end date (secretariat)",
)
async def override_status(
    org_id: str, body: StatusOverrideIn, principal: CurrentPrincipal, service: Service
) -> Response:
    return organisation_body(await service.override_status(org_id, body.status, body.reason, body.until, principal))


@router.post(
    "/standing/recalculation",
    response_model=RecalculationPublic,
    summary="Run the daily status job now (secretariat); one event per member whose status changes",
)
async def recalculate(body: RecalculationIn, principal: CurrentPrincipal, service: Service) -> RecalculationPublic:
    return RecalculationPublic(**await service.recalculate_all(body.on, principal))


@router.post(
    "/organisations/{org_id}/invoices",
    status_code=status.HTTP_201_CREATED,
    response_model=InvoicePublic,
    summary="Invoice a member's yearly dues, less its credit (secretariat)",
)
async def invoice_dues(
    org_id: str, body: InvoiceCreate, principal: CurrentPrincipal, service: Service
) -> InvoicePublic:
    return InvoicePublic.of(await service.invoice_dues(org_id, body.period, principal))


@router.get(
    "/organisations/{org_id}/invoices",
    response_model=DuesPublic,
    summary="A member's dues invoices and credit (the member itself, or staff)",
)
async def list_invoices(org_id: str, principal: CurrentPrincipal, service: Service) -> DuesPublic:
    org = await service.get_for(org_id, principal)
    dues = org.dues
    return DuesPublic(
        credit=dues.account.credit if dues else Decimal("0.00"),
        invoices=[InvoicePublic.of(i) for i in dues.invoices] if dues else [],
    )


@router.post(
    "/organisations/{org_id}/invoices/{invoice_id}/payments",
    response_model=DuesPublic,
    summary="Record a dues payment (secretariat); overpayment becomes credit; paying a renewal renews",
)
async def pay_dues(
    org_id: str, invoice_id: str, body: PaymentIn, principal: CurrentPrincipal, service: Service
) -> DuesPublic:
    payment = Payment(
        f"PAY-{uuid.uuid4().hex[:10].upper()}", body.amount, body.received_on, body.method, body.reference
    )
    org = await service.pay_dues(org_id, invoice_id, payment, principal)
    assert org.dues is not None
    return DuesPublic(credit=org.dues.account.credit, invoices=[InvoicePublic.of(i) for i in org.dues.invoices])


def _users(org: Organisation) -> list[UserPublic]:
    return [UserPublic(subject=u.subject, name=u.name, email=u.email, role=u.role) for u in org.users]


@router.get(
    "/organisations/{org_id}/users",
    response_model=list[UserPublic],
    summary="The organisation's portal users and their roles (its members, or staff)",
)
async def list_users(org_id: str, principal: CurrentPrincipal, service: Service) -> list[UserPublic]:
    return _users(await service.get_for(org_id, principal))


@router.post(
    "/organisations/{org_id}/users",
    status_code=status.HTTP_201_CREATED,
    response_model=list[UserPublic],
    summary="Add a user with a role (the organisation's member admin, or the secretariat)",
)
async def add_user(org_id: str, body: UserCreate, principal: CurrentPrincipal, service: Service) -> list[UserPublic]:
    return _users(await service.add_user(org_id, OrgUser(body.subject, body.name, body.email, body.role), principal))


@router.delete(
    "/organisations/{org_id}/users/{subject}",
    response_model=list[UserPublic],
    summary="Remove a user (at least one member admin stays)",
)
async def remove_user(org_id: str, subject: str, principal: CurrentPrincipal, service: Service) -> list[UserPublic]:
    return _users(await service.remove_user(org_id, subject, principal))


@router.get(
    "/organisations/{org_id}/credit-hours",
    response_model=CreditHoursPublic,
    summary="Training credit hours of the organisation's people (its own users, or staff)",
)
async def credit_hours(org_id: str, principal: CurrentPrincipal, credit_hours: CreditHours) -> CreditHoursPublic:
    hours = await credit_hours.for_organisation(org_id, principal)
    return CreditHoursPublic(
        organisation_id=hours.organisation_id,
        total_hours=hours.total_hours,
        sessions=hours.sessions,
        people=[
            PersonHoursPublic(
                attendee_email=p.attendee_email, attendee_name=p.attendee_name, hours=p.hours, sessions=p.sessions
            )
            for p in hours.people
        ],
    )
