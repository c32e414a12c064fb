"""Training credit hours reach membership on the real Kafka and FerretDB, applied exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from alliance_common.events import envelope_for
from alliance_contracts.training import CreditHoursEarned
from alliance_local.pytest_plugin import eventually, produce, running
from membership.bootstrap import create_app
from membership.settings import Settings

pytestmark = pytest.mark.infra


def earned(org_id: str, registration_id: str, email: str, hours: str, session_id: str = "S-1") -> CreditHoursEarned:
    return CreditHoursEarned(
        session_id=session_id,
        registration_id=registration_id,
        organisation_id=org_id,
        attendee_name=email.split("@")[0],
        attendee_email=email,
        hours=Decimal(hours),
        days=[date(2026, 3, 10), date(2026, 3, 11)],
        session_title="LED patent landscape course",
        earned_on=datetime.now(UTC).date(),
    )


async def test_credit_hours_are_recorded_once_despite_redelivery_and_shown_to_the_organisation_only(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    app = create_app(service_settings(Settings))
    org = str(uuid.uuid4())
    first = envelope_for(
        earned(org, "R1", "Lin.Wei@huaxing.example", "12.0"), source="/alliance/training", subject="S-1"
    )
    second = envelope_for(
        earned(org, "R2", "chen.jing@huaxing.example", "6.5"), source="/alliance/training", subject="S-1"
    )
    # The same attendance published again under a new event id (e.g. a relay re-emission).
    again = envelope_for(
        earned(org, "R1", "lin.wei@huaxing.example", "12.0"), source="/alliance/training", subject="S-1"
    )
    own = {"Authorization": f"Bearer {make_token('admin@huaxing.example', 'member_admin', org_id=org)}"}
    other = {"Authorization": f"Bearer {make_token('admin@other.example', 'member_admin', org_id='other')}"}
    staff = {"Authorization": f"Bearer {make_token('s@alliance.example', 'secretariat')}"}
    async with running(app) as client:
        for envelope in (first, first, second, again, first):
            await produce(infra.kafka.bootstrap, "training.events", envelope.to_bytes(), b"S-1")
        url = f"/api/v1/membership/organisations/{org}/credit-hours"

        async def both_recorded() -> Any:
            body = (await client.get(url, headers=own)).json()
            return body if len(body["people"]) == 2 else None

        totals = await eventually(both_recorded)
        consumer = app.state.runtime.consumers[0]
        await eventually(lambda: consumer.processed + consumer.duplicates >= 5)
        totals = (await client.get(url, headers=own)).json()
        assert Decimal(totals["total_hours"]) == Decimal("18.5") and totals["sessions"] == 1
        assert [(p["attendee_email"], Decimal(p["hours"]), p["sessions"]) for p in totals["people"]] == [
            ("chen.jing@huaxing.example", Decimal("6.5"), 1),
            ("lin.wei@huaxing.example", Decimal("12.0"), 1),
        ]
        assert await app.state.runtime.db["credit_hours"].count_documents({"organisation_id": org}) == 2
        assert (await client.get(url, headers=staff)).json() == totals
        assert (await client.get(url, headers=other)).status_code == 404
