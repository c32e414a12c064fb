"""Fixtures of the portal's browser tests: the platform on Keycloak, the portal, Chromium."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from alliance_contracts.ownership import topics_read_by
from alliance_local.infra import Infra, Keycloak, ensure_chromium, free_port
from alliance_local.kafka_security import commit_group_at_end
from alliance_local.stack import Stack
from tests.portal.harness import (
    DESKTOP,
    PHONE,
    PORTAL_NOTIFICATIONS,
    SCREENSHOTS,
    Portal,
    allow_portal_at,
    ensure_cjk_font,
    oidc_stack,
)


@pytest.fixture(scope="session")
def portal_stack(infra: Infra, keycloak: Keycloak, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The portal's port is chosen first: the services' mails link to it (it starts after them).
    stack = oidc_stack(tmp_path_factory.mktemp("portal-platform"), infra, keycloak, portal_port=free_port())
    for topic in topics_read_by("notifications"):
        start_at_end = commit_group_at_end(infra.kafka.bootstrap, f"{PORTAL_NOTIFICATIONS}.main", topic)
        with ThreadPoolExecutor(1) as thread:  # a loop of its own, whatever Playwright runs in this one
            thread.submit(asyncio.run, start_at_end).result()
    try:
        stack.start(start_infra=False)
        yield stack
    finally:
        stack.stop(stop_infra=False)


@pytest.fixture(scope="session")
def portal(
    portal_stack: Stack, infra: Infra, keycloak: Keycloak, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Portal]:
    server = Portal(
        tmp_path_factory.mktemp("portal"),
        infra,
        keycloak,
        portal_stack.gateway_url,
        f"portal_{uuid.uuid4().hex[:8]}",
        port=portal_stack.portal_port,
    )
    allow_portal_at(keycloak, server.url)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# Package-scoped, not session-scoped: Playwright's sync API keeps an event loop running in the main
# thread while it is open, and later tests (the fault runs) call asyncio.run.
@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    ensure_cjk_font()
    chromium = playwright_driver.chromium.launch(executable_path=str(ensure_chromium()), headless=True)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies) at desktop size, English first."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Write the page at desktop and at phone width to .cache/screenshots/portal/<name>-*.png."""

    def shoot(page: Page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        size = page.viewport_size or DESKTOP
        page.screenshot(path=str(Path(SCREENSHOTS / f"{name}-desktop.png")), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(Path(SCREENSHOTS / f"{name}-phone.png")), full_page=True)
        page.set_viewport_size(size)

    return shoot
