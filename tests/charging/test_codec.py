"""Snapshots, events and effects survive the trip through JSON (the database's format)."""

from __future__ import annotations

import json
from datetime import timedelta

from kiosk_app.charging import codec
from kiosk_app.charging.machine import transition
from kiosk_app.charging.runner import EFFECT_TYPES
from kiosk_app.charging.states import TxState

from .factories import T0, reachable, sample_events


def roundtrip(value: object) -> object:
    return codec.load(type(value), json.loads(json.dumps(codec.dump(value))))


def test_every_reachable_snapshot_and_its_effects_roundtrip() -> None:
    effects_seen = set()
    for tx in reachable():
        assert roundtrip(tx) == tx
        for event in sample_events(tx):
            assert roundtrip(event) == event
            _, effects = transition(tx, event, T0 + timedelta(hours=1))
            for effect in effects:
                assert roundtrip(effect) == effect
                effects_seen.add(type(effect).__name__)
    # every effect the runner performs was produced and survived the trip
    assert set(EFFECT_TYPES) <= effects_seen


def test_money_and_time_are_stored_as_exact_strings() -> None:
    tx = reachable()[-1]
    data = codec.dump(tx)
    assert isinstance(data["kwh"], str) and isinstance(data["created_at"], str)
    assert codec.load(TxState, data).created_at.tzinfo is not None
