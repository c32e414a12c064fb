"""Bounds through the HTTP API on the real FerretDB and Kafka: a report past its line limit, or
reaching further back than the rules allow, is a 422 naming the field, answered as a problem; a
read afterwards shows nothing stored; a report of exactly ``REPORT_LINES_MAX`` lines is filed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from alliance_local.pytest_plugin import running
from licensing.bootstrap import create_app
from licensing.domain import limits
from licensing.settings import Settings

pytestmark = pytest.mark.infra

SCHEDULE = {"currency": "USD", "categories": {"led_package": [{"standard_rate": "0.0100", "compliant_rate": "0.0080"}]}}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def line(period: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_category": "led_package",
        "units": 10,
        "country_of_manufacture": "CN",
        "country_of_sale": "US",
    }
    return body if period is None else {**body, "period": period}


async def test_reports_past_their_bounds_are_refused_naming_the_field_and_store_nothing(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    licensee = str(uuid.uuid4())
    secretariat = bearer(make_token("s", "secretariat"))
    as_licensee = bearer(make_token("finance@licensee.example", "licensee", org_id=licensee))
    async with running(create_app(service_settings(Settings))) as client:
        created = await client.post(
            "/api/v1/licensing/programmes",
            headers=secretariat,
            json={"name": "Bounded pool", "standard_ref": "T/LEDA 009—2026"},
        )
        assert created.status_code == 201, created.text
        programme_id = created.json()["id"]
        published = await client.put(
            f"/api/v1/licensing/programmes/{programme_id}/schedule", json=SCHEDULE, headers=secretariat
        )
        assert published.status_code == 200, published.text
        signed = await client.post(
            f"/api/v1/licensing/programmes/{programme_id}/licences",
            headers=secretariat,
            json={"licensee_id": licensee, "licensee_name": "Bright Lamps Inc.", "start_date": "2016-01-01"},
        )
        assert signed.status_code == 201, signed.text

        this_year = date.today().year
        too_old = f"{this_year - limits.REPORT_LOOKBACK_YEARS - 1}-Q4"
        last_year = f"{this_year - 1}-Q4"
        url = f"/api/v1/licensing/programmes/{programme_id}/reports"
        for body, field in (
            ({"period": last_year, "lines": [line()] * (limits.REPORT_LINES_MAX + 1)}, "lines"),
            ({"period": too_old, "lines": [line()]}, "period"),
            ({"period": last_year, "lines": [line(), line(too_old)]}, "lines.1.period"),
            ({"period": last_year, "lines": [{**line(), "units": limits.UNITS_MAX + 1}]}, "lines.0.units"),
        ):
            refused = await client.post(url, json=body, headers=as_licensee)
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in refused.json()["errors"]] == [field]
        stored = await client.get("/api/v1/licensing/reports", headers=as_licensee)
        assert stored.status_code == 200 and stored.json()["items"] == []

        # At the bound, the report is filed: its lines kept in chunks apart from the account, read back whole.
        at_bound = [{**line(), "units": 10 + i} for i in range(limits.REPORT_LINES_MAX)]
        filed = await client.post(url, json={"period": last_year, "lines": at_bound}, headers=as_licensee)
        assert filed.status_code == 201, filed.text
        read = await client.get(f"/api/v1/licensing/reports/{filed.json()['id']}", headers=as_licensee)
        assert read.status_code == 200, read.text
        assert [x["units"] for x in read.json()["lines"]] == [x["units"] for x in at_bound]
