from __future__ import annotations

from functools import lru_cache

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "membership"
    port: int = 8001
    # The status rules work by day; checking hourly applies a new day's changes promptly.
    standing_job_interval_s: float = 3600.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
