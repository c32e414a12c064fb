"""MongoDB wiring: one client per process, one database per service.

Correctness never relies on multi-document transactions, change streams or TTL indexes,
so the same code runs on FerretDB 1.x locally and on a MongoDB replica set in production.
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


# A pooled connection idle this long is closed: a burst of concurrent requests opens connections
# (up to the pool's 100) that would otherwise stay open for good, each holding buffers here and a
# session on the store's side.
MAX_IDLE_MS = 60_000


def connect(url: str, app_name: str) -> AsyncMongoClient[Document]:
    # Short server selection: a request should fail fast with 503, not hang 30 s.
    return AsyncMongoClient(
        url,
        appname=app_name,
        serverSelectionTimeoutMS=5000,
        connectTimeoutMS=3000,
        maxIdleTimeMS=MAX_IDLE_MS,
        tz_aware=True,
    )


async def ping(db: AsyncDatabase[Document]) -> None:
    await db.command("ping")
