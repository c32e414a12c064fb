"""Registrations in their own documents, on the real document store: the newest copy always wins,
a crash between the session's write and the registrations' loses nothing, and two replicas
racing for one session fill it exactly."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.errors import PyMongoError

from alliance_common.auth import Principal, Role
from alliance_common.errors import Conflict
from alliance_common.mongo import Document
from alliance_local.pytest_plugin import running
from training.adapters.repository import MongoRegistrations, SessionRepository
from training.bootstrap import create_app
from training.service_layer.handlers import Register, TrainingService
from training.settings import Settings

pytestmark = pytest.mark.infra


def session_body(capacity: int) -> dict[str, Any]:
    starts = datetime.now(UTC) + timedelta(days=20)
    return {
        "title": "Patent pools for engineers",
        "audience": "engineers",
        "format": "seminar",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=6)).isoformat(),
        "venue": "Xiamen",
        "capacity": capacity,
        "member_price": "800.00",
        "non_member_price": "1500.00",
    }


def person(i: int) -> Principal:
    return Principal(f"p{i}@x.example", frozenset({Role.MEMBER_STAFF}), org_id=f"org-{i}")


async def test_the_newest_copy_of_a_registration_wins(
    service_settings: Callable[..., Any], make_token: Callable[..., str]
) -> None:
    app = create_app(service_settings(Settings))
    async with running(app):
        registrations = MongoRegistrations(app.state.runtime.db[f"registrations_{uuid.uuid4().hex[:8]}"])
        await registrations.put([{"_id": "a", "sv": 1, "status": "confirmed"}, {"_id": "b", "sv": 1}], new=True)
        await registrations.put([{"_id": "a", "sv": 1, "status": "confirmed"}], new=True)  # written out twice
        await registrations.put([{"_id": "a", "sv": 3, "status": "cancelled"}], new=False)
        await registrations.put([{"_id": "a", "sv": 2, "status": "confirmed"}], new=False)  # late, older
        found = {d["_id"]: d for d in await registrations.find({})}
        assert (found["a"]["sv"], found["a"]["status"]) == (3, "cancelled")
        # Some new, some stored already (with an older copy): each ends at its newest.
        await registrations.put([{"_id": "a", "sv": 4, "status": "x"}, {"_id": "c", "sv": 4}], new=True)
        found = {d["_id"]: d for d in await registrations.find({})}
        assert sorted(found) == ["a", "b", "c"] and found["a"]["status"] == "x"


class Unreachable(MongoRegistrations):
    """The registrations' write fails, as if the process died right after the session's write."""

    async def put(self, docs: Sequence[Document], *, new: bool) -> None:
        raise PyMongoError("the process stopped here")


async def test_a_crash_after_the_session_write_loses_no_registration(
    service_settings: Callable[..., Any], make_token: Callable[..., str]
) -> None:
    app = create_app(service_settings(Settings))
    staff = {"Authorization": f"Bearer {make_token('s', 'secretariat')}"}
    async with running(app) as client:
        session_id = (await client.post("/api/v1/training/sessions", json=session_body(2), headers=staff)).json()["id"]
        runtime, service = app.state.runtime, app.state.service
        crashing = TrainingService(
            SessionRepository(runtime.store("sessions"), Unreachable(runtime.db["registrations"])),
            service.proposals,
            service.standing,
        )
        _, registration = await crashing.register(session_id, Register("Person 1", "p1@x.example"), person(1))
        assert await runtime.db["registrations"].find_one({"_id": registration.id}) is None
        stored = await runtime.db["sessions"].find_one({"_id": session_id})
        assert stored["held"] == 1 and [d["_id"] for d in stored["journal"]] == [registration.id]

        # The next reader (here the service's own repository, which never saw that write) writes it out.
        listed = await client.get("/api/v1/training/registrations", params={"session_id": session_id}, headers=staff)
        assert [r["id"] for r in listed.json()["items"]] == [registration.id]
        assert (await runtime.db["registrations"].find_one({"_id": registration.id}))["status"] == "confirmed"
        # And the person cannot register twice; the last place still goes to one other person only.
        with pytest.raises(Conflict):
            await service.register(session_id, Register("Person 1", "P1@x.example"), person(1))
        outcomes = await asyncio.gather(
            *(service.register(session_id, Register(f"P{i}", f"p{i}@x.example"), person(i)) for i in range(2, 6)),
            return_exceptions=True,
        )
        assert sum(1 for o in outcomes if not isinstance(o, BaseException)) == 1
        assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, BaseException))


async def test_two_replicas_racing_for_one_session_fill_it_exactly(
    service_settings: Callable[..., Any], make_token: Callable[..., str]
) -> None:
    app = create_app(service_settings(Settings))
    staff = {"Authorization": f"Bearer {make_token('s', 'secretariat')}"}
    async with running(app) as client:
        session_id = (await client.post("/api/v1/training/sessions", json=session_body(5), headers=staff)).json()["id"]
        runtime, first = app.state.runtime, app.state.service
        second = TrainingService(SessionRepository(runtime.store("sessions")), first.proposals, first.standing)

        async def register(i: int) -> str:
            service = first if i % 2 else second
            try:
                _, r = await service.register(
                    session_id, Register(f"P{i}", f"p{i}@x.example", waitlist=i % 3 == 0), person(i)
                )
            except Conflict:
                return "409"
            return r.status.value

        outcomes = Counter(await asyncio.gather(*(register(i) for i in range(24))))
        assert outcomes["confirmed"] == 5 and sum(outcomes.values()) == 24
        stored = await runtime.db["registrations"].find({"session_id": session_id}).to_list()
        assert Counter(d["status"] for d in stored) == {
            k: v for k, v in outcomes.items() if k in ("confirmed", "waitlisted")
        }
        session = await runtime.db["sessions"].find_one({"_id": session_id})
        assert (session["held"], session["waiting_count"]) == (5, outcomes["waitlisted"])
        assert sorted(d["number"] for d in stored) == list(range(1, len(stored) + 1))
