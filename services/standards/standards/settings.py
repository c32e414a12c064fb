from __future__ import annotations

from functools import lru_cache

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "standards"
    port: int = 8003


@lru_cache
def get_settings() -> Settings:
    return Settings()
