"""Shared fixtures of alliance_common's integration tests (the store and Kafka: the session's ``infra``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient


@pytest.fixture
async def client(infra: Any) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    """A driver client on the session's store (a module needing a larger pool defines its own)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.store.url)
    try:
        yield client
    finally:
        await client.close()
