"""The worker wakes on committed work, not on its poll interval: a wake-up that arrives while a
loop is busy is not lost, and terminal leases are renewed a few times per lease rather than in
front of every round's work."""

from __future__ import annotations

import dataclasses
import threading

from kiosk_app.charging.worker import Worker
from kiosk_app.config import ChargingConfig

from .conftest import Engine

HOUR_MS = 3_600_000


def test_a_wake_up_during_a_round_is_not_lost(engine: Engine) -> None:
    worker = Worker(engine.runner, ["kiosk-1"], ChargingConfig(poll_interval_ms=HOUR_MS))
    seen = worker._wakes  # a loop starts its round here
    engine.runner.on_intent()  # work committed while the round runs
    worker._sleep(seen)  # returns at once (with a lost wake-up it would sleep an hour)
    assert worker._wakes == seen + 1


def test_committed_work_is_performed_without_waiting_for_the_poll_interval(
    engine: Engine,
) -> None:
    done = threading.Event()
    terminal = engine.terminal
    original = terminal.preauthorise

    def preauthorise(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return original(*args, **kwargs)
        finally:
            done.set()

    terminal.preauthorise = preauthorise  # type: ignore[method-assign]
    worker = Worker(engine.runner, ["kiosk-1"], ChargingConfig(poll_interval_ms=HOUR_MS))
    worker.start()
    try:
        ref = engine.service.select_evse("kiosk-1", "EVSE-1", "de")
        # The worker's loops are asleep for an hour; only the wake-up of the commit can start
        # the payment (the test's own timeout is far shorter).
        engine.service.pay(ref)
        assert done.wait(60), "the payment was not started"
    finally:
        worker.stop()


def test_leases_are_renewed_every_third_of_a_lease_not_every_round(engine: Engine) -> None:
    worker = Worker(engine.runner, ["kiosk-1"], dataclasses.replace(ChargingConfig(), lease_s=15))
    assert worker._leases_due()  # the first round takes the leases
    assert not worker._leases_due()  # the next round, at once: nothing to renew
    engine.clock.advance(4)
    assert not worker._leases_due()
    engine.clock.advance(2)  # 6 s since the renewal, more than a third of 15 s
    assert worker._leases_due()
    assert not worker._leases_due()
