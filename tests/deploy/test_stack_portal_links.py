"""The stack tells the services where the portal answers: the mails' links and the provider's way back."""

from __future__ import annotations

from pathlib import Path

from alliance_local.infra import Infra, Keycloak
from alliance_local.stack import Stack


def test_the_portal_address_reaches_notifications_and_membership(tmp_path: Path) -> None:
    infra = Infra(tmp_path / "infra")  # not started: only the processes' environments are read
    keycloak = Keycloak(tmp_path / "kc", port=18180)
    stack = Stack(tmp_path, infra=infra, identity="keycloak", keycloak=keycloak, portal_port=18080)
    assert stack.portal_url == "http://127.0.0.1:18080"
    assert stack.env_for("notifications")["PORTAL_URL"] == "http://127.0.0.1:18080"
    assert stack.env_for("membership")["IDENTITY_REDIRECT_URL"] == "http://127.0.0.1:18080/auth/sign-in"


def test_without_a_portal_the_mails_have_no_links_and_the_provider_no_way_back(tmp_path: Path) -> None:
    infra = Infra(tmp_path / "infra")
    stack = Stack(tmp_path, infra=infra, identity="keycloak", keycloak=Keycloak(tmp_path / "kc", port=18181))
    assert stack.portal_url is None
    assert stack.env_for("notifications")["PORTAL_URL"] == ""  # stated empty: a caller's PORTAL_URL never leaks in
    assert stack.env_for("membership")["IDENTITY_REDIRECT_URL"] == ""
    local = Stack(tmp_path / "local", infra=Infra(tmp_path / "infra2"))  # the local issuer: no provider at all
    assert "IDENTITY_REDIRECT_URL" not in local.env_for("membership")
