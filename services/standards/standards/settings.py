from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic import Field

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "standards"
    port: int = 8003

    # Standard numbers: T/<alliance_code> <number>—<year>.
    alliance_code: str = Field(default="LEDA", pattern=r"^[A-Za-z0-9]{1,16}$")
    # Durations (seconds) — production defaults; the local stack shortens them for tests and the demo.
    comment_period_min_s: float = Field(default=30 * 86400, gt=0)
    ballot_period_s: float = Field(default=30 * 86400, gt=0)
    ipr_call_period_s: float = Field(default=30 * 86400, gt=0)
    implementation_delay_days: int = Field(default=90, ge=0)
    # Periodic review every N years; the job looks for standards due that often.
    review_interval_years: int = Field(default=5, ge=1)
    review_job_interval_s: float = Field(default=86400, gt=0)
    # Ballot defaults (each ballot may set its own quorum and threshold).
    approval_threshold: Decimal = Field(default=Decimal("0.75"), gt=Decimal("0.5"), le=1)
    quorum_fraction: Decimal = Field(default=Decimal("0.5"), gt=0, le=1)


@lru_cache
def get_settings() -> Settings:
    return Settings()
