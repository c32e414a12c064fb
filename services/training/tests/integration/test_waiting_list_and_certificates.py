"""Training in depth on the real FerretDB and Kafka: real races for the last places, racing
accepts and cancellations, offers lapsing by the periodic job, certificates verified without a
token, credit hours published, and sessions proposed from published standards."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from alliance_common.events import envelope_for
from alliance_contracts.standards import StandardPublished
from alliance_local.pytest_plugin import eventually, produce, running, wait_for_events
from training.bootstrap import create_app
from training.settings import Settings

pytestmark = pytest.mark.infra
API = "/api/v1/training"


def session_body(capacity: int, starts_in: timedelta = timedelta(days=20), **extra: Any) -> dict[str, Any]:
    starts = datetime.now(UTC) + starts_in
    return {
        "title": "Essential claims for engineers",
        "audience": "engineers",
        "format": "seminar",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=6)).isoformat(),
        "venue": "Xiamen",
        "capacity": capacity,
        "member_price": "800.00",
        "non_member_price": "1500.00",
        **extra,
    }


class Caller:
    def __init__(self, client: httpx.AsyncClient, make_token: Callable[..., str]) -> None:
        self.client = client
        self.make_token = make_token
        self.staff = {"Authorization": f"Bearer {make_token('s@alliance.example', 'secretariat')}"}

    def person(self, i: int | str) -> dict[str, str]:
        token = self.make_token(f"p{i}@org{i}.example", "member_staff", org_id=f"org-{i}")
        return {"Authorization": f"Bearer {token}"}

    async def session(self, capacity: int, **kwargs: Any) -> str:
        created = await self.client.post(f"{API}/sessions", json=session_body(capacity, **kwargs), headers=self.staff)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    async def register(self, session_id: str, i: int | str, waitlist: bool = False) -> httpx.Response:
        return await self.client.post(
            f"{API}/sessions/{session_id}/registrations",
            headers=self.person(i),
            json={"attendee_name": f"Person {i}", "attendee_email": f"p{i}@org{i}.example", "waitlist": waitlist},
        )

    async def act(self, session_id: str, registration_id: str, action: str, i: int | str) -> httpx.Response:
        body = {} if action != "check-in" else {"day": None}
        return await self.client.post(
            f"{API}/sessions/{session_id}/registrations/{registration_id}/{action}", headers=self.person(i), json=body
        )

    async def all(self, session_id: str) -> list[dict[str, Any]]:
        page = await self.client.get(f"{API}/registrations", params={"session_id": session_id}, headers=self.staff)
        assert page.status_code == 200, page.text
        return list(page.json()["items"])


async def test_racing_for_the_last_places_confirms_exactly_capacity_and_queues_the_rest_in_order(
    service_settings: Callable[..., Any], make_token: Callable[..., str]
) -> None:
    app = create_app(service_settings(Settings))
    async with running(app) as client:
        call = Caller(client, make_token)
        session_id = await call.session(4)
        assert (await call.register(session_id, "first")).status_code == 201

        responses = await asyncio.gather(*(call.register(session_id, i, waitlist=True) for i in range(16)))
        assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
        assert Counter(r.json()["status"] for r in responses) == {"confirmed": 3, "waitlisted": 13}

        registrations = await call.all(session_id)
        assert sum(1 for r in registrations if r["status"] == "confirmed") == 4
        positions = sorted(r["waitlist_position"] for r in registrations if r["status"] == "waitlisted")
        assert positions == list(range(1, 14))
        session = (await client.get(f"{API}/sessions/{session_id}", headers=call.staff)).json()
        assert (session["seats_left"], session["waiting"]) == (0, 13)

        # Without consent, the racers beyond capacity get 409 naming the field, and nothing changes.
        refused = await asyncio.gather(*(call.register(session_id, f"x{i}") for i in range(5)))
        assert {r.status_code for r in refused} == {409}
        assert {r.json()["errors"][0]["field"] for r in refused} == {"waitlist"}
        assert len(await call.all(session_id)) == 17


async def test_racing_accepts_and_cancellations_do_not_corrupt_the_session(
    service_settings: Callable[..., Any], make_token: Callable[..., str]
) -> None:
    app = create_app(service_settings(Settings))
    async with running(app) as client:
        call = Caller(client, make_token)
        session_id = await call.session(1)
        a = (await call.register(session_id, "a")).json()
        b = (await call.register(session_id, "b", waitlist=True)).json()
        c = (await call.register(session_id, "c", waitlist=True)).json()

        cancels = await asyncio.gather(*(call.act(session_id, a["id"], "cancel", "a") for _ in range(3)))
        assert sorted(r.status_code for r in cancels) == [200, 409, 409]
        accepts = await asyncio.gather(*(call.act(session_id, b["id"], "accept", "b") for _ in range(3)))
        assert sorted(r.status_code for r in accepts) == [200, 409, 409]

        by_id = {r["id"]: r for r in await call.all(session_id)}
        assert [h["status"] for h in by_id[a["id"]]["history"]] == ["confirmed", "cancelled"]
        assert [h["status"] for h in by_id[b["id"]]["history"]] == ["waitlisted", "offered", "confirmed"]
        assert by_id[c["id"]]["status"] == "waitlisted" and by_id[c["id"]]["waitlist_position"] == 1

        # Someone else's registration: 404, nothing changes.
        foreign = await call.act(session_id, b["id"], "cancel", "c")
        assert foreign.status_code == 404 and foreign.json()["errors"][0]["field"] == "registration_id"
        stored = await app.state.runtime.db["registrations"].find({"session_id": session_id}).to_list()
        assert Counter(r["status"] for r in stored) == {
            "cancelled": 1,
            "confirmed": 1,
            "waitlisted": 1,
        }


async def test_an_offer_not_taken_lapses_and_goes_to_the_next_person(
    service_settings: Callable[..., Any], make_token: Callable[..., str]
) -> None:
    app = create_app(service_settings(Settings, offer_duration_s=1.0, offer_check_interval_s=0.3))
    async with running(app) as client:
        call = Caller(client, make_token)
        session_id = await call.session(1)
        a = (await call.register(session_id, "a")).json()
        b = (await call.register(session_id, "b", waitlist=True)).json()
        c = (await call.register(session_id, "c", waitlist=True)).json()
        assert (await call.act(session_id, a["id"], "cancel", "a")).status_code == 200

        async def lapsed() -> bool:
            by_id = {r["id"]: r["status"] for r in await call.all(session_id)}
            return by_id[b["id"]] == "offer_expired" and by_id[c["id"]] == "offered"

        await eventually(lapsed, timeout=15)
        late = await call.act(session_id, b["id"], "accept", "b")
        assert late.status_code == 409
        assert (await call.act(session_id, c["id"], "accept", "c")).status_code == 200


async def test_attendance_gives_a_certificate_anyone_can_verify_and_credit_hours_on_kafka(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    app = create_app(service_settings(Settings))
    async with running(app) as client:
        call = Caller(client, make_token)
        session_id = await call.session(
            3, starts_in=timedelta(seconds=3), credit_hours_per_day="5.5", min_days_for_certificate=1
        )
        present = (await call.register(session_id, "here")).json()
        absent = (await call.register(session_id, "away")).json()
        early = await call.client.post(
            f"{API}/sessions/{session_id}/registrations/{present['id']}/check-in", headers=call.staff, json={}
        )
        assert early.status_code == 409 and early.json()["errors"][0]["field"] == "day"
        await asyncio.sleep(3.2)

        checked = await client.post(
            f"{API}/sessions/{session_id}/registrations/{present['id']}/check-in", headers=call.staff, json={}
        )
        assert checked.status_code == 200, checked.text
        outside = await client.post(
            f"{API}/sessions/{session_id}/registrations/{absent['id']}/check-in",
            headers=call.staff,
            json={"day": (date.today() + timedelta(days=5)).isoformat()},
        )
        assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "day"
        by_member = await client.post(f"{API}/sessions/{session_id}/certificates", headers=call.person("here"))
        assert by_member.status_code == 403

        closed = await client.post(f"{API}/sessions/{session_id}/certificates", headers=call.staff)
        assert closed.status_code == 200, closed.text
        (certificate,) = closed.json()["certificates"]
        code = certificate["verification_code"]
        assert len(code) == 12 and certificate["registration_id"] == present["id"]

        verified = await client.get(f"{API}/certificates/verify/{code}")  # no token
        assert verified.status_code == 200, verified.text
        assert verified.json() == {
            "attendee_name": "Person here",
            "course": "Essential claims for engineers",
            "dates": [verified.json()["dates"][0]],
            "credit_hours": "5.5",
            "issued_on": datetime.now(UTC).date().isoformat(),
        }
        unknown = await client.get(f"{API}/certificates/verify/ABCDEFGHJKMN")
        assert unknown.status_code == 404
        assert (await client.get(f"{API}/registrations")).status_code == 401  # only verification is anonymous

        earned = await wait_for_events(
            infra.kafka.bootstrap,
            "training.events",
            lambda e: e["subject"] == session_id and e["type"] == "alliance.training.credit_hours.earned.v1",
        )
        assert earned[0][0]["data"]["attendee_email"] == "phere@orghere.example"
        assert Decimal(earned[0][0]["data"]["hours"]) == Decimal("5.5")


async def test_a_published_standard_proposes_a_session_once_which_the_secretariat_schedules(
    service_settings: Callable[..., Any], make_token: Callable[..., str], infra: Any
) -> None:
    app = create_app(service_settings(Settings))
    project_id = f"PRJ-{uuid.uuid4().hex[:8]}"
    event = StandardPublished(
        project_id=project_id, number="T/LEDA 042—2026", title="LED driver efficiency", published_on=date(2026, 5, 1)
    )
    raw = envelope_for(event, source="/alliance/standards", subject=project_id).to_bytes()
    async with running(app) as client:
        call = Caller(client, make_token)
        for _ in range(2):  # a redelivery
            await produce(infra.kafka.bootstrap, "standards.events", raw, project_id.encode())
        proposal_id = f"PROP-{project_id}"

        async def proposed() -> Any:
            found = await client.get(f"{API}/proposals/{proposal_id}", headers=call.staff)
            return found.json() if found.status_code == 200 else None

        proposal = await eventually(proposed)
        assert proposal["status"] == "proposed" and proposal["title"].startswith("T/LEDA 042—2026")
        await asyncio.sleep(0.5)
        # Other tests' standards publish on the same Kafka: count only this one (redelivered, listed once).
        listed = (await client.get(f"{API}/proposals", params={"limit": 200}, headers=call.staff)).json()["items"]
        assert [p["id"] for p in listed].count(proposal_id) == 1
        assert (await client.get(f"{API}/proposals", headers=call.person(1))).status_code == 403

        body = {k: v for k, v in session_body(30).items() if k not in ("title", "audience", "format")}
        scheduled = await client.post(f"{API}/proposals/{proposal_id}/schedule", json=body, headers=call.staff)
        assert scheduled.status_code == 201, scheduled.text
        assert scheduled.json()["title"] == proposal["title"] and scheduled.json()["proposal_id"] == proposal_id
        again = await client.post(f"{API}/proposals/{proposal_id}/schedule", json=body, headers=call.staff)
        assert again.status_code == 409 and again.json()["errors"][0]["field"] == "proposal_id"
        assert (await proposed())["status"] == "scheduled"


async def test_two_replicas_racing_for_the_last_places_never_overfill(
    service_settings: Callable[..., Any], make_token: Callable[..., str]
) -> None:
    """Within a process racing changes are combined; across replicas only the store's versioned
    write stands between them. Two apps on one database, requests alternating between them."""
    settings = service_settings(Settings)
    one, two = create_app(settings), create_app(settings)
    async with running(one) as first, running(two) as second:
        calls = [Caller(first, make_token), Caller(second, make_token)]
        session_id = await calls[0].session(5)
        responses = await asyncio.gather(*(calls[i % 2].register(session_id, f"r{i}") for i in range(24)))
        assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
        assert sum(1 for r in responses if r.status_code == 201) == 5
        for call in calls:
            registrations = await call.all(session_id)
            assert sum(1 for r in registrations if r["status"] == "confirmed") == 5
