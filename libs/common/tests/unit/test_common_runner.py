"""Every process is served by uvicorn on uvloop's event loop with the httptools parser."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from alliance_common.runner import runtime_description, server_config
from alliance_common.settings import ServiceSettings


def test_the_shared_runner_serves_on_uvloop_with_httptools() -> None:
    config = server_config(FastAPI(), ServiceSettings(service_name="probe"))
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol

    async def described() -> str:
        return runtime_description(config)

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        line = runner.run(described())
    assert line == ("event loop uvloop.Loop, HTTP uvicorn.protocols.http.httptools_impl.HttpToolsProtocol")
