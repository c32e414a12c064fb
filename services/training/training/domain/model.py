"""Training sessions and their registrations (one aggregate, so capacity holds atomically).

A place is held by a registration that is pending approval, confirmed, or offered a freed place;
everyone else who consented waits on the session's list, in order. Nothing is deleted: every
registration keeps its status history (who, when, why), and attendance and certificates are
recorded on it. Plain Python, no I/O: the clock (``now``) and durations come in as parameters.
Money is Decimal, never float.

The session itself keeps what its rules need to admit people without looking at anyone's
registration: the places held, how many wait, and the set of people actively registered (one
active registration per person). So a session may be loaded with only some of its registrations
(``registrations`` holds those loaded): admitting needs none, and a newly admitted registration is
the last in line. Everything that reads or moves existing registrations (decisions, offers,
cancellation, attendance) needs the session with all of them; the service layer loads it so.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from alliance_common.errors import Conflict, InvalidInput, NotFound
from training.domain import limits
from training.domain.events import (
    CertificateIssued,
    CreditHoursEarned,
    RegistrationConfirmed,
    RegistrationStatusChanged,
    SessionEvent,
    SessionScheduled,
)

CENT = Decimal("0.01")
HALF_HOUR = Decimal("0.5")
SYSTEM = "system"
# Verification codes: no 0/O, 1/I/L, so a code read aloud or typed from paper is unambiguous.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


def new_verification_code() -> str:
    """12 characters from a 31-letter alphabet: about 59 bits, not guessable."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Audience(StrEnum):
    EXECUTIVES = "executives"
    IP_MANAGERS = "ip_managers"
    ENGINEERS = "engineers"


class SessionFormat(StrEnum):
    SALON = "salon"
    SEMINAR = "seminar"
    COURSE = "course"


class RegistrationStatus(StrEnum):
    PENDING = "pending"  # awaiting staff approval; holds its place so approval never overbooks
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # a freed place is offered; held until the offer expires
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    OFFER_EXPIRED = "offer_expired"


