"""The standing facts: every listed membership event states the member and its standing."""

from __future__ import annotations

import typing

from alliance_contracts.standing import STANDING_EVENTS, StandingEvent


def test_every_standing_event_names_the_member_and_its_standing() -> None:
    assert set(typing.get_args(StandingEvent)) == set(STANDING_EVENTS)
    for event_type in STANDING_EVENTS:
        assert {"member_id", "in_good_standing"} <= set(event_type.model_fields), event_type.__name__
        assert event_type.topic == "membership.events"
