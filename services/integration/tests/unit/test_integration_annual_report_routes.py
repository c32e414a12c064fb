"""The annual report's routes on a tiny app with the real auth dependencies and problem handlers, over
the in-memory archive: who may read it, the JSON, every figure's events page by page, the page in
both languages with its charts, and bad input answered with a 4xx naming the field."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alliance_common.auth import TokenVerifier
from alliance_common.problems import install_problem_handlers
from integration.adapters.memory import InMemoryArchive
from integration.domain.annual_report import FIGURES, MONTHS
from integration.entrypoints import annual_report

from .test_integration_annual_report import YEAR, admitted, at, story, with_seqs

ISSUER, AUDIENCE = "alliance-test-issuer", "alliance-platform"


def keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


KEYS = keypair()


def bearer(*, kind: str = "user", roles: list[str] | None = None, scope: str | None = None) -> dict[str, str]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "agency-1" if kind == "machine" else "wang.fang@example.org",
        "iat": now,
        "exp": now + 300,
        "roles": roles or (["agency"] if kind == "machine" else ["secretariat"]),
        "typ": kind,
    }
    if scope is not None:
        claims["scope"] = scope
    return {"Authorization": f"Bearer {jwt.encode(claims, KEYS[0], algorithm='RS256')}"}


AGENCY = bearer(kind="machine", scope="statistics:read")
SECRETARIAT = bearer()
BASE = f"/api/v1/integration/annual-reports/{YEAR}"


@pytest.fixture(scope="module")
def archive() -> InMemoryArchive:
    return InMemoryArchive(story())


@pytest.fixture(scope="module")
def client(archive: InMemoryArchive) -> TestClient:
    app = FastAPI()
    app.state.verifier = TokenVerifier(KEYS[1], ISSUER, AUDIENCE)
    app.state.archive = archive
    install_problem_handlers(app)
    app.include_router(annual_report.router)
    return TestClient(app)


def test_who_may_read_the_report(client: TestClient) -> None:
    assert client.get(BASE, headers=AGENCY).status_code == 200
    assert client.get(BASE, headers=SECRETARIAT).status_code == 200
    assert client.get(BASE, headers=bearer(roles=["council"])).status_code == 200
    member = client.get(BASE, headers=bearer(roles=["member_admin"]))
    assert member.status_code == 403 and member.headers["content-type"] == "application/problem+json"
    assert client.get(BASE, headers=bearer(kind="machine", scope="standards:read")).status_code == 403
    assert client.get(BASE).status_code == 401
    assert client.get(f"{BASE}/page", headers=bearer(roles=["member_staff"])).status_code == 403
    assert client.get(f"{BASE}/figures/members_end/events", headers=bearer(roles=["expert"])).status_code == 403


def test_the_report_as_json(client: TestClient) -> None:
    body = client.get(BASE, headers=AGENCY).json()
    assert body["year"] == YEAR and body["complete"] is True
    assert body["period_start"] == "2025-01-01T00:00:00Z" and body["period_end"] == "2026-01-01T00:00:00Z"
    figures = {f["key"]: f for f in body["figures"]}
    assert set(figures) == set(FIGURES)
    assert figures["members_end"]["value"] == 2 and figures["members_end"]["events"] == 2
    assert figures["royalties_collected"]["value"] == "1234.56"  # money: a decimal string, never a float
    assert figures["royalties_collected"]["currency"] == "USD"
    assert figures["dues_paid"]["value"] == "5000.01" and figures["training_credit_hours"]["value"] == "9.5"
    assert figures["members_admitted"]["label"] == {"en": "Organisations admitted", "zh": "新入会单位"}
    assert figures["council_decisions"]["events_url"] == f"{BASE}/figures/council_decisions/events"


def all_events(client: TestClient, key: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get(f"{BASE}/figures/{key}/events", params=params, headers=AGENCY)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_every_figure_counts_exactly_its_events(client: TestClient) -> None:
    """Through the API: each figure's value is the number of its events, or the sum over them."""
    figures = client.get(BASE, headers=AGENCY).json()["figures"]
    for figure in figures:
        events = all_events(client, figure["key"], limit=2)
        assert len(events) == figure["events"] == len({e["id"] for e in events}), figure["key"]
        assert [e["seq"] for e in events] == sorted(e["seq"] for e in events), figure["key"]
        key, unit = figure["key"], figure["unit"]
        if figure["kind"] == "count":
            assert figure["value"] == len(events), key
            continue
        if key.startswith("declared_patents"):
            commitment = key.partition(".")[2]
            total = Decimal(
                sum(
                    1
                    for e in events
                    for d in e["data"]["declarations"]
                    if d["commitment"] == commitment or not commitment
                )
            )
            assert Decimal(figure["value"]) == total, key
            continue
        name = {"royalties_distributed": "distributed", "royalties_admin_fee": "admin_fee"}.get(key.split(".")[0])
        name = name or ("hours" if unit == "hours" else "amount")
        assert Decimal(figure["value"]) == sum((Decimal(e["data"][name]) for e in events), Decimal(0)), key


def test_members_at_the_end_link_the_admissions(client: TestClient) -> None:
    events = all_events(client, "members_end", limit=100)
    assert sorted(e["data"]["member_id"] for e in events) == ["D", "E"]
    assert {e["type"] for e in events} == {"alliance.membership.member.admitted.v1"}


class Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Texts:
    parser = Texts()
    parser.feed(html)
    return parser


