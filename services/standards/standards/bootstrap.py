"""Composition root: wires adapters to use cases and builds the app. Nothing runs at import."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from alliance_common.readmodel import MongoKeyedView
from alliance_common.service import ServiceRuntime
from standards.adapters.repository import CounterRepository, ProjectRepository
from standards.adapters.standing import MemberStanding
from standards.domain.model import Policy
from standards.entrypoints import api
from standards.entrypoints.events import event_handlers
from standards.service_layer.handlers import StandardsService
from standards.settings import Settings, get_settings


def policy_from(settings: Settings) -> Policy:
    return Policy(
        comment_period_min=timedelta(seconds=settings.comment_period_min_s),
        ballot_period=timedelta(seconds=settings.ballot_period_s),
        ipr_call_period=timedelta(seconds=settings.ipr_call_period_s),
        review_interval_years=settings.review_interval_years,
        implementation_delay=timedelta(days=settings.implementation_delay_days),
        approval_threshold=settings.approval_threshold,
        quorum_fraction=settings.quorum_fraction,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings)
    repo = ProjectRepository(runtime.store("projects"))
    counter = CounterRepository(runtime.store("counters"))
    standing = MemberStanding(MongoKeyedView(runtime.db["member_standing"]))
    service = StandardsService(repo, standing, counter, policy_from(settings), settings.alliance_code)
    runtime.subscribe(event_handlers(standing, service))
    runtime.every("periodic-review", settings.review_job_interval_s, service.start_due_reviews)
    app = runtime.create_app(
        title="Alliance standards",
        description=api.DESCRIPTION,
        routers=[api.router],
        setup=repo.ensure_indexes,
    )
    app.state.service = service
    return app
