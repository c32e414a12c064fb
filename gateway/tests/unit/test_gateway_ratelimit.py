"""Per-caller token buckets, driven by explicit clock values."""

from __future__ import annotations

import pytest

from gateway.ratelimit import RateLimiter


def test_a_new_caller_may_spend_the_whole_burst_at_once() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=3)
    assert [limiter.take("a", now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_the_call_after_the_burst_waits_for_one_token() -> None:
    limiter = RateLimiter(rate_per_s=2.0, burst=3)
    for _ in range(3):
        limiter.take("a", now=100.0)
    assert limiter.take("a", now=100.0) == pytest.approx(0.5)


def test_retry_after_shrinks_as_time_passes() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1)
    limiter.take("a", now=0.0)
    assert limiter.take("a", now=0.25) == pytest.approx(0.75)
    assert limiter.take("a", now=0.5) == pytest.approx(0.5)


def test_a_refused_call_costs_nothing() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1)
    limiter.take("a", now=0.0)
    for _ in range(5):
        assert limiter.take("a", now=0.0) > 0
    assert limiter.take("a", now=1.0) == 0.0


def test_tokens_refill_at_the_rate() -> None:
    limiter = RateLimiter(rate_per_s=10.0, burst=5)
    for _ in range(5):
        limiter.take("a", now=0.0)
    assert limiter.take("a", now=0.1) == 0.0  # one token back after 1/rate seconds
    assert limiter.take("a", now=0.1) > 0


def test_refill_never_exceeds_the_burst() -> None:
    limiter = RateLimiter(rate_per_s=10.0, burst=2)
    limiter.take("a", now=0.0)
    assert limiter.take("a", now=3600.0) == 0.0
    assert limiter.take("a", now=3600.0) == 0.0
    assert limiter.take("a", now=3600.0) > 0


def test_callers_have_separate_buckets() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1)
    assert limiter.take("a", now=0.0) == 0.0
    assert limiter.take("a", now=0.0) > 0
    assert limiter.take("b", now=0.0) == 0.0


def test_memory_is_bounded_by_max_callers() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1, max_callers=3)
    for caller in "abcdef":
        limiter.take(caller, now=0.0)
    assert len(limiter.buckets) <= 3


def test_forgetting_callers_only_ever_grants_more() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1, max_callers=1)
    limiter.take("a", now=0.0)
    limiter.take("b", now=0.0)  # evicts "a"
    assert limiter.take("a", now=0.0) == 0.0
