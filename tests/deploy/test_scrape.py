"""``alliance_local.scrape``: a real rendered registry (``alliance_common.metrics.Metrics``) parsed and
summed by name and labels; the token and the switch taken from a Stack's environments; and a fetch
over loopback that sends the token (no platform started)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from alliance_common.metrics import Metrics, Reading, authorised
from alliance_local import scrape
from alliance_local.infra import Infra
from alliance_local.stack import Stack

GROUP = {"messaging.system": "kafka", "messaging.consumer.group.name": "licensing.main"}
OTHER = {"messaging.system": "kafka", "messaging.consumer.group.name": "licensing.patents"}


def partition(n: int) -> dict[str, str]:
    return {"messaging.destination.name": "membership.events", "messaging.destination.partition.id": str(n)}


async def readings() -> list[Reading]:
    return [
        ("alliance.consumer.processed", 40, GROUP),
        ("alliance.consumer.duplicates", 3, GROUP),
        ("alliance.consumer.dead_lettered", 1, GROUP),
        ("alliance.consumer.processed", 5, OTHER),
        ("alliance.consumer.duplicates", 2, OTHER),
        ("alliance.consumer.lag", 4, {**GROUP, **partition(0)}),
        ("alliance.consumer.lag", 0, {**GROUP, **partition(1)}),
        ("alliance.consumer.lag", 6, {**OTHER, **partition(0)}),
        ("alliance.outbox.backlog", 7, {}),
        ("alliance.outbox.oldest_age", 2.5, {}),
    ]


def rendered() -> str:
    metrics = Metrics("scrape-test", "test")
    return asyncio.run(metrics.scrape([readings])).decode()


def test_a_rendered_registry_sums_by_name_and_label() -> None:
    found = scrape.parse(rendered())
    group = "messaging_consumer_group_name"
    assert found.by("alliance_consumer_lag", group) == {"licensing.main": 4, "licensing.patents": 6}
    assert found.total("alliance_consumer_lag", messaging_destination_partition_id="0") == 10
    assert found.by("alliance_consumer_processed_total", group) == {"licensing.main": 40, "licensing.patents": 5}
    assert found.total("alliance_consumer_duplicates_total") == 5
    assert found.total("alliance_consumer_dead_lettered_total", **{group: "licensing.main"}) == 1
    assert found.total("alliance_consumer_dead_lettered_total", **{group: "licensing.patents"}) == 0
    assert found.total("alliance_outbox_backlog") == 7
    assert found.total("alliance_outbox_oldest_age_seconds") == 2.5
    assert not found.has("alliance_webhook_backlog")
    # The process collector: this very process's resident memory, as /proc sees it.
    rss = found.total("process_resident_memory_bytes")
    vm_rss_kib = next(
        int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmRSS")
    )
    assert rss > 0 and abs(rss - vm_rss_kib * 1024) < 0.5 * rss


def test_a_stack_process_s_target_follows_its_environment(tmp_path: Path) -> None:
    overrides = {"gateway": {"METRICS_TOKEN": "s3cret"}, "training": {"METRICS_ENABLED": "false"}}
    stack = Stack(tmp_path, infra=Infra(tmp_path / "infra"), env_overrides=overrides, replicas=2)  # not started
    gateway = scrape.target(stack, "gateway-2")
    assert gateway == scrape.Target("gateway-2", stack.url("gateway-2"), "s3cret")
    assert scrape.target(stack, "licensing") == scrape.Target("licensing", stack.url("licensing"), None)
    assert scrape.target(stack, "training") is None and scrape.target(stack, "training-2") is None
    names = {t.name for t in scrape.targets(stack)}
    assert names == set(stack.procs) - {"training", "training-2"}
    assert [t.name for t in scrape.targets(stack, stack.replicas_of("licensing"))] == ["licensing", "licensing-2"]


@pytest.fixture
def served() -> Iterator[str]:
    """A registry's text on loopback, behind the metrics token ``s3cret`` (as the route checks it)."""
    body = rendered().encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            ok = self.path == "/metrics" and authorised(self.headers.get("authorization"), "s3cret")
            self.send_response(200 if ok else 401)
            self.send_header("content-type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body if ok else b"metrics need the metrics token\n")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_fetch_sends_the_token_and_a_refusal_is_a_failed_scrape(served: str) -> None:
    found = scrape.scrape(scrape.Target("membership", served, "s3cret"))
    assert found.total("alliance_outbox_backlog") == 7
    with pytest.raises(scrape.ScrapeFailed, match="401"):
        scrape.scrape(scrape.Target("membership", served, None))
    with pytest.raises(scrape.ScrapeFailed, match="401"):
        scrape.scrape(scrape.Target("membership", served, "wrong"))
