"""Fixed addresses for `scripts/up`: the default port unless taken, the environment's choice first."""

from __future__ import annotations

import socket

import pytest

from alliance_local.infra import free_port, port_for, preferred_port


def test_the_default_port_when_it_is_free(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLIANCE_TEST_PORT", raising=False)
    port = free_port()
    assert preferred_port("ALLIANCE_TEST_PORT", port) == port


def test_another_free_port_when_the_default_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLIANCE_TEST_PORT", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        chosen = preferred_port("ALLIANCE_TEST_PORT", busy)
        assert chosen != busy
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", chosen))  # free indeed


def test_the_environment_variable_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_TEST_PORT", "18123")
    assert preferred_port("ALLIANCE_TEST_PORT", 8000) == 18123
    monkeypatch.setenv("ALLIANCE_TEST_PORT", "eighty")
    with pytest.raises(ValueError, match="ALLIANCE_TEST_PORT"):
        preferred_port("ALLIANCE_TEST_PORT", 8000)


def test_no_fixed_address_means_a_free_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_TEST_PORT", "18123")
    assert port_for(None) != 18123
    assert port_for(("ALLIANCE_TEST_PORT", 8000)) == 18123
