"""Every state × every event: no event breaks an invariant or takes an edge the design does
not allow, and money moves only the way it may."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk_app.charging import effects as fx
from kiosk_app.charging import events as ev
from kiosk_app.charging.machine import check_invariants, transition
from kiosk_app.charging.states import FINAL, State

from .factories import T0, reachable, sample_events

S = State
# The state diagram of docs/engine.md, as data: every edge the machine may take.
ALLOWED: dict[State, set[State]] = {
    S.SELECTED: {S.AUTHORISING, S.ABORTED, S.RELEASING},  # RELEASING: a hold nobody asked for
    S.AUTHORISING: {S.AUTHORISED, S.DECLINED, S.ABORTED, S.RELEASING, S.NEEDS_ATTENTION},
    S.AUTHORISED: {
        S.STOPPING,
        S.STARTING,
        S.START_ACCEPTED,
        S.CHARGING,
        S.ENDED,
        S.CAPTURING,
        S.RELEASING,
    },
    S.STARTING: {S.STOPPING, S.START_ACCEPTED, S.CHARGING, S.ENDED, S.CAPTURING, S.RELEASING},
    S.START_ACCEPTED: {S.STOPPING, S.CHARGING, S.ENDED, S.CAPTURING, S.RELEASING},
    S.CHARGING: {S.STOPPING, S.ENDED, S.CAPTURING, S.RELEASING},
    S.STOPPING: {S.ENDED, S.CAPTURING, S.RELEASING},
    S.ENDED: {S.CAPTURING, S.RELEASING, S.NEEDS_ATTENTION},
    S.CAPTURING: {S.CAPTURED, S.CAPTURE_FAILED, S.NEEDS_ATTENTION},
    S.CAPTURE_FAILED: {S.CAPTURING, S.CAPTURED, S.RELEASING},
    S.CAPTURED: {S.RECEIPT_ISSUED},
    S.RECEIPT_ISSUED: {S.ADVICE_SENT},
    S.ADVICE_SENT: set(),
    S.RELEASING: {S.RELEASED, S.NEEDS_ATTENTION},
    S.RELEASED: {S.RELEASING},  # only a hold approved after we gave up (held 0 before)
    S.NEEDS_ATTENTION: {S.CAPTURING, S.CAPTURED, S.RELEASING, S.RELEASED},
    S.DECLINED: {S.RELEASING},  # a late approval: released at once
    S.ABORTED: {S.RELEASING},
}

SAMPLES = reachable()


def test_every_state_is_reached() -> None:
    assert {tx.state for tx in SAMPLES} == set(State)


@pytest.mark.parametrize("state", list(State))
def test_every_event_in_every_state(state: State) -> None:
    checked = 0
    for tx in (t for t in SAMPLES if t.state == state):
        check_invariants(tx)
        for event in sample_events(tx):
            new, effects = transition(tx, event, T0 + timedelta(hours=1))
            checked += 1
            label = f"{tx.state} + {event!r}"
            assert new.state == tx.state or new.state in ALLOWED[tx.state], label
            _assert_money_moves(tx, new, effects, label)
    assert checked > 50


def _assert_money_moves(old, new, effects, label: str) -> None:  # type: ignore[no-untyped-def]
    # Captured and released amounts are written once, never changed afterwards.
    if old.captures:
        assert (new.captured_minor, new.captures) == (old.captured_minor, 1), label
    if old.state == S.RELEASED and old.held_minor:
        assert new.released_minor == old.released_minor, label
    captures = [e for e in effects if isinstance(e, fx.Capture)]
    own_releases = [
        e
        for e in effects
        if isinstance(e, fx.Release)
        and (old.reservation is None or e.receipt_no in (None, old.reservation.receipt_no))
    ]
    assert len(captures) <= 1, label
    if captures:
        assert old.captures == 0 and new.state == S.CAPTURING, label
        assert 0 < captures[0].amount_minor <= new.held_minor, label
        assert not own_releases, label
    if own_releases:
        assert new.state == S.RELEASING and new.captures == 0, label
    if new.state in FINAL and new.state != old.state:
        assert new.open_hold_minor == 0, label
    # A timer is scheduled only together with its record in the state.
    for effect in effects:
        if isinstance(effect, fx.ScheduleTimer):
            assert new.timer_due(effect.kind) == effect.due_at, label


def test_ignored_events_change_nothing() -> None:
    """Duplicates are no-ops: a second CDR, a second Pay, a repeated CommandResult."""
    charged = next(tx for tx in SAMPLES if tx.state == S.CAPTURING and tx.cdr_id)
    for event in (
        ev.CdrReceived(charged.cdr_id, 1234),
        ev.Pay(),
        ev.CommandResultReceived(ev.Command.START_SESSION, ev.CommandResult.ACCEPTED),
    ):
        assert transition(charged, event, T0) == (charged, [])
