from __future__ import annotations

from functools import lru_cache

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "training"
    port: int = 8004


@lru_cache
def get_settings() -> Settings:
    return Settings()
