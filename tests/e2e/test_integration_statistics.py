"""Statistics and open data end to end: through the gateway, on real Kafka, the real store and every
service, the integration service's figures equal what each owning service's own API says.

A small scenario first (members admitted, one suspended, one withdrawn; patents contributed and
evaluated; a pool programme with three licensees' royalty reports, payments and a distribution; a
standard published with an IPR declaration; a training session held with certificates), then each
topic's figures are compared with the owning service's records, read through its own API by the
secretariat. This module runs its own platform on its own Kafka and store: the session's topics
also carry events of other tests' in-process services (each with a database of its own), which
the archive counts and no service's API lists. The archive follows the topics, so each comparison
is retried for a bounded time until the archive has caught up (and fails with the difference
otherwise).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from alliance_local.infra import Infra
from alliance_local.pytest_plugin import TEST_ENV, secure_kafka
from alliance_local.stack import DEMO_AGENCY_CLIENT, DEMO_AGENCY_SECRET, Stack

from .conftest import fresh_credit_code
from .test_royalties import SCHEDULE, line, quarter_before
from .test_standards_lifecycle import call, step, until_ok

pytestmark = pytest.mark.infra

STATS = "/api/v1/integration/statistics"
OPEN = "/api/v1/integration/opendata"
ENDED = ("withdrawn", "expelled")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own platform (its own Kafka, store and processes): see the module's docstring."""
    infra = Infra(tmp_path_factory.mktemp("statistics-infra"), secure_kafka=secure_kafka())
    stack = Stack(tmp_path_factory.mktemp("statistics-platform"), infra=infra, env_overrides=TEST_ENV, dev_login=True)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


async def machine(portal: Any, scope: str) -> dict[str, str]:
    granted = await portal.client.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_AGENCY_CLIENT,
            "client_secret": DEMO_AGENCY_SECRET,
            "scope": scope,
        },
    )
    assert granted.status_code == 200, granted.text
    return {"Authorization": f"Bearer {granted.json()['access_token']}"}