def test_the_page_in_english_and_chinese(client: TestClient) -> None:
    english = client.get(f"{BASE}/page", params={"lang": "en"}, headers=AGENCY)
    assert english.status_code == 200 and english.headers["content-type"].startswith("text/html")
    assert english.headers["content-language"] == "en"
    page = parse(english.text)
    text = " ".join(page.text)
    assert f"Annual report {YEAR}" in text and "Members on 31 December" in text and "USD 1,234.56" in text
    svgs = [a for tag, a in page.tags if tag == "svg"]
    assert len(svgs) == 3  # members by month, standards by stage, royalties per quarter
    assert not [a for tag, a in page.tags if tag == "script"] and "<link" not in english.text
    bars = [a["data-figure"] for tag, a in page.tags if tag == "a" and a.get("data-figure")]
    assert {f"members_month_end.{m}" for m in MONTHS} <= set(bars)
    assert {"standards_stage.under_review", "royalties_collected.q3", "royalties_distributed.q2"} <= set(bars)

    chinese = client.get(f"{BASE}/page", headers={**AGENCY, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert chinese.headers["content-language"] == "zh-CN"
    text = " ".join(parse(chinese.text).text)
    assert f"{YEAR}年度工作报告" in text and "年末会员数（12月31日）" in text and "各季度许可费收取与分配" in text
    assert 'lang="zh-CN"' in chinese.text
    forced = client.get(f"{BASE}/page", params={"lang": "en"}, headers={**AGENCY, "Accept-Language": "zh-CN"})
    assert forced.headers["content-language"] == "en"


def test_the_page_escapes_what_the_archive_says() -> None:
    """Every text on the page is escaped: nothing an event carries can become markup (here: a figure's
    currency, taken from a royalty report)."""
    from integration.domain.annual_report import compile_report
    from integration.entrypoints.report_page import render_page

    events = with_seqs(story())
    for i, e in enumerate(events):
        if e.type.endswith("royalty.reported.v1"):
            events[i] = replace(e, data=e.data | {"currency": "<b>X</b>"})
    report = compile_report(YEAR, events, len(events))
    html = render_page(report, "en", BASE)
    assert "<b>X</b>" not in html and "&lt;b&gt;X&lt;/b&gt; 1,234.56" in html


@pytest.mark.parametrize(
    ("path", "params", "field", "status"),
    [
        ("/api/v1/integration/annual-reports/1999", {}, "year", 422),
        ("/api/v1/integration/annual-reports/2999", {}, "year", 422),
        ("/api/v1/integration/annual-reports/twenty", {}, "year", 422),
        (f"{BASE}/page", {"lang": "fr"}, "lang", 422),
        (f"{BASE}/figures/members_in_space/events", {}, "figure", 404),
        (f"{BASE}/figures/members_end/events", {"cursor": "not-ours!"}, "cursor", 422),
        (f"{BASE}/figures/members_end/events", {"cursor": "YWJj"}, "cursor", 422),
        (f"{BASE}/figures/members_end/events", {"limit": 0}, "limit", 422),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    client: TestClient, path: str, params: dict[str, Any], field: str, status: int
) -> None:
    response = client.get(path, params=params, headers=AGENCY)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.text


async def test_a_new_event_is_in_the_next_answer(client: TestClient, archive: InMemoryArchive) -> None:
    before = client.get(BASE, headers=AGENCY).json()
    await archive.add([admitted("Q", at(YEAR, 8, 1))])
    after = client.get(BASE, headers=AGENCY).json()
    assert after["archive_seq"] == before["archive_seq"] + 1
    value = {f["key"]: f["value"] for f in after["figures"]}
    assert value["members_admitted"] == 3 and value["members_month_end.08"] == 3


@pytest.mark.parametrize(
    ("value", "whole", "maximum", "ticks"),
    [
        (58, True, 60, [0, 15, 30, 45, 60]),
        (1635, True, 2000, [0, 500, 1000, 1500, 2000]),
        (2, True, 2, [0, 1, 2]),
        (1, True, 1, [0, 1]),
        (0, True, 1, [0, 1]),
        (5, True, 8, [0, 2, 4, 6, 8]),
        (93_000_000.5, False, 100_000_000, [0, 25_000_000, 50_000_000, 75_000_000, 100_000_000]),
        (0.3, False, 0.4, [0, 0.1, 0.2, 0.3, 0.4]),
    ],
)
def test_chart_axes_fit_the_longest_bar(value: float, whole: bool, maximum: float, ticks: list[float]) -> None:
    from integration.entrypoints.report_page import axis, tick_text

    top, values = axis(value, whole)
    assert top == pytest.approx(maximum) and values == pytest.approx(ticks)
    assert top >= value
    assert (
        tick_text(75_000_000, True) == "75M"
        and tick_text(2_500_000, True) == "2.5M"
        and tick_text(1500, False) == "1,500"
    )


def test_the_members_chart_of_a_year_in_progress() -> None:
    """Months over: their ends; the month under way: the members now, said so; months to come: nothing."""
    from integration.domain.annual_report import compile_report
    from integration.entrypoints.report_page import members_chart

    events = with_seqs(story())
    report = compile_report(2026, events, len(events), as_of=datetime(2026, 3, 15, tzinfo=UTC))
    chart = members_chart(report, "en")
    assert [b.key for b in chart.bars] == [
        "members_start",
        "members_month_end.01",
        "members_month_end.02",
        "members_month_end.03",
    ]
    assert chart.bars[-1].label == "Members now" and chart.bars[-1].value == "3"
    assert "(now)" in [x.text for x in chart.x_labels]
    named = [x.text for x in chart.x_labels if x.text != "(now)"]
    assert named == ["1 Jan", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
