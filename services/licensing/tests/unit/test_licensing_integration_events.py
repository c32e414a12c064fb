"""Every domain event of licensing maps to its versioned contract and survives the wire."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from alliance_common.events import Envelope, envelope_for
from licensing.adapters.integration_events import INTEGRATION_EVENTS
from licensing.domain import events

NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
SAMPLES: dict[Any, Any] = {
    str: "x",
    str | None: "y",
    tuple[str, ...]: ("DE", "FR"),
    int: 3,
    bool: True,
    datetime: NOW,
    date: NOW.date(),
    date | None: NOW.date(),
    Decimal: Decimal("123.45"),
    tuple[str, ...]: ("org-1", "org-2"),
    tuple[events.LicensorShare, ...]: (
        events.LicensorShare("org-1", Decimal("10.00")),
        events.LicensorShare("org-2", Decimal("0.01")),
    ),
}
DOMAIN_EVENTS = list(typing.get_args(events.LicensingEvent))


def sample(cls: type[Any]) -> Any:
    hints = typing.get_type_hints(cls, vars(events))
    return cls(**{f.name: SAMPLES[hints[f.name]] for f in dataclasses.fields(cls)})


def plain(value: Any) -> Any:
    """Contract values compared with domain ones: lists as tuples, nested models as their fields."""
    if isinstance(value, list | tuple):
        return tuple(plain(v) for v in value)
    if hasattr(value, "model_dump"):
        return tuple(value.model_dump().values())
    if dataclasses.is_dataclass(value):
        return dataclasses.astuple(value)
    return value


def test_every_domain_event_has_a_contract() -> None:
    declared = {cls for _, cls in inspect.getmembers(events, inspect.isclass) if cls.__module__ == events.__name__} - {
        events.LicensorShare
    }
    assert set(DOMAIN_EVENTS) == declared == set(INTEGRATION_EVENTS.table)
    assert len(DOMAIN_EVENTS) == 14


@pytest.mark.parametrize("cls", DOMAIN_EVENTS, ids=lambda c: c.__name__)
def test_a_domain_event_round_trips_through_its_contract_and_envelope(cls: type[Any]) -> None:
    event = sample(cls)
    contract = INTEGRATION_EVENTS(event)
    assert contract is not None and type(contract) is INTEGRATION_EVENTS.table[cls]
    wire = Envelope.from_bytes(envelope_for(contract, source="licensing", subject="s-1").to_bytes()).payload()
    assert wire == contract
    for f in dataclasses.fields(event):
        assert plain(getattr(wire, f.name)) == plain(getattr(event, f.name)), f.name
