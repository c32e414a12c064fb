from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "integration"
    port: int = 8006
    # A block of archive sequence numbers reserved by a writer holds the change feed back (nothing
    # after the block's start is served) until the writer has stored its events, or for this long
    # at most (a writer that died meanwhile: its consumer redelivers those events with new numbers).
    archive_reservation_lease_s: float = Field(default=60.0, gt=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
