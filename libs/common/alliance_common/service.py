"""The service defaults every service starts with (eShop's ``AddServiceDefaults``).

``ServiceRuntime`` owns the process's Mongo client, its outbox relay and its consumers;
``create_app`` builds the FastAPI app with problem details, tracing, health and a
lifespan that starts and stops the background work. Nothing runs at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from alliance_common.auth import verifier_for
from alliance_common.consumer import BatchHandler, EventConsumer, EventHandler, ensure_inbox_indexes
from alliance_common.events import IntegrationEvent, source_for
from alliance_common.health import Check, health_router
from alliance_common.kafka import ensure_topics, new_admin, sleep_or_stop
from alliance_common.metrics import Probe, consumer_probe, metrics_router, metrics_token, outbox_probe, setup_metrics
from alliance_common.mongo import Document, connect, ping
from alliance_common.openapi import install_contract, operation_ids
from alliance_common.outbox import AggregateStore, OutboxRelay
from alliance_common.problems import install_problem_handlers, text_parameters
from alliance_common.settings import ServiceSettings
from alliance_common.telemetry import FASTAPI_NATIVE_TELEMETRY_OFF, instrument_app, setup_tracing, shutdown_tracing

log = logging.getLogger(__name__)


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.metrics = setup_metrics(settings.service_name, settings.environment)
        # Before the Mongo client exists: PyMongo's instrumentation is a global command
        # listener, which only clients created after it see.
        self.tracer_provider = setup_tracing(settings)
        self.client = connect(settings.mongodb_url, settings.service_name)
        self.db: AsyncDatabase[Document] = self.client[settings.mongodb_database]
        self.relay = OutboxRelay(self.db, settings)
        self.consumers: list[EventConsumer] = []
        # Read at each scrape of /metrics (``alliance_common.metrics``); a service may add its own (``observe``).
        self.probes: list[Probe] = [consumer_probe(self.consumers), outbox_probe(self.relay)]
        self.jobs: list[tuple[str, float, Callable[[], Awaitable[object]]]] = []
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def source(self) -> str:
        return source_for(self.settings.service_name)

    def store(self, collection: str) -> AggregateStore:
        return AggregateStore(self.db[collection], self.relay, self.source, self.settings.topic)

    def subscribe(self, handlers: dict[type[IntegrationEvent], EventHandler], name: str = "main") -> EventConsumer:
        prefix = self.settings.consumer_group_prefix or self.settings.service_name
        consumer = EventConsumer(self.settings, self.db, f"{prefix}.{name}", handlers)
        self.consumers.append(consumer)
        return consumer

    def subscribe_every_event(self, topics: Sequence[str], handler: BatchHandler, name: str = "main") -> EventConsumer:
        """A consumer group that takes every event of ``topics``, whatever its type, a fetch at a time
        (``EventConsumer(every_event=...)``: the integration service's archive)."""
        prefix = self.settings.consumer_group_prefix or self.settings.service_name
        consumer = EventConsumer(self.settings, self.db, f"{prefix}.{name}", {}, every_event=handler, topics=topics)
        self.consumers.append(consumer)
        return consumer

    def observe(self, probe: Probe) -> None:
        """Read ``probe`` at each scrape of ``/metrics`` (a backlog in the service's store, say)."""
        self.probes.append(probe)

    def every(self, name: str, interval_s: float, job: Callable[[], Awaitable[object]]) -> None:
        """Run ``job`` at start and then every ``interval_s``; a failure is logged, not fatal."""
        self.jobs.append((name, interval_s, job))

    async def _run_job(self, name: str, interval_s: float, job: Callable[[], Awaitable[object]]) -> None:
        while not self.stop.is_set():
            try:
                log.info("job %s: %s", name, await job())
            except Exception:
                log.exception("job %s failed; next run in %.0fs", name, interval_s)
            await sleep_or_stop(self.stop, interval_s)

    async def _kafka_probe(self) -> dict[str, Any]:
        admin = new_admin(self.settings, request_timeout_ms=2000)
        try:
            await admin.start()
            topics = await admin.list_topics()
        finally:
            await admin.close()
        return {
            "topics": len(topics),
            "outbox_backlog": await self.relay.backlog(),
            "published": self.relay.published,
            "consumers": {
                c.group_id: {
                    "lag": await c.lag(),
                    "processed": c.processed,
                    "duplicates": c.duplicates,
                    "dead_lettered": c.dead_lettered,
                    "connected": c.connected,
                }
                for c in self.consumers
            },
        }

    async def _background(self) -> None:
        """Create topics (retrying while Kafka is away), then run the relay and consumers."""
        topics = {self.settings.topic, self.settings.dead_letter_topic}
        for consumer in self.consumers:
            topics.update(consumer.topics)
        delay = 0.5
        while not self.stop.is_set():
            try:
                await ensure_topics(self.settings, sorted(topics))
                break
            except Exception as exc:
                log.warning("creating topics failed (%s); retrying in %.1fs", exc, delay)
                await sleep_or_stop(self.stop, delay)
                delay = min(delay * 2, 5.0)
        await asyncio.gather(*(c.run(self.stop) for c in self.consumers))

    def create_app(
        self,
        *,
        title: str,
        description: str,
        routers: Sequence[APIRouter],
        setup: Callable[[], Awaitable[None]] | None = None,
    ) -> FastAPI:
        settings = self.settings
        verifier = verifier_for(settings)  # the PEM key file, or the OIDC provider's JWKS (OIDC_ISSUER)

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            await verifier.start()  # the provider's keys fetched now, off the event loop (PEM: nothing)
            await ensure_inbox_indexes(self.db)
            if setup is not None:
                await setup()
            # The relay starts at once (it tolerates Kafka being down); consumers after topics exist.
            self._tasks = [
                asyncio.create_task(self.relay.run(self.stop), name="outbox-relay"),
                asyncio.create_task(self._background(), name="consumers"),
                *(asyncio.create_task(self._run_job(*job), name=job[0]) for job in self.jobs),
            ]
            try:
                yield
            finally:
                self.stop.set()
                done, pending = await asyncio.wait(self._tasks, timeout=15)
                for task in pending:
                    task.cancel()
                for task in done:
                    if not task.cancelled() and task.exception() is not None:
                        log.error("background task %s failed", task.get_name(), exc_info=task.exception())
                await self.client.close()
                shutdown_tracing()

        app = FastAPI(
            title=title,
            description=description,
            version="1.0.0",
            lifespan=lifespan,
            generate_unique_id_function=operation_ids(settings.service_name),
            telemetry=FASTAPI_NATIVE_TELEMETRY_OFF,
            dependencies=[Depends(text_parameters)],  # NUL characters never reach the store (422)
        )
        app.state.runtime = self
        app.state.settings = settings
        app.state.verifier = verifier
        install_problem_handlers(app)
        app.include_router(
            health_router(
                [
                    Check("store", lambda: ping(self.db)),
                    Check("kafka", self._kafka_probe, critical=False),
                ]
            ),
            include_in_schema=False,  # operations' probes, not part of the API (never behind the gateway)
        )
        if settings.metrics_enabled:
            app.include_router(metrics_router(self.metrics, metrics_token(settings), lambda: self.probes))
        for router in routers:
            app.include_router(router)
        install_contract(app)
        instrument_app(app, self.tracer_provider, self.metrics.provider if settings.metrics_enabled else None)
        return app
