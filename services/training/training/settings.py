from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "training"
    port: int = 8004
    # How long a place offered from the waiting list stays open before it goes to the next person.
    offer_duration_s: float = Field(default=48 * 3600.0, gt=0)
    # How often the job looks for lapsed offers.
    offer_check_interval_s: float = Field(default=60.0, gt=0)
    # How long a member's standing, once read, is answered from this process's memory (0: never).
    standing_cache_s: float = Field(default=5.0, ge=0, le=60)
    # While several registrations for one session are in flight, each combined write of them
    # first waits this long so that more join it (0: never wait).
    admission_gather_ms: float = Field(default=50.0, ge=0, le=200)


@lru_cache
def get_settings() -> Settings:
    return Settings()
