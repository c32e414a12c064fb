from __future__ import annotations

from collections.abc import Iterator

import pytest

from alliance_local.mailpit import Mailpit


@pytest.fixture(scope="session")
def mailpit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailpit]:
    """A real Mailpit (SMTP and its API) for the notifications tests, on free ports."""
    server = Mailpit(tmp_path_factory.mktemp("mailpit"))
    try:
        server.start()
        yield server
    finally:
        server.stop()
