"""The change feed and the archive's event routes (``/api/v1/integration/changes``, ``.../events``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/integration", tags=["integration"])
