"""The webhook worker alone in a process, on the real document store (for the kill test).

Reads ``MONGODB_URL`` and ``MONGODB_DATABASE``, and ``WEBHOOK_*`` (``WebhookSettings``). The
archive it follows is a plain collection the test writes (``test_archive``: one document per
event with its ``seq``), standing in for the service's archive: what is under test here is the
worker's own state (deliveries, attempts, cursor), all in the store.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any

from alliance_common.mongo import connect
from integration.adapters.webhook_sender import DnsResolver, HttpSender
from integration.adapters.webhooks import MongoWebhookStore
from integration.domain.archive import ArchivedEvent
from integration.entrypoints.webhooks import WebhookSettings
from integration.service_layer.webhooks import WebhookWorker


def event_of(doc: dict[str, Any]) -> ArchivedEvent:
    return ArchivedEvent(
        str(doc["_id"]), int(doc["seq"]), doc["type"], doc["source"], doc["subject"], doc["time"], doc["data"]
    )


class CollectionArchive:
    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def add(self, events: Sequence[ArchivedEvent]) -> int:
        raise NotImplementedError("the test writes the archive")

    async def scan(
        self,
        *,
        types: Collection[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
    ) -> AsyncIterator[ArchivedEvent]:
        query: dict[str, Any] = {"seq": {"$gt": after_seq}}
        if types is not None:
            query["type"] = {"$in": sorted(types)}
        async for doc in self.collection.find(query).sort("seq", 1):
            event = event_of(doc)
            if (since is None or event.time >= since) and (until is None or event.time < until):
                yield event

    async def page(
        self, *, after_seq: int = 0, types: Collection[str] | None = None, limit: int = 100
    ) -> list[ArchivedEvent]:
        docs = await self.collection.find({"seq": {"$gt": after_seq}}).sort("seq", 1).limit(limit).to_list()
        return [event_of(d) for d in docs]

    async def by_ids(self, ids: Sequence[str]) -> list[ArchivedEvent]:
        docs = await self.collection.find({"_id": {"$in": list(ids)}}).sort("seq", 1).to_list()
        return [event_of(d) for d in docs]

    async def last_seq(self) -> int:
        docs = await self.collection.find({}).sort("seq", -1).limit(1).to_list()
        return int(docs[0]["seq"]) if docs else 0


async def main() -> None:
    client = connect(os.environ["MONGODB_URL"], "webhook-worker-test")
    db = client[os.environ["MONGODB_DATABASE"]]
    settings = WebhookSettings()
    config = settings.config("test")
    store: MongoWebhookStore = MongoWebhookStore(db)
    await store.setup()
    archive = CollectionArchive(db["test_archive"])
    sender = HttpSender(DnsResolver(), config.url_policy, timeout_s=settings.timeout_s)
    worker = WebhookWorker(store, archive, sender, config)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("worker started", flush=True)
    try:
        await worker.run(stop)
    finally:
        await sender.close()
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
