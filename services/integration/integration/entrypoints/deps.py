"""What every route of this service reads through: the archive (``app.state.archive``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from integration.service_layer.ports import Archive


async def get_archive(request: Request) -> Archive:
    archive: Archive = request.app.state.archive
    return archive


ArchiveDep = Annotated[Archive, Depends(get_archive)]
