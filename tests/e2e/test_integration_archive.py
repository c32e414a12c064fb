"""The event archive end to end: an admission made through the gateway is archived by the integration
service, each of its events exactly once; and a fresh archive rebuilt from the topics from offset zero
is the same archive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo import AsyncMongoClient

from alliance_local.infra import Infra
from alliance_local.pytest_plugin import eventually, running, wait_for_events
from alliance_local.stack import Stack
from integration.bootstrap import create_app
from integration.settings import Settings

FIELDS = ("_id", "type", "source", "subject", "time", "data")


def content(doc: dict[str, Any]) -> tuple[Any, ...]:
    """An archived event without what only this archive decided (its number, when it was stored)."""
    return tuple(doc[f] for f in FIELDS)


async def archived(client: AsyncMongoClient[Any], database: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    return await client[database]["events"].find(query).sort("seq", 1).to_list()


async def test_an_admissions_events_are_archived_exactly_once_and_a_replay_rebuilds_the_same_archive(
    platform: Stack, infra: Infra, portal: Any, service_settings: Callable[..., Any]
) -> None:
    admitted = await portal.admit("Quanzhou Archive Optics Co., Ltd.")
    member = admitted["id"]
    published = await wait_for_events(
        infra.kafka.bootstrap, "membership.events", lambda env: env.get("subject") == member, count=2
    )
    published_ids = {env["id"] for env, _ in published}
    types = {env["type"] for env, _ in published}
    assert "alliance.membership.member.admitted.v1" in types and "alliance.membership.application.submitted.v1" in types

    client: AsyncMongoClient[Any] = AsyncMongoClient(infra.store.url, tz_aware=True)
    try:

        async def all_archived() -> list[dict[str, Any]] | None:
            docs = await archived(client, "integration", {"subject": member, "source": "/alliance/membership"})
            return docs if {d["_id"] for d in docs} >= published_ids else None

        docs = await eventually(all_archived, timeout=60)
        ids = [d["_id"] for d in docs]
        assert len(ids) == len(set(ids))  # exactly once each (the id is the archive's key)
        assert set(ids) == {  # and nothing else: every membership event about this member on the topic
            env["id"]
            for env, _ in await wait_for_events(
                infra.kafka.bootstrap, "membership.events", lambda env: env.get("subject") == member, count=len(ids)
            )
        }
        by_id = {d["_id"]: d for d in docs}
        for env, _ in published:
            doc = by_id[env["id"]]
            assert (doc["type"], doc["source"], doc["data"]) == (env["type"], env["source"], env["data"])

        # A fresh archive (its own database and consumer group) reads the four topics from offset zero.
        replay: Settings = service_settings(Settings)
        app = create_app(replay)
        async with running(app):
            platform_docs = await archived(client, "integration", {})
            wanted = {d["_id"] for d in platform_docs}

            async def caught_up() -> list[dict[str, Any]] | None:
                docs = await archived(client, replay.mongodb_database, {})
                return docs if {d["_id"] for d in docs} >= wanted else None

            replayed = await eventually(caught_up, timeout=180)
        # Events published meanwhile (other processes keep working) reach the platform's archive too.
        newer = {d["_id"] for d in replayed} - wanted

        async def platform_has_newer() -> list[dict[str, Any]] | None:
            docs = await archived(client, "integration", {})
            return docs if {d["_id"] for d in docs} >= newer else None

        platform_docs = await eventually(platform_has_newer, timeout=60)
        ours = {d["_id"]: content(d) for d in platform_docs}
        theirs = {d["_id"]: content(d) for d in replayed}
        common = set(theirs)
        assert set(ours) >= common and wanted <= common
        assert {i: ours[i] for i in common} == theirs  # the same events, field for field
        assert len(theirs) == len({d["seq"] for d in replayed})

        # Each subject's events in the same order in both (a key's events share a partition).
        def order(docs: list[dict[str, Any]]) -> dict[str, list[str]]:
            out: dict[str, list[str]] = {}
            for d in docs:
                if d["_id"] in common:
                    out.setdefault(f"{d['source']}|{d['subject']}", []).append(d["_id"])
            return out

        assert order(platform_docs) == order(replayed)
    finally:
        await client.close()
