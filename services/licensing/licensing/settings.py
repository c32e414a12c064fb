from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "licensing"
    port: int = 8002
    # How often the deadline check looks for licence contracts that passed their filing deadline
    # unfiled (each is told once: licence.filing_overdue). Deadlines are days, so hourly is plenty.
    filing_check_interval_s: float = Field(default=3600.0, gt=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
