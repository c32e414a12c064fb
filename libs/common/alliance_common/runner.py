"""Run a service's app under uvicorn (the process entry point of every service)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import uvicorn

from alliance_common.settings import ServiceSettings


def serve(create_app: Callable[[Any], Any], settings: ServiceSettings) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s [" + settings.service_name + "] %(message)s"
    )
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
