"""The identity provisioning's pure parts: names for the provider's accounts, and what can never be provisioned."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from alliance_common.consumer import dead_letter_reason
from alliance_common.events import PoisonEvent, envelope_for
from alliance_contracts.membership import UserAdded
from membership.adapters.identity import IdentityProvisioner, Unprovisionable, _names

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
