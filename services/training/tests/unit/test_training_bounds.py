"""Training's bounds: a group registration names at most ``GROUP_ATTENDEES_MAX`` people, refused
by the domain (whoever calls it) and by the request schema, naming ``attendees``; strings bounded."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from alliance_common.errors import InvalidInput
from training.domain import limits
from training.domain.model import Attendee, Audience, Registration, Session, SessionFormat
from training.entrypoints.schemas import CancelIn, GroupRegistrationCreate, RegistrationCreate, SessionCreate

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)


def session() -> Session:
    s = Session.schedule(
        id="sess-1",
        title="LED patent landscape course",
        audience=Audience.ENGINEERS,
        format=SessionFormat.COURSE,
        starts_at=START,
        ends_at=START + timedelta(hours=8),
        venue="Suzhou",
        online=False,
        capacity=limits.CAPACITY_MAX,
        member_price=Decimal("800"),
        non_member_price=Decimal("1500"),
        currency="CNY",
        registration_closes_at=None,
        by="secretariat",
        now=NOW,
    )
    s.events = []
    return s


def group(s: Session, n: int) -> list[Registration]:
    return s.register_group(
        registration_ids=[f"g{i}" for i in range(n)],
        attendees=[Attendee(f"Person {i}", f"p{i}@org.example") for i in range(n)],
        organisation_id="org-2",
        member_in_good_standing=True,
        by="admin@org-2",
        now=NOW,
    )


def test_a_group_registration_names_at_most_group_attendees_max_people() -> None:
    s = session()
    before = copy.deepcopy(s)
    with pytest.raises(InvalidInput) as refused:
        group(s, limits.GROUP_ATTENDEES_MAX + 1)
    assert refused.value.field == "attendees" and refused.value.status == 422
    assert s == before and s.events == []
    assert len(group(s, limits.GROUP_ATTENDEES_MAX)) == limits.GROUP_ATTENDEES_MAX


def test_the_schemas_refuse_what_is_past_a_bound_naming_the_field() -> None:
    attendee = {"attendee_name": "Lin Wei", "attendee_email": "lin.wei@huaxing.example"}
    with pytest.raises(ValidationError) as attendees:
        GroupRegistrationCreate.model_validate({"attendees": [attendee] * (limits.GROUP_ATTENDEES_MAX + 1)})
    assert [e["loc"] for e in attendees.value.errors()] == [("attendees",)]
    with pytest.raises(ValidationError) as name:
        RegistrationCreate.model_validate({**attendee, "attendee_name": "n" * (limits.PERSON_NAME_MAX + 1)})
    assert [e["loc"] for e in name.value.errors()] == [("attendee_name",)]
    with pytest.raises(ValidationError) as reason:
        CancelIn.model_validate({"reason": "r" * (limits.REASON_MAX + 1)})
    assert [e["loc"] for e in reason.value.errors()] == [("reason",)]
    body = {
        "title": "Patent pools",
        "audience": "engineers",
        "format": "seminar",
        "starts_at": "2027-03-10T01:00:00Z",
        "ends_at": "2027-03-10T09:00:00Z",
        "member_price": "800.00",
        "non_member_price": "1500.00",
    }
    with pytest.raises(ValidationError) as capacity:
        SessionCreate.model_validate({**body, "capacity": limits.CAPACITY_MAX + 1})
    assert [e["loc"] for e in capacity.value.errors()] == [("capacity",)]
    with pytest.raises(ValidationError) as title:
        SessionCreate.model_validate({**body, "capacity": 10, "title": "t" * (limits.TITLE_MAX + 1)})
    assert [e["loc"] for e in title.value.errors()] == [("title",)]


def test_dates_are_refused_outside_1900_to_2199_naming_the_field() -> None:
    body = {
        "title": "Patent pools",
        "audience": "engineers",
        "format": "seminar",
        "starts_at": "9999-12-31T20:00:00Z",
        "ends_at": "9999-12-31T22:00:00Z",
        "capacity": 10,
        "member_price": "800.00",
        "non_member_price": "1500.00",
    }
    with pytest.raises(ValidationError) as refused:
        SessionCreate.model_validate(body)
    assert {e["loc"] for e in refused.value.errors()} == {("starts_at",), ("ends_at",)}