S = RegistrationStatus
HOLDS_PLACE = frozenset({S.PENDING, S.CONFIRMED, S.OFFERED})
ACTIVE = HOLDS_PLACE | {S.WAITLISTED}
# The registration state machine: every allowed move; anything else is a conflict.
TRANSITIONS: dict[RegistrationStatus, frozenset[RegistrationStatus]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.REJECTED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.CANCELLED}),
    S.WAITLISTED: frozenset({S.OFFERED, S.CANCELLED}),
    S.OFFERED: frozenset({S.CONFIRMED, S.PENDING, S.OFFER_EXPIRED, S.CANCELLED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.OFFER_EXPIRED: frozenset(),
}


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str


@dataclass(frozen=True)
class Quote:
    price: Decimal
    member_price_applied: bool
    early_bird_applied: bool


@dataclass
class StatusChange:
    status: RegistrationStatus
    at: datetime
    by: str
    reason: str | None = None


@dataclass
class Attendance:
    day: date
    checked_in_at: datetime
    by: str


@dataclass
class Certificate:
    code: str
    issued_at: datetime
    hours: Decimal
    days: list[date]


@dataclass
class Registration:
    id: str
    attendee_name: str
    attendee_email: str
    organisation_id: str | None
    registered_by: str
    price: Decimal
    member_price_applied: bool
    status: RegistrationStatus
    registered_at: datetime
    early_bird_applied: bool = False
    number: int = 0  # the n-th registration made for its session (1 = first): their order
    waitlist_position: int | None = None
    offer_expires_at: datetime | None = None
    cancellation_fee: Decimal | None = None
    attendance: list[Attendance] = field(default_factory=list)
    credit_hours: Decimal | None = None  # set once attendance is closed and the hours are credited
    certificate: Certificate | None = None
    history: list[StatusChange] = field(default_factory=list)

    @property
    def days_attended(self) -> list[date]:
        return sorted(a.day for a in self.attendance)

    def can_move_to(self, to: RegistrationStatus) -> bool:
        return to in TRANSITIONS[self.status]

    def move(self, to: RegistrationStatus, *, at: datetime, by: str, reason: str | None = None) -> RegistrationStatus:
        """Change status along an allowed transition and record who, when and why."""
        if not self.can_move_to(to):
            raise Conflict(f"a {self.status.value} registration cannot become {to.value}", field="status")
        previous = self.status
        self.status = to
        self.history.append(StatusChange(to, at, by, reason))
        return previous


def default_credit_hours(starts_at: datetime, ends_at: datetime, days: int) -> Decimal:
    """Hours per day when none are stated: a one-day session's length (to the half hour, at most 8); 6 a day else."""
    if days > 1:
        return Decimal("6.0")
    hours = Decimal((ends_at - starts_at).total_seconds()) / 3600
    halves = (hours / HALF_HOUR).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(Decimal("8.0"), max(HALF_HOUR, halves * HALF_HOUR))


@dataclass
class Session:
    id: str
    title: str
    audience: Audience
    format: SessionFormat
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    online: bool
    capacity: int
    member_price: Decimal
    non_member_price: Decimal
    currency: str
    registration_closes_at: datetime
    scheduled_by: str
    registrations: list[Registration] = field(default_factory=list)
    version: int = 0
    events: list[SessionEvent] = field(default_factory=list, repr=False)
    registration_opens_at: datetime | None = None
    requires_approval: bool = False
    early_bird_price: Decimal | None = None
    early_bird_until: datetime | None = None
    cancellation_deadline: datetime | None = None  # None: the registration close
    cancellation_fee: Decimal = Decimal("0.00")
    credit_hours_per_day: Decimal = Decimal("0")
    min_days_for_certificate: int | None = None  # None: every day
    proposal_id: str | None = None
    waitlist_seq: int = 0
    attendance_closed_at: datetime | None = None
    # Kept with every change, so admitting reads none of the registrations:
    held: int = 0  # registrations holding a place (pending, confirmed, offered)
    waiting_count: int = 0  # registrations on the waiting list
    active_emails: set[str] = field(default_factory=set)  # attendees actively registered (lower case)
    registration_count: int = 0  # registrations ever made (numbers them)

    @classmethod
    def schedule(
        cls,
        *,
        id: str,
        title: str,
        audience: Audience,
        format: SessionFormat,
        starts_at: datetime,
        ends_at: datetime,
        venue: str | None,
        online: bool,
        capacity: int,
        member_price: Decimal,
        non_member_price: Decimal,
        currency: str,
        registration_closes_at: datetime | None,
        by: str,
        now: datetime,
        registration_opens_at: datetime | None = None,
        requires_approval: bool = False,
        early_bird_price: Decimal | None = None,
        early_bird_until: datetime | None = None,
        cancellation_deadline: datetime | None = None,
        cancellation_fee: Decimal = Decimal("0"),
        credit_hours_per_day: Decimal | None = None,
        min_days_for_certificate: int | None = None,
        proposal_id: str | None = None,
    ) -> Session:
        if starts_at <= now:
            raise InvalidInput("a session must start in the future", field="starts_at")
        if ends_at <= starts_at:
            raise InvalidInput("must be after starts_at", field="ends_at")
        if not online and not venue:
            raise InvalidInput("an in-person session needs a venue", field="venue")
        if capacity < 1:
            raise InvalidInput("a session needs at least one place", field="capacity")
        if member_price > non_member_price:
            raise InvalidInput("the member price may not exceed the non-member price", field="member_price")
        closes = registration_closes_at or starts_at
        if closes > starts_at:
            raise InvalidInput("registration must close no later than the start", field="registration_closes_at")
        opens = registration_opens_at or now
        if opens >= closes:
            raise InvalidInput("registration must open before it closes", field="registration_opens_at")
        if (early_bird_price is None) != (early_bird_until is None):
            field_name = "early_bird_until" if early_bird_until is None else "early_bird_price"
            raise InvalidInput("an early-bird price needs both a price and a date", field=field_name)
        if early_bird_price is not None and early_bird_price >= non_member_price:
            raise InvalidInput("the early-bird price must be below the non-member price", field="early_bird_price")
        if early_bird_until is not None and early_bird_until > closes:
            raise InvalidInput("the early-bird price must end by the registration close", field="early_bird_until")
        deadline = cancellation_deadline or closes
        if deadline > starts_at:
            raise InvalidInput("free cancellation must end no later than the start", field="cancellation_deadline")
        if cancellation_fee < 0 or cancellation_fee > non_member_price:
            raise InvalidInput("the fee must be between 0 and the non-member price", field="cancellation_fee")
        days = (ends_at.date() - starts_at.date()).days + 1
        if min_days_for_certificate is not None and not 1 <= min_days_for_certificate <= days:
            raise InvalidInput(f"must be between 1 and the session's {days} day(s)", field="min_days_for_certificate")
        hours = (
            credit_hours_per_day if credit_hours_per_day is not None else default_credit_hours(starts_at, ends_at, days)
        )
        if hours < 0 or hours > 24:
            raise InvalidInput("must be between 0 and 24", field="credit_hours_per_day")
        session = cls(
            id=id,
            title=title,
            audience=audience,
            format=format,
            starts_at=starts_at,
            ends_at=ends_at,
            venue=venue,
            online=online,
            capacity=capacity,
            member_price=member_price.quantize(CENT),
            non_member_price=non_member_price.quantize(CENT),
            currency=currency,
            registration_closes_at=closes,
            scheduled_by=by,
            registration_opens_at=opens,
            requires_approval=requires_approval,
            early_bird_price=early_bird_price.quantize(CENT) if early_bird_price is not None else None,
            early_bird_until=early_bird_until,
            cancellation_deadline=deadline,
            cancellation_fee=cancellation_fee.quantize(CENT),
            credit_hours_per_day=hours,
            min_days_for_certificate=min_days_for_certificate,
            proposal_id=proposal_id,
        )
        session.events.append(
            SessionScheduled(
                session_id=id,
                title=title,
                audience=audience.value,
                starts_at=starts_at,
                capacity=capacity,
                member_price=session.member_price,
                non_member_price=session.non_member_price,
                currency=currency,
                ends_at=session.ends_at,
                format=session.format.value,
                venue=session.venue,
                online=session.online,
            )
        )
        return session

    # --- reading -------------------------------------------------------------------------

    @property
    def days(self) -> list[date]:
        first = self.starts_at.date()
        return [first + timedelta(days=i) for i in range((self.ends_at.date() - first).days + 1)]

    @property
    def days_required(self) -> int:
        return self.min_days_for_certificate or len(self.days)

    @property
    def confirmed(self) -> int:
        """Confirmed registrations among those loaded."""
        return sum(1 for r in self.registrations if r.status is S.CONFIRMED)

    @property
    def places_held(self) -> int:
        return self.held

    @property
    def seats_left(self) -> int:
        return self.capacity - self.held

    @property
    def waiting(self) -> list[Registration]:
        """The waiting list, in order (all of it when every registration is loaded)."""
        waiting = [r for r in self.registrations if r.status is S.WAITLISTED]
        return sorted(waiting, key=lambda r: r.waitlist_position or 0)

    def place_in_line(self, registration: Registration) -> int | None:
        """1 for the next person waiting; None unless waiting.

        Counted from the back of the line: right with every registration loaded, and for a
        registration just admitted (nobody waits behind it but others admitted with it).
        """
        if registration.status is not S.WAITLISTED:
            return None
        behind = sum(
            1
            for r in self.registrations
            if r.status is S.WAITLISTED and (r.waitlist_position or 0) > (registration.waitlist_position or 0)
        )
        return self.waiting_count - behind

    def registration(self, registration_id: str) -> Registration:
        for r in self.registrations:
            if r.id == registration_id:
                return r
        raise NotFound(f"registration {registration_id} not found", field="registration_id")

    def quote(self, member_in_good_standing: bool, now: datetime) -> Quote:
        price = self.member_price if member_in_good_standing else self.non_member_price
        early = (
            self.early_bird_price is not None
            and self.early_bird_until is not None
            and now < self.early_bird_until
            and self.early_bird_price < price
        )
        return Quote(
            self.early_bird_price if early and self.early_bird_price is not None else price,
            member_in_good_standing,
            early,
        )

    def price_for(self, member_in_good_standing: bool) -> Decimal:
        return self.member_price if member_in_good_standing else self.non_member_price

    # --- registering ---------------------------------------------------------------------

    def register(
        self,
        *,
        registration_id: str,
        attendee_name: str,
        attendee_email: str,
        organisation_id: str | None,
        member_in_good_standing: bool,
        by: str,
        now: datetime,
        waitlist: bool = False,
    ) -> Registration:
        (registration,) = self._admit(
            [registration_id],
            [Attendee(attendee_name, attendee_email)],
            organisation_id,
            member_in_good_standing,
            by,
            now,
            waitlist,
            lambda i: "attendee_email",
        )
        return registration

    def register_group(
        self,
        *,
        registration_ids: Sequence[str],
        attendees: Sequence[Attendee],
        organisation_id: str | None,
        member_in_good_standing: bool,
        by: str,
        now: datetime,
        waitlist: bool = False,
    ) -> list[Registration]:
        """Several people of one organisation at once: all get places, or (with consent) the rest wait."""
        if not attendees:
            raise InvalidInput("name at least one attendee", field="attendees")
        if len(attendees) > limits.GROUP_ATTENDEES_MAX:
            raise InvalidInput(
                f"a group registration names at most {limits.GROUP_ATTENDEES_MAX} people, not {len(attendees)}",
                field="attendees",
            )
        return self._admit(
            registration_ids,
            attendees,
            organisation_id,
            member_in_good_standing,
            by,
            now,
            waitlist,
            lambda i: f"attendees.{i}.attendee_email",
        )

    def _admit(
        self,
        ids: Sequence[str],
        attendees: Sequence[Attendee],
        organisation_id: str | None,
        member: bool,
        by: str,
        now: datetime,
        waitlist: bool,
        email_field: Callable[[int], str],
    ) -> list[Registration]:
        if len(ids) != len(attendees):
            raise ValueError("one registration id per attendee")
        if self.registration_opens_at is not None and now < self.registration_opens_at:
            raise Conflict(
                f"registration opens at {self.registration_opens_at.isoformat()}", field="registration_opens_at"
            )
        if now >= self.registration_closes_at:
            raise Conflict("registration for this session has closed", field="registration_closes_at")
        active = self.active_emails
        seen: set[str] = set()
        for i, attendee in enumerate(attendees):
            email = attendee.email.lower()
            if email in active:
                raise Conflict(f"{email} is registered for this session already", field=email_field(i))
            if email in seen:
                raise InvalidInput(f"{email} is named twice", field=email_field(i))
            seen.add(email)
        # Nobody jumps the queue: while people wait, every freed place is theirs.
        free = 0 if self.waiting_count else max(0, self.seats_left)
        if free < len(attendees) and not waitlist:
            raise Conflict(
                f"the session is full: {free} place(s) left for {len(attendees)} attendee(s); "
                "set waitlist to true to join the waiting list",
                field="waitlist",
            )
        quote = self.quote(member, now)
        admitted: list[Registration] = []
        for i, (registration_id, attendee) in enumerate(zip(ids, attendees, strict=True)):
            if i < free:
                status = S.PENDING if self.requires_approval else S.CONFIRMED
                position = None
            else:
                status = S.WAITLISTED
                self.waitlist_seq += 1
                position = self.waitlist_seq
            self.registration_count += 1
            registration = Registration(
                id=registration_id,
                attendee_name=attendee.name,
                attendee_email=attendee.email.lower(),
                organisation_id=organisation_id,
                registered_by=by,
                price=quote.price,
                member_price_applied=quote.member_price_applied,
                early_bird_applied=quote.early_bird_applied,
                status=status,
                registered_at=now,
                number=self.registration_count,
                waitlist_position=position,
                history=[StatusChange(status, now, by, "registered")],
            )
            self.registrations.append(registration)
            self._count(registration, status, 1)
            self._announce(registration, None)
            admitted.append(registration)
        return admitted

    # --- decisions -------------------------------------------------------------------------

    def approve(self, registration_id: str, *, by: str, now: datetime) -> Registration:
        registration = self.registration(registration_id)
        if registration.status is not S.PENDING:
            raise Conflict(
                f"only a pending registration can be approved (it is {registration.status.value})",
                field="registration_id",
            )
        previous = self._move(registration, S.CONFIRMED, at=now, by=by, reason="approved")
        self._announce(registration, previous)
        return registration

    def reject(
        self, registration_id: str, *, reason: str, by: str, now: datetime, offer_for: timedelta
    ) -> Registration:
        if not reason.strip():
            raise InvalidInput("a rejection needs a reason", field="reason")
        registration = self.registration(registration_id)
        if registration.status is not S.PENDING:
            raise Conflict(
                f"only a pending registration can be rejected (it is {registration.status.value})",
                field="registration_id",
            )
        previous = self._move(registration, S.REJECTED, at=now, by=by, reason=reason.strip())
        self._announce(registration, previous, reason=reason.strip())
        self.promote(now=now, offer_for=offer_for)
        return registration

    def cancel(
        self, registration_id: str, *, by: str, now: datetime, offer_for: timedelta, reason: str | None = None
    ) -> Registration:
        """Free until the cancellation deadline; after it a confirmed place costs the fee (at most its price)."""
        registration = self.registration(registration_id)
        if now >= self.starts_at:
            raise Conflict("the session has started; registrations can no longer be cancelled", field="registration_id")
        if registration.status not in ACTIVE:
            raise Conflict(f"a {registration.status.value} registration cannot be cancelled", field="registration_id")
        held = registration.status in HOLDS_PLACE
        deadline = self.cancellation_deadline or self.registration_closes_at
        if registration.status is S.CONFIRMED and now > deadline:
            registration.cancellation_fee = min(self.cancellation_fee, registration.price)
        else:
            registration.cancellation_fee = Decimal("0.00")
        previous = self._move(registration, S.CANCELLED, at=now, by=by, reason=reason or "cancelled")
        self._announce(registration, previous, reason=reason)
        if held:
            self.promote(now=now, offer_for=offer_for)
        return registration

    def accept_offer(self, registration_id: str, *, by: str, now: datetime) -> Registration:
        registration = self.registration(registration_id)
        if registration.status is not S.OFFERED:
            raise Conflict(
                f"there is no open offer on this registration (it is {registration.status.value})",
                field="registration_id",
            )
        if registration.offer_expires_at is not None and now >= registration.offer_expires_at:
            raise Conflict(
                f"the offer expired at {registration.offer_expires_at.isoformat()}", field="offer_expires_at"
            )
        to = S.PENDING if self.requires_approval else S.CONFIRMED
        previous = self._move(registration, to, at=now, by=by, reason="offer accepted")
        registration.offer_expires_at = None
        self._announce(registration, previous)
        return registration

    def promote(self, *, now: datetime, offer_for: timedelta) -> list[Registration]:
        """Offer each freed place to the next person waiting, in order, until the session starts."""
        offered: list[Registration] = []
        if now >= self.starts_at:
            return offered
        waiting = self.waiting
        while self.seats_left > 0 and waiting:
            registration = waiting.pop(0)
            registration.offer_expires_at = min(now + offer_for, self.starts_at)
            previous = self._move(registration, S.OFFERED, at=now, by=SYSTEM, reason="a place became free")
            self._announce(registration, previous)
            offered.append(registration)
        return offered

    def expire_offers(self, *, now: datetime, offer_for: timedelta) -> list[Registration]:
        """Offers not taken in time lapse; their places go to the next people waiting."""
        expired = [
            r
            for r in self.registrations
            if r.status is S.OFFERED and r.offer_expires_at is not None and now >= r.offer_expires_at
        ]
        for registration in expired:
            previous = self._move(
                registration, S.OFFER_EXPIRED, at=now, by=SYSTEM, reason="the offer was not taken in time"
            )
            self._announce(registration, previous, reason="the offer was not taken in time")
        if expired:
            self.promote(now=now, offer_for=offer_for)
        return expired

    # --- attendance and certificates --------------------------------------------------------

    def check_in(self, registration_id: str, *, day: date | None, by: str, now: datetime) -> Registration:
        """Record attendance for one day (the first day if none is named)."""
        if self.attendance_closed_at is not None:
            raise Conflict("attendance for this session is closed", field="day")
        if now < self.starts_at:
            raise Conflict("check-in opens when the session starts", field="day")
        day = day or self.days[0]
        if day not in self.days:
            raise InvalidInput(
                f"the session runs {self.days[0].isoformat()} to {self.days[-1].isoformat()}", field="day"
            )
        registration = self.registration(registration_id)
        if registration.status is not S.CONFIRMED:
            raise Conflict(
                f"only a confirmed attendee can be checked in (this one is {registration.status.value})",
                field="registration_id",
            )
        if day in registration.days_attended:
            raise Conflict(f"checked in for {day.isoformat()} already", field="day")
        registration.attendance.append(Attendance(day, now, by))
        return registration

    def close_attendance(
        self, *, by: str, now: datetime, new_code: Callable[[], str] = new_verification_code
    ) -> list[Registration]:
        """Credit each attendee's hours and certify those who attended as required; once."""
        if self.attendance_closed_at is not None:
            raise Conflict(
                "attendance for this session is closed already; certificates were issued", field="session_id"
            )
        if now < self.starts_at:
            raise Conflict("the session has not started", field="session_id")
        self.attendance_closed_at = now
        certified: list[Registration] = []
        for r in self.registrations:
            days = r.days_attended
            if r.status is not S.CONFIRMED or not days:
                continue
            hours = self.credit_hours_per_day * len(days)
            r.credit_hours = hours
            self.events.append(
                CreditHoursEarned(
                    session_id=self.id,
                    registration_id=r.id,
                    organisation_id=r.organisation_id,
                    attendee_name=r.attendee_name,
                    attendee_email=r.attendee_email,
                    hours=hours,
                    days=tuple(days),
                    session_title=self.title,
                    earned_on=now.date(),
                )
            )
            if len(days) >= self.days_required:
                r.certificate = Certificate(new_code(), now, hours, days)
                self.events.append(
                    CertificateIssued(
                        session_id=self.id,
                        registration_id=r.id,
                        organisation_id=r.organisation_id,
                        attendee_name=r.attendee_name,
                        attendee_email=r.attendee_email,
                        verification_code=r.certificate.code,
                        credit_hours=hours,
                        issued_on=now.date(),
                        session_title=self.title,
                    )
                )
                certified.append(r)
        return certified

    # --- the counts the session keeps ----------------------------------------------------------

    def _move(
        self, registration: Registration, to: RegistrationStatus, *, at: datetime, by: str, reason: str | None = None
    ) -> RegistrationStatus:
        previous = registration.move(to, at=at, by=by, reason=reason)
        self._count(registration, previous, -1)
        self._count(registration, to, 1)
        return previous

    def _count(self, registration: Registration, status: RegistrationStatus, step: int) -> None:
        if status in HOLDS_PLACE:
            self.held += step
        if status is S.WAITLISTED:
            self.waiting_count += step
        if status in ACTIVE:
            if step > 0:
                self.active_emails.add(registration.attendee_email)
            else:
                self.active_emails.discard(registration.attendee_email)

    # --- events ----------------------------------------------------------------------------

    def _announce(self, r: Registration, previous: RegistrationStatus | None, reason: str | None = None) -> None:
        if r.status is S.CONFIRMED:
            self.events.append(
                RegistrationConfirmed(
                    session_id=self.id,
                    registration_id=r.id,
                    organisation_id=r.organisation_id,
                    attendee_email=r.attendee_email,
                    price=r.price,
                    currency=self.currency,
                    member_price_applied=r.member_price_applied,
                )
            )
            return
        self.events.append(
            RegistrationStatusChanged(
                session_id=self.id,
                registration_id=r.id,
                organisation_id=r.organisation_id,
                attendee_email=r.attendee_email,
                status=r.status.value,
                previous_status=previous.value if previous else None,
                reason=reason,
                offer_expires_at=r.offer_expires_at if r.status is S.OFFERED else None,
                cancellation_fee=r.cancellation_fee if r.status is S.CANCELLED else None,
                currency=self.currency if r.status is S.CANCELLED else None,
                session_title=self.title,
            )
        )
