"""Run a service's app under uvicorn (the process entry point of every service).

Every process serves on uvloop's event loop with the httptools HTTP parser (both pinned in
the lock), not asyncio's default loop and the pure-Python h11 parser; ``serve`` logs what
it really runs once the loop is up, so a process log shows it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

import uvicorn

from alliance_common.settings import ServiceSettings

log = logging.getLogger(__name__)

# Idle keep-alive connections are kept this long. The gateway keeps its idle upstream
# connections for less (30 s), so a service never closes one that the gateway is reusing.
KEEP_ALIVE_S = 75


def server_config(app: Any, settings: ServiceSettings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level="info",
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=10,
        # uvicorn would otherwise rewrite the client address and scheme from X-Forwarded-For/-Proto
        # of any caller on loopback (its default FORWARDED_ALLOW_IPS), so anyone on the host could
        # choose the address that keys its rate limit. Each process sees its real TCP peer; the
        # gateway reads forwarded headers itself, and only from its TRUSTED_PROXIES (gateway.edge).
        proxy_headers=False,
    )


def runtime_description(config: uvicorn.Config) -> str:
    """What this process runs on: the running event loop's class and the HTTP protocol's."""
    loop = type(asyncio.get_running_loop())
    protocol = config.http_protocol_class
    return f"event loop {loop.__module__}.{loop.__qualname__}, HTTP {protocol.__module__}.{protocol.__qualname__}"


def serve(create_app: Callable[[Any], Any], settings: ServiceSettings) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s [" + settings.service_name + "] %(message)s"
    )
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    config = server_config(create_app(settings), settings)
    server = uvicorn.Server(config)

    async def run() -> None:
        config.load()
        log.info("serving on %s", runtime_description(config))
        await server.serve()

    # What uvicorn.run does for one worker without reload (Server.run), plus the log line above.
    try:
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(run())
    except KeyboardInterrupt:
        pass
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE
