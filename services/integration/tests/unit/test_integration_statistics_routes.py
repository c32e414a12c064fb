"""The statistics and open-data routes on the real dependencies, problem handlers and contract,
over an in-memory archive: who may read, periods and bad dates, JSON and CSV, ETag and 304."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alliance_common.auth import TokenVerifier
from alliance_common.openapi import install_contract, operation_ids
from alliance_common.problems import install_problem_handlers
from integration.adapters.memory import InMemoryArchive
from integration.entrypoints import opendata, statistics

from .scenario import Timeline
from .test_integration_statistics import at, demo

ISSUER, AUDIENCE = "alliance-test-issuer", "alliance-platform"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC = (
    _KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
)


def app(archive: InMemoryArchive) -> FastAPI:
    api = FastAPI(generate_unique_id_function=operation_ids("integration"))
    api.state.verifier = TokenVerifier(PUBLIC, ISSUER, AUDIENCE)
    api.state.archive = archive
    install_problem_handlers(api)
    api.include_router(statistics.router)
    api.include_router(opendata.router)
    install_contract(api)
    return api


def bearer(*roles: str, kind: str = "user", scope: str | None = None) -> dict[str, str]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "agency-demo" if kind == "machine" else "someone@alliance.example",
        "iat": now,
        "exp": now + 300,
        "roles": list(roles),
        "typ": kind,
    }
    if scope is not None:
        claims["scope"] = scope
    return {"Authorization": f"Bearer {jwt.encode(claims, PRIVATE, algorithm='RS256')}"}


AGENCY = bearer("agency", kind="machine", scope="statistics:read")
SECRETARIAT = bearer("secretariat")


@pytest.fixture
def client() -> TestClient:
    return TestClient(app(InMemoryArchive(demo().events)))


# --- who may read statistics ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (AGENCY, 200),
        (SECRETARIAT, 200),
        (bearer("council"), 200),
        (bearer("member_admin"), 403),
        (bearer("expert"), 403),
        (bearer("agency", kind="machine", scope="standards:read"), 403),
        ({}, 401),
    ],
)
def test_statistics_are_for_agencies_with_the_scope_and_the_alliances_organs(
    client: TestClient, headers: dict[str, str], status: int
) -> None:
    response = client.get("/api/v1/integration/statistics/members?date=2026-12-31", headers=headers)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"].startswith("application/problem+json")


def test_every_topic_answers_its_tables_as_json(client: TestClient) -> None:
    index = client.get("/api/v1/integration/statistics", headers=AGENCY).json()
    assert [t["topic"] for t in index["topics"]] == ["members", "patents", "royalties", "standards", "training"]
    for topic in index["topics"]:
        body = client.get(topic["url"], params={"from": "2026-04-01", "to": "2026-06-30"}, headers=AGENCY).json()
        assert body["period"] == {"from": "2026-04-01", "to": "2026-06-30"}
        assert body["archive_version"] == len(demo().events)
        assert [t["name"] for t in body["tables"]] == [t["name"] for t in topic["tables"]]


def test_members_figures_through_the_route(client: TestClient) -> None:
    body = client.get(
        "/api/v1/integration/statistics/members",
        params={"from": "2026-04-01", "to": "2026-06-30", "table": "admissions_and_departures"},
        headers=AGENCY,
    ).json()
    assert body["tables"] == [
        {
            "name": "admissions_and_departures",
            "title": "Admissions and departures in the period",
            "columns": body["tables"][0]["columns"],
            "rows": [
                {
                    "from": "2026-04-01",
                    "to": "2026-06-30",
                    "members_at_start": 3,
                    "admitted": 1,
                    "withdrawn": 1,
                    "expelled": 0,
                    "members_at_end": 3,
                }
            ],
        }
    ]


def test_money_is_a_decimal_string_in_json_and_plain_in_csv(client: TestClient) -> None:
    body = client.get("/api/v1/integration/statistics/royalties?date=2026-12-31", headers=AGENCY).json()
    (quarters,) = [t for t in body["tables"] if t["name"] == "royalties_by_quarter"]
    assert quarters["rows"][0]["reported"] == "3300.75"
    assert quarters["rows"][1]["reported"] is None and quarters["rows"][1]["withheld"] is True
    text = client.get(
        "/api/v1/integration/statistics/royalties?date=2026-12-31&format=csv&table=royalties_by_quarter",
        headers=AGENCY,
    ).text
    assert text.splitlines()[1] == "2026-Q1,CNY,3,3,3300.75,3000.50,5.10,2700.45,300.05,false"


def test_csv_by_format_or_by_accept_with_its_file_name(client: TestClient) -> None:
    url = "/api/v1/integration/statistics/members?date=2026-12-31&table=members_by_tier"
    by_format = client.get(url + "&format=csv", headers=AGENCY)
    by_accept = client.get(url, headers={**AGENCY, "Accept": "text/csv"})
    for response in (by_format, by_accept):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8; header=present"
        assert response.headers["content-disposition"] == 'attachment; filename="members_by_tier-2026-12-31.csv"'
        assert response.content == b"tier,members\r\ncouncil_member,1\r\nordinary_member,0\r\nobserver,1\r\n"
    json_anyway = client.get(url + "&format=json", headers={**AGENCY, "Accept": "text/csv"})
    assert json_anyway.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date=2026-13-01", "date"),
        ("date=yesterday", "date"),
        ("from=2026-02-30&to=2026-03-01", "from"),
        ("from=2026-04-01", "to"),
        ("to=2026-04-01", "from"),
        ("from=2026-05-01&to=2026-04-01", "from"),
        ("date=2026-04-01&from=2026-01-01&to=2026-02-01", "date"),
        ("date=9999-12-31", "date"),
        ("date=0", "date"),  # not seconds since 1970
        ("date=20260101", "date"),
        ("from=1&to=2026-01-01", "from"),
        ("format=xml", "format"),
        ("table=members_by_shoe_size", "table"),
        ("table=Robert');DROP", "table"),
        ("format=csv", "table"),  # CSV holds one table: which?
    ],
)
def test_bad_input_is_a_problem_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/v1/integration/statistics/members?{query}", headers=AGENCY)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_the_default_period_is_today(client: TestClient) -> None:
    body = client.get("/api/v1/integration/statistics/standards", headers=AGENCY).json()
    assert body["period"]["from"] is None and body["period"]["to"] >= "2026-01-01"


# --- open data -----------------------------------------------------------------------------------


def test_open_data_needs_no_token_and_lists_its_datasets(client: TestClient) -> None:
    response = client.get("/api/v1/integration/opendata")
    assert response.status_code == 200
    catalogue = response.json()
    assert [d["name"] for d in catalogue["datasets"]] == [
        "standards",
        "essential-patents",
        "members",
        "training-calendar",
    ]
    for dataset in catalogue["datasets"]:
        assert dataset["licence"]["name"] == "CC BY 4.0"
        assert dataset["update_frequency"] == "continuous"
        assert all(f["description"] for f in dataset["fields"])
        for distribution in dataset["distributions"]:
            got = client.get(distribution["url"])
            assert got.status_code == 200, distribution
            assert got.headers["content-type"].startswith(distribution["media_type"])
            assert got.headers["cache-control"] == "public, max-age=300"


def test_an_unknown_dataset_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/integration/opendata/salaries")
    assert response.status_code == 404
    assert "standards" in response.json()["detail"]


def test_etag_and_if_none_match_give_304_until_the_archive_changes() -> None:
    archive = InMemoryArchive(demo().events)
    client = TestClient(app(archive))
    first = client.get("/api/v1/integration/opendata/members")
    tag = first.headers["etag"]
    again = client.get("/api/v1/integration/opendata/members", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    weak_list = client.get("/api/v1/integration/opendata/members", headers={"If-None-Match": f'"x", W/{tag}'})
    assert weak_list.status_code == 304
    csv_tag = client.get("/api/v1/integration/opendata/members?format=csv").headers["etag"]
    assert csv_tag != tag  # each representation has its own tag
    assert client.get("/api/v1/integration/opendata/standards", headers={"If-None-Match": tag}).status_code == 200
    # A new event: a new version, so the old tag no longer matches and the new member is listed.
    later = Timeline()
    later.at(at(8, 1)).admit("m9", "Quanzhou Phosphor Materials", tier="observer", segments=("materials",))
    asyncio.run(archive.add(later.events))
    changed = client.get("/api/v1/integration/opendata/members", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert "Quanzhou Phosphor Materials" in [r["name"] for r in changed.json()["rows"]]
    catalogue = client.get("/api/v1/integration/opendata")
    assert (
        client.get("/api/v1/integration/opendata", headers={"If-None-Match": catalogue.headers["etag"]}).status_code
        == 304
    )


def test_the_member_directory_and_the_calendar_as_published(client: TestClient) -> None:
    members = client.get("/api/v1/integration/opendata/members").json()
    # m1 and m3 remain (m2 withdrew, m4 was expelled).
    assert members["rows"] == [
        {
            "name": "Shenzhen Lumen Packaging",
            "tier": "observer",
            "region": "CN-GD",
            "segments": "packaging",
            "member_since": "2026-02-01",
        },
        {
            "name": "Xiamen Huaxing Epitaxy",
            "tier": "council_member",
            "region": "CN-FJ",
            "segments": "epitaxy; chip",
            "member_since": "2026-01-05",
        },
    ]
    calendar = list(
        csv.DictReader(io.StringIO(client.get("/api/v1/integration/opendata/training-calendar?format=csv").text))
    )
    assert [(r["session_id"], r["starts_at"], r["member_price"], r["venue"]) for r in calendar] == [
        ("TS1", "2026-04-10T01:00:00+00:00", "800.00", "Xiamen, Software Park Phase II"),
        ("TS2", "2026-11-20T01:00:00+00:00", "800.00", "Xiamen, Software Park Phase II"),
    ]


def test_the_essential_patents_and_the_standards_as_published(client: TestClient) -> None:
    patents = client.get("/api/v1/integration/opendata/essential-patents").json()["rows"]
    # P1 (CN, m1), P3 (EP, m3), P5 (CN, m1, invalidated in June: listed, not in force); P2 not essential.
    assert [(p["office"], p["holder"], p["in_force"]) for p in patents] == [
        ("CN", "Xiamen Huaxing Epitaxy", True),
        ("CN", "Xiamen Huaxing Epitaxy", False),
        ("EP", "Shenzhen Lumen Packaging", True),
    ]
    assert {p["programme"] for p in patents} == {"LED lighting pool"}
    standards = client.get("/api/v1/integration/opendata/standards").json()["rows"]
    assert [(s["number"], s["stage"], s["drafting_organisations"]) for s in standards] == [
        ("T/LEDA 001—2025", "withdrawn", "Xiamen Huaxing Epitaxy"),
        ("T/LEDA 001—2026", "published", "Xiamen Huaxing Epitaxy"),
    ]


# --- the documented contract ---------------------------------------------------------------------


def test_the_contract_documents_anonymous_open_data_and_scoped_statistics(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    members = doc["paths"]["/api/v1/integration/statistics/members"]["get"]
    assert members["operationId"] == "integration.members_statistics"
    assert members["security"] == [{"bearer": []}, {"oauth2": ["statistics:read"]}]
    assert {"401", "403", "422"} <= set(members["responses"])
    assert "text/csv" in members["responses"]["200"]["content"]
    for path in ("/api/v1/integration/opendata", "/api/v1/integration/opendata/{dataset}"):
        operation = doc["paths"][path]["get"]
        assert operation["security"] == [], path
        assert "401" not in operation["responses"] and "304" in operation["responses"]


def test_each_documented_success_has_an_example_its_route_accepts(client: TestClient) -> None:
    from fastapi.routing import APIRoute
    from pydantic import TypeAdapter

    checked = 0
    for router in (statistics.router, opendata.router):
        for route in router.routes:
            assert isinstance(route, APIRoute) and route.response_model is not None, route.path
            adapter: TypeAdapter[Any] = TypeAdapter(route.response_model)
            (example, *_) = adapter.json_schema(mode="serialization")["examples"]
            adapter.validate_python(example)
            checked += 1
    assert checked == 8  # five topics, their index, the catalogue, a dataset
