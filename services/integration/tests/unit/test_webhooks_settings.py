"""Webhook settings: development's allowances never in production, and a lease longer than a send."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integration.entrypoints.webhooks import WebhookSettings


def test_loopback_and_http_are_refused_in_production() -> None:
    dev = WebhookSettings(allow_http=True, allow_loopback=True)
    assert dev.config("development").url_policy.allow_loopback
    with pytest.raises(ValueError, match="never production"):
        dev.config("production")
    assert not WebhookSettings().config("production").url_policy.allow_http


def test_a_lease_must_outlast_a_send() -> None:
    with pytest.raises(ValueError, match="LEASE"):
        WebhookSettings(lease_s=10, timeout_s=15).config("test")


def test_short_intervals_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS_S", "[0.5, 1, 2]")
    monkeypatch.setenv("WEBHOOK_DISABLE_AFTER_S", "30")
    config = WebhookSettings().config("test")
    assert config.retry.delays_s == (0.5, 1.0, 2.0)
    assert config.disable_after == timedelta(seconds=30)
    assert WebhookSettings().config("test").rotation_overlap == timedelta(hours=24)
