"""The identity provisioning's pure parts: names for the provider's accounts, and what can never be provisioned."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from alliance_common.consumer import dead_letter_reason
from alliance_common.events import PoisonEvent, envelope_for
from alliance_common.identity_admin import IdentityRefused
from alliance_contracts.membership import UserAdded
from membership.adapters.identity import BackTo, IdentityProvisioner, KeycloakUsers, Unprovisionable, _names

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "email", "expected"),
    [
        ("Li Na", "li.na@lumen.example", ("Li", "Na")),
        ("Ouyang Xiao Ming", "x@lumen.example", ("Ouyang", "Xiao Ming")),
        ("王芳", "wang.fang@lumen.example", ("王芳", "wang.fang")),
        ("  ", "zhou@lumen.example", ("zhou", "zhou")),
    ],
)
def test_account_names_always_have_a_first_and_last_name(name: str, email: str, expected: tuple[str, str]) -> None:
    assert _names(name, email) == expected


class Unreachable:
    """Any use of the provider or the store fails the test: these events never get that far."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the provider was called ({name})")


@pytest.mark.parametrize(
    ("subject", "role", "why"),
    [
        ("wang-wu", "member_staff", "not an e-mail address"),
        ("wang wu@lumen", "member_staff", "not an e-mail address"),
        ("wang.wu@lumen.example", "secretariat", "not an organisation role"),
    ],
)
async def test_what_can_never_be_provisioned_is_dead_lettered_with_a_reason(subject: str, role: str, why: str) -> None:
    provisioner = IdentityProvisioner(Unreachable(), Unreachable())  # type: ignore[arg-type]
    event = UserAdded(
        member_id="M-1", subject=subject, name="Wang Wu", email="w@lumen.example", role=role, added_at=NOW
    )
    with pytest.raises(Unprovisionable, match=why) as raised:
        await provisioner.on_user_added(envelope_for(event, source=str(event.source), subject="M-1"), event)
    assert isinstance(raised.value, PoisonEvent)  # the consumer dead-letters it at once, not after retries
    assert dead_letter_reason(raised.value) == "identity-unprovisionable"


class Recorded(KeycloakUsers):
    """The admin client with its HTTP calls recorded; ``refuse_way_back``: a 400 to a redirect_uri
    the provider does not accept (a misconfigured IDENTITY_REDIRECT_URL)."""

    def __init__(self, refuse_way_back: bool = False) -> None:
        super().__init__("http://kc.invalid", "alliance", "alliance-membership", "secret")
        self.calls: list[tuple[str, str, Any, dict[str, str]]] = []
        self.refuse_way_back = refuse_way_back

    async def call(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        self.calls.append((method, path, body, dict(params or {})))
        if self.refuse_way_back and "redirect_uri" in (params or {}):
            raise IdentityRefused("Invalid redirect uri.", 400)
        return httpx.Response(204)


WAY_BACK = BackTo("alliance-portal", "http://127.0.0.1:8080/auth/sign-in")


@pytest.mark.parametrize(
    ("back_to", "params"),
    [
        (None, {"lifespan": "600"}),
        (
            WAY_BACK,
            {"lifespan": "600", "client_id": "alliance-portal", "redirect_uri": "http://127.0.0.1:8080/auth/sign-in"},
        ),
    ],
)
async def test_the_set_password_mail_leads_back_to_the_portal_when_told_where(
    back_to: BackTo | None, params: dict[str, str]
) -> None:
    users = Recorded()
    await users.send_set_password("u-1", 600, back_to)
    assert users.calls == [("PUT", "/users/u-1/execute-actions-email", ["UPDATE_PASSWORD"], params)]
    await users.aclose()


async def test_a_way_back_the_provider_refuses_still_sends_the_mail_without_it() -> None:
    users = Recorded(refuse_way_back=True)
    await users.send_set_password("u-1", 600, WAY_BACK)
    assert [c[3] for c in users.calls] == [
        {"lifespan": "600", "client_id": "alliance-portal", "redirect_uri": WAY_BACK.redirect_uri},
        {"lifespan": "600"},
    ]
    await users.aclose()
