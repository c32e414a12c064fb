"""The integration service's HTTP routes: each feature's router, included by ``create_app`` in this order."""

from __future__ import annotations

from fastapi import APIRouter

from integration.entrypoints import annual_report, clients, feed, opendata, statistics, webhooks

routers: list[APIRouter] = [
    feed.router,
    statistics.router,
    opendata.router,
    clients.router,
    clients.internal,
    webhooks.router,
    annual_report.router,
]
