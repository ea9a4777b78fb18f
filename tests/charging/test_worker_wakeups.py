"""The worker wakes on committed work, not on its poll interval: a wake-up that arrives while a
loop is busy is not lost, it wakes only the loop the work is for, work committed by the web
tier wakes it through PostgreSQL notifications, idle terminal loops do not query the database,
and terminal leases are renewed a few times per lease rather than in front of every round's
work."""

from __future__ import annotations

import dataclasses
import os
import threading
import time

import pytest
import sqlalchemy as sa

from kiosk_app.charging import notify
from kiosk_app.charging.service import ChargingService
from kiosk_app.charging.worker import MAIN, Worker
from kiosk_app.config import ChargingConfig

from .conftest import Engine

HOUR_MS = 3_600_000


def test_a_wake_up_during_a_round_is_not_lost(engine: Engine) -> None:
    worker = Worker(engine.runner, ["kiosk-1"], ChargingConfig(poll_interval_ms=HOUR_MS))
    seen = worker._wakes["kiosk-1"]  # the terminal loop starts its round here
    engine.runner.on_intent({("terminal", "kiosk-1")})  # work committed while the round runs
    # Returns at once (with a lost wake-up it would sleep an hour).
    assert worker._sleep("kiosk-1", seen)


def test_a_wake_up_wakes_only_the_loop_the_work_is_for(engine: Engine) -> None:
    worker = Worker(engine.runner, ["kiosk-1", "kiosk-2"], ChargingConfig(poll_interval_ms=50))
    seen = dict(worker._wakes)
    engine.runner.on_intent({("terminal", "kiosk-2"), ("cpo", "kiosk-1")})
    assert worker._sleep("kiosk-2", seen["kiosk-2"]) and worker._sleep(MAIN, seen[MAIN])
    assert not worker._sleep("kiosk-1", seen["kiosk-1"])  # slept its poll interval


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


def test_work_committed_by_another_process_is_found_by_the_main_loop(engine: Engine) -> None:
    """The web tier (its own runner, no worker to wake) commits a payment: the worker's main
    loop finds it on its poll and wakes that terminal's loop."""
    web = ChargingService(engine.runner_for("web"), engine.config, engine.ports)
    worker = Worker(engine.runner, ["kiosk-1", "kiosk-2"], ChargingConfig(poll_interval_ms=50))
    worker.start()
    try:
        reference = web.select_evse("kiosk-1", "EVSE-1", "de")
        web.pay(reference)
        _wait_for_preauthorisation(engine)
    finally:
        worker.stop()


def _wait_for_preauthorisation(engine: Engine) -> None:
    deadline = time.monotonic() + 30
    while engine.terminal.calls.count("preauthorise") == 0:
        assert time.monotonic() < deadline, "the payment was not started"
        time.sleep(0.02)


if os.environ.get("KIOSK_TEST_DATABASE_URL"):
    # Notifications exist only on PostgreSQL; on SQLite one process runs everything.

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    def test_the_web_tiers_commit_wakes_a_worker_in_another_process(engine: Engine) -> None:
        """The web tier (its own runner and connections, as under gunicorn) notifies its
        commit; the worker, whose every loop sleeps for an hour, starts the payment at once."""
        web_runner = engine.runner_for("web")
        web_runner.on_intent = notify.Notifier(web_runner.database)
        web = ChargingService(web_runner, engine.config, engine.ports)
        worker = Worker(engine.runner, ["kiosk-1"], ChargingConfig(poll_interval_ms=HOUR_MS))
        worker.start()
        try:
            _wait_until_asleep_and_listening(engine, worker)
            reference = web.select_evse("kiosk-1", "EVSE-1", "de")
            web.pay(reference)
            _wait_for_preauthorisation(engine)
        finally:
            worker.stop()

    def _wait_until_asleep_and_listening(engine: Engine, worker: Worker) -> None:
        listening = sa.text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
        deadline = time.monotonic() + 30
        with engine.database.engine.connect() as connection:
            while not (worker.owned and connection.execute(listening).scalar()):
                assert time.monotonic() < deadline, "the worker did not start listening"
                connection.rollback()
                time.sleep(0.02)
        time.sleep(0.5)  # the loops' start-up rounds are over: they sleep for an hour


def test_a_notification_names_the_loops_to_wake() -> None:
    targets = {("terminal", "kiosk-1"), ("cpo", "kiosk-2")}
    assert notify.decode(notify.encode(targets)) == targets
    # Something else on the channel wakes nothing; the poll still finds any work.
    assert notify.decode("garbage;:x;terminal:") == set()


def test_idle_terminal_loops_do_not_query_the_database(engine: Engine) -> None:
    """Twenty idle kiosks cost the main loop's one query per poll, not twenty."""
    worker = Worker(engine.runner, ["kiosk-1", "kiosk-2"], ChargingConfig(poll_interval_ms=20))
    by_terminal_loops: list[str] = []

    def record(*_args: object) -> None:
        if threading.current_thread().name.startswith("terminal-"):
            by_terminal_loops.append(threading.current_thread().name)

    worker.start()
    try:
        deadline = time.monotonic() + 60
        while len(worker.owned) < 2:  # both loops started, their start-up recovery done
            assert time.monotonic() < deadline, "the terminals were not taken"
            time.sleep(0.02)
        time.sleep(0.3)
        sa.event.listen(engine.database.engine, "before_cursor_execute", record)
        time.sleep(0.5)  # some 25 polls of the main loop
    finally:
        sa.event.remove(engine.database.engine, "before_cursor_execute", record)
        worker.stop()
    assert by_terminal_loops == []
