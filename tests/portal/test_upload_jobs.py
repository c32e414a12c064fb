"""A royalty-report upload job lives in the portal's database, not in one portal process: its portal
crashes while the licensing API is still filing the report, and another replica (same database, the
person's same session) resumes the job, finds the report the crashed attempt filed, and shows it;
the restarted portal shows the finished job too. Nothing is filed twice.

Between the first portal and the gateway sits a forwarder that holds the report's POST until the
test lets it go: the window in which the portal dies.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from alliance_local.infra import Infra, Keycloak, free_port
from alliance_local.stack import Stack
from tests.portal.flows import api_call, sign_in
from tests.portal.harness import DESKTOP, Portal, allow_portal_at
from tests.portal.test_licensee_expert import API, HEADER, LICENSEE_ORG, previous_quarter, programme

pytestmark = pytest.mark.infra

FILING = re.compile(r"^/api/v1/licensing/programmes/[^/]+/reports$")
HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


class HoldingForwarder:
    """Forwards HTTP to the gateway; a report's POST waits until ``release()`` (``held`` is set when one arrives)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.held = threading.Event()
        self.released = threading.Event()
        self.port = free_port()
        forwarder = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.command == "POST" and FILING.match(self.path.split("?")[0]):
                    forwarder.held.set()
                    forwarder.released.wait(120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = httpx.request(
                    self.command, forwarder.upstream + self.path, content=body, headers=headers, timeout=60
                )
                try:
                    self.send_response(answer.status_code)
                    for key, value in answer.headers.items():
                        if key.lower() not in HOP_BY_HOP:
                            self.send_header(key, value)
                    self.send_header("content-length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except OSError:  # the portal that asked is gone
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def release(self) -> None:
        self.released.set()

    def __enter__(self) -> HoldingForwarder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replicas(
    portal_stack: Stack, infra: Infra, keycloak: Keycloak, tmp_path: Path
) -> Iterator[tuple[Portal, Portal, HoldingForwarder]]:
    """Two portals on one database: the first calls the gateway through the holding forwarder."""
    database = f"portal_jobs_{uuid.uuid4().hex[:8]}"
    with HoldingForwarder(portal_stack.gateway_url) as forwarder:
        first = Portal(tmp_path / "first", infra, keycloak, forwarder.url, database)
        second = Portal(tmp_path / "second", infra, keycloak, portal_stack.gateway_url, database)
        for server in (first, second):
            server.proc.env["UPLOAD_LEASE_S"] = "3"  # a crashed replica's job is resumed 3 s on
            allow_portal_at(keycloak, server.url)
        try:
            first.start()
            second.start()
            yield first, second, forwarder
        finally:
            first.stop()
            second.stop()


def reports_for(stack: Stack, keycloak: Keycloak, programme_id: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = api_call(
        stack, keycloak, "licensee", "GET", f"{API}/reports?programme_id={programme_id}"
    )["items"]
    return found


def test_an_upload_job_outlives_its_portal_and_is_finished_by_another_replica(
    browser: Browser,
    portal_stack: Stack,
    keycloak: Keycloak,
    replicas: tuple[Portal, Portal, HoldingForwarder],
    screenshot: Callable[[Page, str], None],
) -> None:
    first, second, forwarder = replicas
    name = f"Micro-LED display pool {uuid.uuid4().hex[:6]}"
    pool = programme(portal_stack, keycloak, name)
    licence = {
        "licensee_id": LICENSEE_ORG,
        "licensee_name": "Shenzhen Kezheng Lighting Co., Ltd.",
        "start_date": "2024-01-01",
        "territory": ["CN", "US", "DE"],
    }
    api_call(portal_stack, keycloak, "secretariat", "POST", f"{API}/programmes/{pool['id']}/licences", licence)
    period = previous_quarter()

    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        sign_in(page, first, "licensee")
        page.goto(f"{first.url}/reports/new?programme_id={pool['id']}")
        good = HEADER + 'led_package,"20,000",CN,US,,\nluminaire,300,CN,DE,,\n'
        page.locator("#f-file").set_input_files(
            files=[{"name": "q.csv", "mimeType": "text/csv", "buffer": good.encode()}]
        )
        page.get_by_role("button", name="Check the file and file the report").click()
        page.wait_for_url(re.compile(re.escape(first.url) + r"/reports/filing/[\w-]+$"))
        job_id = page.url.rsplit("/", 1)[1]
        expect(page.get_by_role("status")).to_contain_text("Sending them to the licensing service")
        screenshot(page, "report-filing-progress")
        assert forwarder.held.wait(30), "the report's POST never reached the gateway's side"

        # The first portal dies mid-filing (no shutdown: its lease is left to lapse); the request it
        # sent reaches the API after all, and the report is filed with nobody there to record it.
        first.proc.kill()
        forwarder.release()
        deadline = time.monotonic() + 30
        while not reports_for(portal_stack, keycloak, pool["id"]) and time.monotonic() < deadline:
            time.sleep(0.3)
        [filed] = reports_for(portal_stack, keycloak, pool["id"])
        assert filed["period"] == period

        # The other replica, same session: the progress page resumes the job once its lease lapsed,
        # finds the report the crashed attempt filed, and shows it; nothing is filed again. Opened in a
        # new tab of the same browser context (same cookies): the old tab keeps refreshing itself from
        # the dead replica, and a refresh failing into Chromium's error page at the moment of a goto
        # interrupts that goto (seen once in CI).
        page.close()
        page = context.new_page()
        page.goto(f"{second.url}/reports/filing/{job_id}")
        page.wait_for_url(re.compile(re.escape(second.url) + r"/reports/[^/]+\?filed=1$"), timeout=60_000)
        expect(page.get_by_role("status")).to_contain_text("The report was filed")
        assert page.url.split("/reports/")[1].split("?")[0] == filed["id"]
        assert [r["id"] for r in reports_for(portal_stack, keycloak, pool["id"])] == [filed["id"]]

        # The first portal restarted: the same job, finished.
        first.start()
        page.goto(f"{first.url}/reports/filing/{job_id}")
        page.wait_for_url(re.compile(re.escape(first.url) + r"/reports/[^/]+\?filed=1$"))
        expect(page.locator("ol.report-lines > li")).to_have_count(2)
        # Someone else's job is no one's business: a 404 page for another person.
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, second, "member-admin")
        response = page.goto(f"{second.url}/reports/filing/{job_id}")
        assert response is not None and response.status == 404
    finally:
        context.close()
