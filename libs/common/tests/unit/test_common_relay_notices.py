"""The relay's bookkeeping of announced entries (pure logic; publishing itself is replaced)."""

from __future__ import annotations

from typing import Any

from alliance_common.outbox import OutboxRelay
from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "relaytest"


def relay_recording(published: list[tuple[str, Any]]) -> OutboxRelay:
    relay = OutboxRelay(None, Settings())  # type: ignore[arg-type]  # no store: publishing is replaced

    async def publish(docs: list[tuple[str, Any]]) -> None:
        published.extend((name, doc["_id"], [e["id"] for e in doc["outbox"]]) for name, doc in docs)

    relay._publish_documents = publish  # type: ignore[method-assign]
    return relay


async def test_announced_entries_are_published_per_document_in_write_order() -> None:
    published: list[tuple[str, Any]] = []
    relay = relay_recording(published)
    relay.notify("c", "a", [{"id": "a1"}])
    relay.notify("c", "b", [{"id": "b1"}])
    relay.notify("c", "a", [{"id": "a2"}, {"id": "a3"}])
    await relay._publish_written()
    assert published == [("c", "a", ["a1", "a2", "a3"]), ("c", "b", ["b1"])]
    assert not relay._pending_notices()


async def test_a_document_waiting_to_be_read_back_is_not_overtaken_by_later_notices() -> None:
    published: list[tuple[str, Any]] = []
    relay = relay_recording(published)
    relay._dirty["c"] = {"a"}  # its earlier entries failed to publish
    relay.notify("c", "a", [{"id": "a3"}])
    relay.notify("c", "b", [{"id": "b1"}])
    await relay._publish_written()
    assert published == [("c", "b", ["b1"])]  # a3 goes out with a's stored entries, after them
    assert relay._dirty == {"c": {"a"}} and not any(relay._written.values())


async def test_entries_a_scan_published_are_not_announced_again() -> None:
    published: list[tuple[str, Any]] = []
    relay = relay_recording(published)
    relay.notify("c", "a", [{"id": "a1"}, {"id": "a2"}])
    relay.notify("c", "b", [{"id": "b1"}])
    relay._forget_written("c", [{"_id": "a", "outbox": [{"id": "a1"}]}, {"_id": "b", "outbox": [{"id": "b1"}]}])
    await relay._publish_written()
    assert published == [("c", "a", ["a2"])]
