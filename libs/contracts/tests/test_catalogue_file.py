"""The committed event catalogue (docs/asyncapi.json) is exactly what the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from alliance_contracts.asyncapi import asyncapi_document

CATALOGUE = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"


def test_committed_catalogue_matches_the_event_models() -> None:
    committed = json.loads(CATALOGUE.read_text())
    assert committed == asyncapi_document(), (
        "docs/asyncapi.json is stale: run `.venv/bin/python -m alliance_contracts.asyncapi > docs/asyncapi.json`"
    )
