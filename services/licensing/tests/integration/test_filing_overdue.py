"""Licensing's filing deadline check on the real document store and Kafka, in two replicas at once
(two apps on one database, each running the check every 0.3 s): a licence signed with an effective
date four months back is past its filing deadline, and one ``licence.filing_overdue`` event (one
CloudEvents id) is published, not one per replica or per run; its record is still overdue."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alliance_contracts.licensing import LicenceFilingOverdue
from alliance_local.pytest_plugin import eventually, running, wait_for_events
from licensing.bootstrap import create_app
from licensing.settings import Settings

pytestmark = pytest.mark.infra


async def test_two_replicas_publish_one_overdue_event_per_contract(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    settings = service_settings(Settings, filing_check_interval_s=0.3)
    staff = {"Authorization": f"Bearer {make_token('s', 'secretariat')}"}
    licensee = f"lic-{uuid.uuid4().hex[:8]}"
    start = datetime.now(UTC).date() - timedelta(days=120)
    async with running(create_app(settings)) as first, running(create_app(settings)) as second:
        made = await first.post(
            "/api/v1/licensing/programmes",
            json={"name": "Overdue test pool", "standard_ref": f"T/LEDA {uuid.uuid4().hex[:4]}—2026"},
            headers=staff,
        )
        assert made.status_code == 201, made.text
        signed = await second.post(
            f"/api/v1/licensing/programmes/{made.json()['id']}/licences",
            json={
                "licensee_id": licensee,
                "licensee_name": f"{licensee} Lighting Ltd.",
                "start_date": start.isoformat(),
                "territory": ["CN"],
                "royalty_kind": "lump_sum",
            },
            headers=staff,
        )
        assert signed.status_code == 201, signed.text
        licence_id = signed.json()["id"]

        def overdue(envelope: dict[str, Any]) -> bool:
            return envelope["type"] == LicenceFilingOverdue.event_type and envelope["data"]["licence_id"] == licence_id

        bootstrap = infra.kafka.bootstrap
        assert await wait_for_events(bootstrap, LicenceFilingOverdue.topic, overdue, timeout=60)
        # Both replicas' checks run many more times; then everything on the topic about this licence.
        await asyncio.sleep(3)
        found = await wait_for_events(bootstrap, LicenceFilingOverdue.topic, overdue, count=1000, timeout=6)
        # One event (its id); the outbox relay publishes at least once, so a record may repeat it
        # (another replica's relay scanning the same pending entry), which consumers drop by id.
        assert len({envelope["id"] for envelope, _ in found}) == 1, found
        data = found[0][0]["data"]
        assert (data["licensee_id"], data["licensee_name"]) == (licensee, f"{licensee} Lighting Ltd.")
        assert data["effective_on"] == start.isoformat() and data["deadline"] < datetime.now(UTC).date().isoformat()

        async def record() -> Any:
            got = await first.get(f"/api/v1/licensing/licence-filings/{licence_id}", headers=staff)
            return got.json() if got.status_code == 200 else None

        assert (await eventually(record, 10))["status"] == "overdue"  # still overdue: told, not filed
