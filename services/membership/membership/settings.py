from __future__ import annotations

from functools import lru_cache

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "membership"
    port: int = 8001


@lru_cache
def get_settings() -> Settings:
    return Settings()