async def pages(portal: Any, path: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(200):
        query = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
        response = await portal.client.get(path, headers=headers, params=query)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        items.extend(response.json()["items"])
        cursor = response.json().get("next_cursor")
        if not cursor:
            return items
    raise AssertionError(f"{path}: more pages than expected")


async def settle(compare: Callable[[], Awaitable[tuple[Any, Any]]], timeout: float = 60) -> None:
    """Retry until the two sides agree (the archive lags the services by a little); else show the difference."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        expected, actual = await compare()
        if expected == actual or asyncio.get_running_loop().time() > deadline:
            assert actual == expected
            return
        await asyncio.sleep(0.5)


async def tables(portal: Any, topic: str, headers: dict[str, str], **params: Any) -> dict[str, list[dict[str, Any]]]:
    response = await portal.client.get(f"{STATS}/{topic}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return {t["name"]: t["rows"] for t in response.json()["tables"]}


def counted(rows: list[dict[str, Any]], key: str, value: str) -> dict[str, int]:
    return {r[key]: r[value] for r in rows if r[value]}


# --- the scenario ------------------------------------------------------------------------------------


async def admit(portal: Any, name: str, tier: str, segments: list[str], region: str) -> str:
    applicant = await portal.token(f"applicant-{uuid.uuid4().hex[:6]}@example.com", "member_admin", org_id="pending")
    body = {
        "name": name,
        "credit_code": fresh_credit_code(),
        "org_type": "enterprise",
        "segments": segments,
        "region": region,
        "tier": tier,
        "contact": {"name": "Zhou Jie", "email": f"zhou.jie@{uuid.uuid4().hex[:6]}.example"},
    }
    org = await call(portal, "POST", "/api/v1/membership/applications", applicant, body, expect=201)
    staff, council = await portal.secretariat(), await portal.council()
    await call(portal, "POST", f"/api/v1/membership/organisations/{org['id']}/review", staff, {"decision": "accept"})
    await call(portal, "POST", f"/api/v1/membership/organisations/{org['id']}/decision", council, {"decision": "admit"})
    return str(org["id"])


async def contribute(portal: Any, owner: str, office: str, segment: str, **extra: Any) -> dict[str, Any]:
    number = f"{office}{uuid.uuid4().int % 10**9}B"
    body = {
        "office": office,
        "number": number,
        "family_id": f"F-{number}",
        "title": "Mini-LED backlight driving circuit",
        "filing_date": "2015-03-01",
        "grant_date": "2018-05-10",
        "expiry_date": "2035-03-01",
        "segment": segment,
        **extra,
    }
    return dict(await call(portal, "POST", "/api/v1/licensing/patents", await portal.member(owner), body, expect=201))


async def evaluate(portal: Any, programme_id: str, owner: str, patent_id: str, essential: bool) -> None:
    submission = await call(
        portal,
        "POST",
        f"/api/v1/licensing/programmes/{programme_id}/submissions",
        await portal.member(owner),
        {"patent_id": patent_id},
        expect=201,
    )
    staff = await portal.secretariat()
    await call(
        portal,
        "POST",
        f"/api/v1/licensing/submissions/{submission['id']}/assignment",
        staff,
        {"evaluator_id": "expert@independent.example"},
    )
    expert = await portal.token("expert@independent.example", "expert")
    result = "essential" if essential else "not_essential"
    await call(
        portal,
        "POST",
        f"/api/v1/licensing/submissions/{submission['id']}/evaluation",
        expert,
        {"result": result, "reason": "Claims compared with clause 6.1."},
    )


async def royalties(portal: Any, programme_id: str) -> None:
    """Three outside licensees report the last quarter; two pay; the quarter is distributed."""
    staff = await portal.secretariat()
    period, start, _ = quarter_before(date.today())
    reports = []
    for units in (100_000, 250_000, 40_000):
        licensee = str(uuid.uuid4())
        await call(
            portal,
            "POST",
            f"/api/v1/licensing/programmes/{programme_id}/licences",
            staff,
            {"licensee_id": licensee, "licensee_name": f"Outside Lamps {units} Ltd.", "start_date": start.isoformat()},
            expect=201,
        )
        filer = await portal.token(f"finance@{licensee[:8]}.example", "licensee", org_id=licensee)
        report = await call(
            portal,
            "POST",
            f"/api/v1/licensing/programmes/{programme_id}/reports",
            filer,
            {"period": period, "lines": [line(units, start + timedelta(days=3))]},
            expect=201,
        )
        reports.append(report)
    for report in reports[:2]:
        await call(
            portal,
            "POST",
            f"/api/v1/licensing/reports/{report['id']}/payments",
            staff,
            {"amount": report["total"], "received_on": date.today().isoformat()},
        )
    await call(
        portal,
        "POST",
        f"/api/v1/licensing/programmes/{programme_id}/distributions",
        staff,
        {"period": period},
        expect=201,
    )


async def publish_standard(portal: Any, chair: str, editor: str, voters: list[str], patent: dict[str, Any]) -> str:
    api = "/api/v1/standards"
    staff, council = await portal.secretariat(), await portal.council()
    chair_headers = await portal.member(chair)
    body = {"title": "Mini-LED backlight unit test method", "scope": "Luminance uniformity of mini-LED backlights."}
    project = await until_ok(portal, "POST", f"{api}/projects", chair_headers, body, retry_on=(403,))
    pid = str(project["id"])
    await step(portal, pid, "approve_proposal", council)
    group = {
        "members": [
            {"org_id": chair, "role": "chair", "person": "Dr. Chen Li"},
            {"org_id": editor, "role": "editor"},
        ]
    }
    await until_ok(portal, "PUT", f"{api}/projects/{pid}/working-group", staff, group, retry_on=(422,))
    await step(portal, pid, "form_working_group", staff)
    await step(portal, pid, "start_drafting", chair_headers)
    draft = {"uri": "https://docs.example/mini-led-wd1.pdf", "notes": "first working draft"}
    await call(portal, "POST", f"{api}/projects/{pid}/drafts", chair_headers, draft, expect=201)
    await step(portal, pid, "submit_committee_draft", chair_headers)
    declaration = {
        "draft_version": 1,
        "office": patent["office"],
        "number": patent["number"],
        "title": patent["title"],
        "family_id": patent["family_id"],
        "commitment": "frand",
    }
    await call(portal, "POST", f"{api}/projects/{pid}/declarations", chair_headers, declaration, expect=201)
    closes = datetime.now(UTC) + timedelta(seconds=3)
    await step(portal, pid, "open_public_comment", staff, comment_closes_at=closes.isoformat())
    ballot = {
        "action": "open_ballot",
        "ballot_quorum": len(voters),
        "ballot_closes_at": (datetime.now(UTC) + timedelta(seconds=15)).isoformat(),
    }
    await until_ok(portal, "POST", f"{api}/projects/{pid}/transitions", staff, ballot, retry_on=(409,))
    for voter in voters:
        vote = {"position": "approve"}
        await until_ok(
            portal, "POST", f"{api}/projects/{pid}/ballot/votes", await portal.member(voter), vote, retry_on=(403,)
        )
    close = {"action": "close_ballot_approved"}
    await until_ok(portal, "POST", f"{api}/projects/{pid}/transitions", staff, close, retry_on=(409,), timeout=40)
    calls = await call(portal, "GET", f"{api}/projects/{pid}/ipr-calls", staff)
    for c in calls["items"]:
        if chair in c["unanswered"]:  # it declared on draft 1: that answered the first call
            answer = {"no_patents_known": False}
            await call(portal, "POST", f"{api}/projects/{pid}/ipr-calls/{c['id']}/answer", chair_headers, answer)
        if editor in c["unanswered"]:
            answer = {"no_patents_known": True}
            editor_headers = await portal.member(editor)
            await call(portal, "POST", f"{api}/projects/{pid}/ipr-calls/{c['id']}/answer", editor_headers, answer)
    publish = {"action": "publish"}
    await until_ok(portal, "POST", f"{api}/projects/{pid}/transitions", staff, publish, retry_on=(409,))
    return pid


async def hold_session(portal: Any, member: str) -> str:
    api = "/api/v1/training"
    staff = await portal.secretariat()
    starts = datetime.now(UTC) + timedelta(seconds=3)
    body = {
        "title": "Mini-LED reliability testing",
        "audience": "engineers",
        "format": "course",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "venue": "Xiamen",
        "capacity": 10,
        "member_price": "800.00",
        "non_member_price": "1500.00",
        "credit_hours_per_day": "3.5",
        "min_days_for_certificate": 1,
    }
    session = await call(portal, "POST", f"{api}/sessions", staff, body, expect=201)
    sid = str(session["id"])
    admin = await portal.member(member)
    people = [
        {"attendee_name": name, "attendee_email": f"{name.lower().replace(' ', '.')}@huaxing.example"}
        for name in ("Lin Wei", "Chen Jing", "Wang Fang")
    ]
    group = await call(
        portal, "POST", f"{api}/sessions/{sid}/group-registrations", admin, {"attendees": people}, expect=201
    )
    lin, chen, wang = group["registrations"]
    await call(portal, "POST", f"{api}/sessions/{sid}/registrations/{wang['id']}/cancel", admin, {})
    await asyncio.sleep(max(0.0, (starts - datetime.now(UTC)).total_seconds()))
    await call(portal, "POST", f"{api}/sessions/{sid}/registrations/{lin['id']}/check-in", staff, {})
    await call(portal, "POST", f"{api}/sessions/{sid}/certificates", staff)
    del chen  # registered and confirmed, never checked in: no hours, no certificate
    return sid


# --- the comparisons -----------------------------------------------------------------------------


async def compare_members(portal: Any, agency: dict[str, str]) -> None:
    staff = await portal.secretariat()

    async def both() -> tuple[Any, Any]:
        orgs = [o for o in await pages(portal, "/api/v1/membership/organisations", staff) if o["membership"]]
        current = [o for o in orgs if o["standing"] not in ENDED]
        expected = {
            "status": dict(Counter(o["standing"] for o in orgs)),
            "tier": dict(Counter(o["tier"] for o in current)),
            "segment": dict(Counter(s for o in current for s in o["segments"])),
            "region": dict(Counter(o["region"] for o in current)),
            "total": len(current),
        }
        t = await tables(portal, "members", agency)
        actual = {
            "status": counted(t["members_by_status"], "status", "members"),
            "tier": counted(t["members_by_tier"], "tier", "members"),
            "segment": counted(t["members_by_segment"], "segment", "members"),
            "region": counted(t["members_by_region"], "region", "members"),
            "total": t["admissions_and_departures"][0]["members_at_end"],
        }
        return expected, actual

    await settle(both)


def in_force_today(p: dict[str, Any]) -> bool:
    """What licensing's records say about a patent today (its ``in_force_on``), from its API fields."""
    today = date.today().isoformat()
    if p["status"] == "pending" or p["grant_date"] is None or today < p["grant_date"]:
        return False
    return today < p["expiry_date"] and (p["ended_on"] is None or today < p["ended_on"])


def territory(p: dict[str, Any]) -> list[str]:
    return list(p["validated_in"]) if p["office"] == "EP" else [] if p["office"] == "WO" else [p["office"]]


async def compare_patents(portal: Any, agency: dict[str, str]) -> None:
    staff = await portal.secretariat()

    async def both() -> tuple[Any, Any]:
        patents = await pages(portal, "/api/v1/licensing/patents", staff)
        programmes = await pages(portal, "/api/v1/licensing/programmes", staff)
        listed = {
            p["id"]: [x["id"] for x in await pages(portal, f"/api/v1/licensing/programmes/{p['id']}/patents", staff)]
            for p in programmes
        }
        essential = {i for ids in listed.values() for i in ids}
        submissions = await pages(portal, "/api/v1/licensing/submissions", staff)
        per_programme: dict[str, Counter[str]] = {p["id"]: Counter() for p in programmes}
        for s in submissions:
            per_programme.setdefault(s["programme_id"], Counter())[s["status"]] += 1
        expected = {
            "office": {
                o: (
                    sum(1 for p in patents if p["office"] == o),
                    sum(1 for p in patents if p["office"] == o and in_force_today(p)),
                    sum(1 for p in patents if p["office"] == o and p["id"] in essential),
                )
                for o in {p["office"] for p in patents}
            },
            "segment": {
                s: (
                    sum(1 for p in patents if p["segment"] == s),
                    sum(1 for p in patents if p["segment"] == s and in_force_today(p)),
                    sum(1 for p in patents if p["segment"] == s and p["id"] in essential),
                )
                for s in {p["segment"] for p in patents}
            },
            "country": dict(Counter(c for p in patents if in_force_today(p) for c in territory(p))),
            "programmes": {
                pid: (
                    sum(c.values()),
                    c["essential"],
                    c["not_essential"],
                    c["awaiting_evaluator"] + c["under_evaluation"],
                    len(listed.get(pid, [])),
                )
                for pid, c in per_programme.items()
            },
        }
        t = await tables(portal, "patents", agency)
        essential_by_programme = {
            r["programme_id"]: r["essential_patents"] for r in (await tables(portal, "royalties", agency))["programmes"]
        }
        actual = {
            "office": {
                r["office"]: (r["registered"], r["in_force"], r["essential"])
                for r in t["patents_by_office"]
                if r["registered"]
            },
            "segment": {
                r["segment"]: (r["registered"], r["in_force"], r["essential"])
                for r in t["patents_by_segment"]
                if r["registered"]
            },
            "country": {r["country"]: r["patents"] for r in t["patents_in_force_by_country"]},
            "programmes": {
                r["programme_id"]: (
                    r["submitted"],
                    r["essential"],
                    r["not_essential"],
                    r["awaiting"],
                    essential_by_programme.get(r["programme_id"]),
                )
                for r in t["patents_by_essentiality"]
            },  # fmt: skip
        }
        return expected, actual

    await settle(both)


async def compare_royalties(portal: Any, agency: dict[str, str], period: str) -> None:
    staff = await portal.secretariat()

    async def both() -> tuple[Any, Any]:
        licences = await pages(portal, "/api/v1/licensing/licences", staff)
        kinds = {lc["kind"] for lc in licences}
        reports = [r for r in await pages(portal, "/api/v1/licensing/reports", staff) if r["period"] == period]
        distributions = [d for d in await pages(portal, "/api/v1/licensing/statements", staff) if d["period"] == period]
        expected = {
            "licences": {
                k: (
                    sum(1 for lc in licences if lc["kind"] == k and lc["status"] == "active"),
                    sum(1 for lc in licences if lc["kind"] == k and lc["status"] == "suspended"),
                )
                for k in kinds
            },
            "quarter": (
                len(reports),
                len({r["licensee_id"] for r in reports}),
                str(sum((Decimal(r["total"]) for r in reports), Decimal(0))),
                str(sum((Decimal(r["paid"]) for r in reports), Decimal(0))),
                str(sum((Decimal(r["late_interest"]) for r in reports), Decimal(0))),
                str(sum((Decimal(d["distributable"]) for d in distributions), Decimal(0))),
                str(sum((Decimal(d["admin_fee"]) for d in distributions), Decimal(0))),
            ),
        }
        t = await tables(portal, "royalties", agency)
        rows = [r for r in t["royalties_by_quarter"] if r["quarter"] == period]
        assert len(rows) <= 1, rows  # one currency in this test's quarter
        q = rows[0] if rows else {}
        actual = {
            "licences": {r["kind"]: (r["in_force"], r["suspended"]) for r in t["licences_by_kind"]},
            "quarter": (
                q.get("reports"),
                q.get("licensees"),
                *(
                    str(Decimal(q[k])) if q.get(k) is not None else None
                    for k in ("reported", "collected", "late_interest", "distributed", "admin_fee")
                ),
            ),
        }
        return expected, actual

    await settle(both)


async def compare_standards(portal: Any, agency: dict[str, str]) -> None:
    staff = await portal.secretariat()

    async def both() -> tuple[Any, Any]:
        projects = await pages(portal, "/api/v1/standards/projects", staff)
        commitments: Counter[str] = Counter()
        for p in projects:
            if p["published_on"] is not None:
                declared = await pages(portal, f"/api/v1/standards/projects/{p['id']}/declarations", staff)
                commitments.update(d["commitment"] for d in declared if d["status"] == "current")
        published = Counter(int(p["published_on"][:4]) for p in projects if p["published_on"])
        withdrawn = Counter(int(p["withdrawn_on"][:4]) for p in projects if p["withdrawn_on"])
        expected = {
            "stage": dict(Counter(p["status"] for p in projects)),
            "years": {y: (published.get(y, 0), withdrawn.get(y, 0)) for y in set(published) | set(withdrawn)},
            "commitments": dict(commitments),
        }
        t = await tables(portal, "standards", agency)
        actual = {
            "stage": counted(t["standards_by_stage"], "stage", "projects"),
            "years": {r["year"]: (r["published"], r["withdrawn"]) for r in t["standards_per_year"]},
            "commitments": counted(t["ipr_declarations_by_commitment"], "commitment", "declarations"),
        }
        return expected, actual

    await settle(both)


async def compare_training(portal: Any, agency: dict[str, str], sid: str) -> None:
    staff = await portal.secretariat()
    today = date.today().isoformat()

    async def both() -> tuple[Any, Any]:
        sessions = await pages(portal, "/api/v1/training/sessions", staff)
        held = {s["id"] for s in sessions if s["starts_at"][:10] <= today}
        registrations = [
            r for r in await pages(portal, "/api/v1/training/registrations", staff) if r["session_id"] in held
        ]

        def figures(regs: list[dict[str, Any]]) -> tuple[Any, ...]:
            attended = [r for r in regs if r["credit_hours"] is not None]
            return (
                sum(1 for r in regs if r["status"] == "confirmed"),
                len(attended),
                sum(1 for r in regs if r["certificate_code"]),
                str(sum((Decimal(r["credit_hours"]) for r in attended), Decimal(0)).normalize()),
            )

        expected = {
            "summary": (len(held), *figures(registrations)),
            "session": figures([r for r in registrations if r["session_id"] == sid]),
        }
        t = await tables(portal, "training", agency, date=today)
        summary = t["training_summary"][0]
        mine = next((r for r in t["training_by_session"] if r["session_id"] == sid), None)

        def shown(row: dict[str, Any] | None) -> tuple[Any, ...]:
            if row is None:
                return ()
            hours = str(Decimal(row["credit_hours"]).normalize())
            return (row["confirmed"], row["participants"], row["certificates"], hours)

        actual = {"summary": (summary["sessions"], *shown(summary)), "session": shown(mine)}
        return expected, actual

    await settle(both)


async def compare_open_data(portal: Any) -> None:
    staff = await portal.secretariat()
    async with httpx.AsyncClient(base_url=str(portal.client.base_url), timeout=20) as anonymous:

        async def dataset(name: str) -> list[dict[str, Any]]:
            response = await anonymous.get(f"{OPEN}/{name}")
            assert response.status_code == 200, response.text
            return list(response.json()["rows"])

        async def both() -> tuple[Any, Any]:
            orgs = [o for o in await pages(portal, "/api/v1/membership/organisations", staff) if o["membership"]]
            projects = await pages(portal, "/api/v1/standards/projects", staff)
            programmes = await pages(portal, "/api/v1/licensing/programmes", staff)
            listed = {
                (p["id"], x["office"], x["number"])
                for p in programmes
                for x in await pages(portal, f"/api/v1/licensing/programmes/{p['id']}/patents", staff)
            }
            sessions = await pages(portal, "/api/v1/training/sessions", staff)
            expected = {
                "members": sorted(o["name"] for o in orgs if o["standing"] not in ENDED),
                "standards": sorted((p["standard_number"], p["status"]) for p in projects if p["published_on"]),
                "essential-patents": sorted(listed),
                "training-calendar": sorted(s["id"] for s in sessions),
            }
            actual = {
                "members": sorted(r["name"] for r in await dataset("members")),
                "standards": sorted((r["number"], r["stage"]) for r in await dataset("standards")),
                "essential-patents": sorted(
                    (r["programme_id"], r["office"], r["number"]) for r in await dataset("essential-patents")
                ),
                "training-calendar": sorted(r["session_id"] for r in await dataset("training-calendar")),
            }
            return expected, actual

        await settle(both)


# --- the tests -----------------------------------------------------------------------------------


async def test_each_figure_equals_what_the_owning_service_says(portal: Any) -> None:
    staff = await portal.secretariat()
    a = await admit(portal, "Xiamen Mini-LED Epitaxy Co., Ltd.", "council_member", ["epitaxy", "chip"], "CN-FJ")
    b = await admit(portal, "Shenzhen Backlight Packaging Co., Ltd.", "ordinary_member", ["packaging"], "CN-GD")
    c = await admit(portal, "Suzhou Display Applications Co., Ltd.", "observer", ["application"], "CN-JS")
    d = await admit(portal, "Ningbo Phosphor Materials Co., Ltd.", "ordinary_member", ["materials"], "CN-ZJ")

    programme = await call(
        portal,
        "POST",
        "/api/v1/licensing/programmes",
        staff,
        {"name": "Mini-LED backlight pool", "standard_ref": f"T/LEDA {uuid.uuid4().hex[:4]}—2026"},
        expect=201,
    )
    programme_id = programme["id"]
    await call(portal, "PUT", f"/api/v1/licensing/programmes/{programme_id}/schedule", staff, SCHEDULE)
    cn = await contribute(portal, a, "CN", "chip")
    ep = await contribute(portal, a, "EP", "epitaxy", validated_in=["DE", "FR"])
    us = await contribute(portal, b, "US", "packaging")
    await contribute(portal, c, "WO", "application", status="pending", grant_date=None)
    await evaluate(portal, programme_id, a, cn["id"], essential=True)
    await evaluate(portal, programme_id, a, ep["id"], essential=False)
    await evaluate(portal, programme_id, b, us["id"], essential=True)
    await royalties(portal, programme_id)

    await publish_standard(portal, a, d, [b, c], cn)
    sid = await hold_session(portal, a)

    suspended = {"reason": "dues unpaid after the grace period"}
    await call(portal, "POST", f"/api/v1/membership/organisations/{c}/suspension", staff, suspended)
    withdrawn = {"reason": "merged into its parent"}
    await call(portal, "POST", f"/api/v1/membership/organisations/{b}/withdrawal", staff, withdrawn)

    agency = await machine(portal, "statistics:read")
    await compare_members(portal, agency)
    await compare_patents(portal, agency)
    await compare_royalties(portal, agency, quarter_before(date.today())[0])
    await compare_standards(portal, agency)
    await compare_training(portal, agency, sid)
    await compare_open_data(portal)

    # The period form: this test's admissions are in today's flows.
    today = date.today().isoformat()
    flows = (await tables(portal, "members", agency, **{"from": today, "to": today}))["admissions_and_departures"][0]
    assert flows["admitted"] >= 3 and flows["withdrawn"] >= 1


async def test_statistics_refuse_members_and_bad_dates_and_answer_csv(portal: Any) -> None:
    agency = await machine(portal, "statistics:read")
    member = await portal.member(str(uuid.uuid4()))
    refused = await portal.client.get(f"{STATS}/members", headers=member)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    unscoped = await portal.client.get(f"{STATS}/members", headers=await machine(portal, "standards:read"))
    assert unscoped.status_code == 403 and "statistics:read" in unscoped.json()["detail"]
    council = await portal.client.get(f"{STATS}/standards", headers=await portal.council())
    assert council.status_code == 200
    bad = await portal.client.get(f"{STATS}/members", headers=agency, params={"date": "2026-02-30"})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["date"]
    backwards = await portal.client.get(
        f"{STATS}/members", headers=agency, params={"from": "2026-05-01", "to": "2026-04-01"}
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "from"
    text = await portal.client.get(
        f"{STATS}/members", headers={**agency, "Accept": "text/csv"}, params={"table": "members_by_tier"}
    )
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    assert text.text.startswith("tier,members\r\ncouncil_member,")
    writes = await portal.client.post(f"{STATS}/members", headers=agency)
    assert writes.status_code in (403, 405)


async def test_open_data_without_a_token_with_etag_and_304(portal: Any) -> None:
    async with httpx.AsyncClient(base_url=str(portal.client.base_url), timeout=20) as anonymous:
        catalogue = await anonymous.get(OPEN)
        assert catalogue.status_code == 200, catalogue.text
        names = [d["name"] for d in catalogue.json()["datasets"]]
        assert names == ["standards", "essential-patents", "members", "training-calendar"]
        first = await anonymous.get(f"{OPEN}/members")
        assert first.status_code == 200 and first.headers["cache-control"].startswith("public")
        tag = first.headers["etag"]
        again = await anonymous.get(f"{OPEN}/members", headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.headers["etag"] == tag and again.content == b""
        as_csv = await anonymous.get(f"{OPEN}/members", params={"format": "csv"})
        assert as_csv.headers["content-type"].startswith("text/csv") and as_csv.headers["etag"] != tag
        assert as_csv.text.startswith("name,tier,region,segments,member_since\r\n")
        # A change in the archive changes the tag: the new member is there.
        await portal.admit("Quanzhou Open Data Phosphors Co., Ltd.")

        async def changed() -> tuple[Any, Any]:
            response = await anonymous.get(f"{OPEN}/members", headers={"If-None-Match": tag})
            names = [r["name"] for r in response.json()["rows"]] if response.status_code == 200 else []
            return True, response.status_code == 200 and "Quanzhou Open Data Phosphors Co., Ltd." in names

        await settle(changed)
        assert (await anonymous.get(f"{OPEN}/nothing-here")).status_code == 404
        assert (await anonymous.get(f"{STATS}/members")).status_code == 401  # statistics are not open data
