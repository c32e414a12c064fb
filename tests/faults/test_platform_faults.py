"""Faults on the suite's platform (three brokers, two replicas of everything) while writes flow
through the gateways: nothing accepted is lost, nothing is applied twice, every key's events apply
in order, and the platform drains (outboxes empty, no dead letters, every consumer group's lag back
to 0). Counted against the store by
``tests.faults.harness``; the table is printed at the end of the session.

- a consumer SIGKILLed between storing an effect and committing its offset (failpoint), restarted;
- a relay SIGKILLed between publishing and removing its outbox entries (failpoint), restarted;
- the store (its front and PostgreSQL) restarted while writes flow;
- consumer churn: extra consumer processes of one service join and leave every few seconds;
- the gateway SIGKILLed and restarted while the client retries with its Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Awaitable, Callable

import pytest

from alliance_common.failpoints import ENV_VAR
from alliance_local.infra import Proc, free_port, wait_for_http
from alliance_local.stack import Stack
from tests.faults import harness

pytestmark = [pytest.mark.infra, pytest.mark.faults]

CRASHES = 3  # SIGKILLs per failpoint fault (each followed by a restart)


async def fault(
    stack: Stack, name: str, workload: harness.Workload, inject: Callable[[], Awaitable[int]]
) -> harness.FaultResult:
    result = await harness.run_fault(
        name, workload, inject, store_url=stack.infra.store.url, bootstrap=stack.infra.kafka.bootstrap
    )
    print(f"\n{harness.table([result])}\n({result.retries} client retries, {result.seconds:.0f} s)")
    return result


async def restart(stack: Stack, name: str, *, failpoint: str | None) -> None:
    """Stop ``name`` gracefully and start it again, with ``failpoint`` armed (or none)."""
    env = stack.procs[name].env
    env.pop(ENV_VAR, None)
    if failpoint:
        env[ENV_VAR] = failpoint
    await asyncio.to_thread(stack.procs[name].stop)
    await asyncio.to_thread(stack.start_process, name)


async def crash_loop(stack: Stack, name: str, failpoint: str, workload: harness.Workload, times: int) -> int:
    """While the workload runs, restart ``name`` each time its failpoint SIGKILLs it, up to ``times``
    crashes; then it runs disarmed. Returns the crashes seen (each one a SIGKILL by the failpoint)."""
    proc = stack.procs[name]
    crashes = 0
    try:
        while not workload.done.is_set() and crashes < times:
            assert proc.popen is not None
            if proc.popen.poll() is not None:
                assert proc.popen.returncode == -signal.SIGKILL, f"{name} exited with {proc.popen.returncode}"
                crashes += 1
                if crashes == times:
                    proc.env.pop(ENV_VAR, None)
                await asyncio.to_thread(stack.start_process, name)
            await asyncio.sleep(0.1)
    finally:
        if ENV_VAR in proc.env:
            await restart(stack, name, failpoint=None)
    return crashes


async def test_a_consumer_killed_between_its_effect_and_its_commit(fault_stack: Stack, fault_writes: int) -> None:
    # Licensing: every standing event changes the member's licence and its ordered history.
    await restart(fault_stack, "licensing", failpoint="consumer.after_effect=kill@12")
    workload = harness.Workload(fault_stack.gateway_urls, writes=fault_writes)

    async def inject() -> int:
        return await crash_loop(fault_stack, "licensing", "consumer.after_effect=kill@12", workload, CRASHES)

    result = await fault(fault_stack, "consumer SIGKILL after effect, before commit", workload, inject)
    result.assert_clean()


async def test_a_relay_killed_between_publishing_and_removing_its_entries(
    fault_stack: Stack, fault_writes: int
) -> None:
    # Membership's relay publishes every event the workload causes; the process dies with it.
    await restart(fault_stack, "membership", failpoint="outbox.after_publish=kill@20")
    workload = harness.Workload(fault_stack.gateway_urls, writes=fault_writes)

    async def inject() -> int:
        return await crash_loop(fault_stack, "membership", "outbox.after_publish=kill@20", workload, CRASHES)

    result = await fault(fault_stack, "relay SIGKILL after publish, before removal", workload, inject)
    result.assert_clean()


async def test_the_store_restarted_while_writes_flow(fault_stack: Stack, fault_writes: int) -> None:
    infra = fault_stack.infra
    workload = harness.Workload(fault_stack.gateway_urls, writes=fault_writes, rate=15)

    async def inject() -> int:
        restarts = 0
        await asyncio.sleep(3)
        while not workload.done.is_set() and restarts < 2:
            await asyncio.to_thread(infra.store.stop)
            await asyncio.to_thread(infra.postgres.stop)
            await asyncio.sleep(2)
            await asyncio.to_thread(infra.postgres.start)
            await asyncio.to_thread(infra.store.start)
            restarts += 1
            await asyncio.sleep(5)
        return restarts

    result = await fault(fault_stack, "store restart (front + PostgreSQL)", workload, inject)
    result.assert_clean()


class ExtraConsumer:
    """One more process of a service (the same consumer groups), on its own port."""

    def __init__(self, stack: Stack, name: str, k: int) -> None:
        self.port = free_port()
        env = {**stack.env_for(name), "PORT": str(self.port)}
        self.proc = Proc(
            f"{name}-x{k}", [sys.executable, "-m", name], stack.workdir / "logs" / f"{name}-x{k}.log", env=env
        )

    def join(self, timeout: float = 60) -> None:
        """Start it and wait until it answers its health check: its consumers have started, so it
        is in the group (or joining it), and its leave will be a rebalance too."""
        popen = self.proc.start()
        wait_for_http(f"http://127.0.0.1:{self.port}/healthz", popen, self.proc.name, self.proc.log, timeout)


async def test_consumers_join_and_leave_every_few_seconds(fault_stack: Stack, fault_writes: int) -> None:
    full = fault_writes > harness.CI_WRITES
    period, duration = 5.0, (60.0 if full else 20.0)
    # Writes spread over the churn, so that rebalances happen while events flow.
    workload = harness.Workload(fault_stack.gateway_urls, writes=fault_writes, rate=max(5.0, fault_writes / duration))
    extras: list[ExtraConsumer] = []
    leaving: list[ExtraConsumer] = []

    async def inject() -> int:
        # Every period a process joins (started and booted: a process stopped while it still boots
        # never joined, so its join and leave would be no rebalance at all) or the oldest extra
        # leaves (SIGTERM, not awaited: it leaves the group as its shutdown begins; flushing its
        # spans may take 10 s and more under the full size's load). Each is a rebalance of the
        # group. It goes on until ``duration`` has passed and at least one change per period was made.
        changes = 0
        counter = 0
        started = time.monotonic()
        wanted = int(duration / period)
        try:
            while time.monotonic() - started < duration or changes < wanted:
                tick = time.monotonic()
                if len(extras) < 2:
                    counter += 1
                    extra = ExtraConsumer(fault_stack, "licensing", counter)
                    extras.append(extra)
                    await asyncio.to_thread(extra.join)
                else:
                    leaving.append(extras.pop(0))
                    leaving[-1].proc.signal(signal.SIGTERM)
                changes += 1
                await asyncio.sleep(max(0.0, period - (time.monotonic() - tick)))
        finally:
            while extras:
                await asyncio.to_thread(extras.pop(0).proc.stop)
                changes += 1
            for gone in leaving:
                await asyncio.to_thread(gone.proc.stop)  # waits for the end (SIGKILL after 20 s)
        return changes

    result = await fault(fault_stack, "consumer churn (licensing joins/leaves every 5 s)", workload, inject)
    result.assert_clean(min_injected=int(duration / period))


async def test_the_gateway_restarted_while_clients_retry(fault_stack: Stack, fault_writes: int) -> None:
    # The clients call every gateway replica; each replica in turn is SIGKILLed and restarted.
    gateways = fault_stack.replicas_of("gateway")
    workload = harness.Workload(fault_stack.gateway_urls, writes=fault_writes)

    async def inject() -> int:
        kills = 0
        await asyncio.sleep(2)
        while not workload.done.is_set() and kills < CRASHES:
            gateway = gateways[kills % len(gateways)]
            await asyncio.to_thread(fault_stack.procs[gateway].kill)  # SIGKILL: requests in flight are cut
            kills += 1
            await asyncio.to_thread(fault_stack.start_process, gateway)
            await asyncio.sleep(3)
        return kills

    result = await fault(fault_stack, "gateway replicas SIGKILLed + restarted in turn, clients retry", workload, inject)
    print(f"\nIdempotency-Key: {result.retries} retries, {result.replayed} answered with the original answer")
    result.assert_clean()
