"""Liveness (``/healthz``) and readiness (``/readyz``) endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse


@dataclass(frozen=True)
class Check:
    name: str
    probe: Callable[[], Awaitable[Any]]  # raises when unhealthy; may return details
    # A critical failure makes the process unready. Kafka is not critical for a service:
    # writes still land in the outbox and are published when the broker returns.
    critical: bool = True


def health_router(checks: list[Check]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: dependencies reachable")
    async def readyz() -> JSONResponse:
        results: dict[str, Any] = {}
        ready = True
        degraded = False
        for check in checks:
            try:
                detail = await asyncio.wait_for(check.probe(), 3)
                results[check.name] = {"status": "ok", **({"detail": detail} if detail is not None else {})}
            except Exception as exc:  # any failure is a finding, not a crash
                results[check.name] = {"status": "unavailable", "error": str(exc) or type(exc).__name__}
                if check.critical:
                    ready = False
                else:
                    degraded = True
        status = "ready" if ready and not degraded else ("degraded" if ready else "unready")
        return JSONResponse({"status": status, "checks": results}, status_code=200 if ready else 503)

    return router
