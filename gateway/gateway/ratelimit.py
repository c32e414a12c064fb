"""Per-caller token buckets (per gateway replica; a shared store would make them global)."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int, max_callers: int = 100_000) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.max_callers = max_callers
        self.buckets: dict[str, Bucket] = {}

    def take(self, caller: str, now: float | None = None) -> float:
        """0.0 if the call may proceed, else the seconds to wait before retrying."""
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(caller)
        if bucket is None:
            if len(self.buckets) >= self.max_callers:
                self.buckets.clear()  # bounded memory; a reset only ever grants more
            bucket = self.buckets[caller] = Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate
