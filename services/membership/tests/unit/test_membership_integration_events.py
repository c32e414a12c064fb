"""Every domain event of membership maps to its versioned contract and survives the wire."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from alliance_common.events import Envelope, envelope_for
from membership.adapters.integration_events import INTEGRATION_EVENTS
from membership.domain import events

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
SAMPLES: dict[type, Any] = {
    str: "x",
    str | None: "why",
    int | None: 30,
    bool: True,
    datetime: NOW,
    date: NOW.date(),
    Decimal: Decimal("123.45"),
    tuple[str, ...]: ("chip", "packaging"),
}
DOMAIN_EVENTS = [
    cls
    for _, cls in inspect.getmembers(events, inspect.isclass)
    if issubclass(cls, events.MembershipEvent) and cls is not events.MembershipEvent
]


def sample(cls: type[events.MembershipEvent]) -> events.MembershipEvent:
    hints = inspect.get_annotations(cls, eval_str=True)
    for base in cls.__mro__[1:]:
        if dataclasses.is_dataclass(base):
            hints = {**inspect.get_annotations(base, eval_str=True), **hints}
    return cls(**{f.name: SAMPLES[hints[f.name]] for f in dataclasses.fields(cls)})


def test_every_domain_event_has_a_contract() -> None:
    assert len(DOMAIN_EVENTS) == 14
    assert set(DOMAIN_EVENTS) == set(INTEGRATION_EVENTS.table)
    assert all(INTEGRATION_EVENTS.table[cls] is not None for cls in DOMAIN_EVENTS)


@pytest.mark.parametrize("cls", DOMAIN_EVENTS, ids=lambda c: c.__name__)
def test_a_domain_event_round_trips_through_its_contract_and_envelope(cls: type[events.MembershipEvent]) -> None:
    event = sample(cls)
    contract = INTEGRATION_EVENTS(event)
    assert contract is not None and type(contract) is INTEGRATION_EVENTS.table[cls]
    wire = Envelope.from_bytes(envelope_for(contract, source="membership", subject="org-1").to_bytes()).payload()
    assert wire == contract
    for f in dataclasses.fields(event):
        value = getattr(wire, f.name)
        assert (tuple(value) if isinstance(value, list) else value) == getattr(event, f.name), f.name
