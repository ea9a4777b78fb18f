"""Crash recovery, timers claimed once, terminal leases, and the worker, on a real database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from kiosk_app.charging import recovery
from kiosk_app.charging.events import CommandResult
from kiosk_app.charging.ports import RemoteSession
from kiosk_app.charging.service import ChargingService, NoCardRead
from kiosk_app.charging.states import State
from kiosk_app.charging.timers import fire_due
from kiosk_app.charging.worker import TerminalLeases, Worker
from kiosk_app.cli import cli
from kiosk_app.models.charging import ChargingEffect, ChargingEvent, TerminalLease

from .conftest import Engine
from .doubles import cdr

STALE = timedelta(minutes=5)


def paid(engine: Engine, evse: str = "EVSE-1") -> str:
    ref = engine.service.select_evse("kiosk-1", evse, "de")
    engine.service.pay(ref)
    return ref


def crash_while_running(engine: Engine, kind: str) -> None:
    """The worker claimed the intent and died before recording an outcome."""
    with engine.database.session() as session:
        effect_id = session.scalar(
            sa.select(ChargingEffect.id).where(
                ChargingEffect.kind == kind, ChargingEffect.status == "pending"
            )
        )
    assert effect_id is not None
    assert engine.runner_for("dead-worker").claim(effect_id)


def test_intent_recorded_but_never_performed_is_performed_after_restart(engine: Engine) -> None:
    ref = paid(engine)  # the process dies here: intent committed, terminal never asked
    restarted = engine.runner_for("w2")
    restarted.drain()
    assert restarted.load(ref).state == State.STARTING
    assert engine.terminal.calls.count("preauthorise") == 1


def test_payment_interrupted_after_the_terminal_approved(engine: Engine) -> None:
    ref = paid(engine)
    crash_while_running(engine, "Preauthorise")
    # The terminal approved while our process was dead: a hold exists we never heard of.
    engine.terminal.preauthorise(5000, "EUR", ref, lambda *_: None)
    report = recovery.recover(engine.runner, ["kiosk-1"], stale_after=STALE)
    assert report.interrupted == [f"{ref}: Preauthorise"]
    engine.runner.drain()  # CheckHold finds our hold by reference and carries on
    tx = engine.runner.load(ref)
    assert tx.state == State.STARTING and tx.held_minor == 5000
    assert engine.terminal.journal[1].status == "open"


def test_payment_interrupted_before_the_terminal_approved(engine: Engine) -> None:
    ref = paid(engine)
    crash_while_running(engine, "Preauthorise")
    recovery.recover(engine.runner, ["kiosk-1"], stale_after=STALE)
    engine.runner.drain()
    assert engine.runner.load(ref).state == State.DECLINED
    assert engine.terminal.journal == {}


def test_capture_interrupted_is_checked_before_anything_else(engine: Engine) -> None:
    ref = paid(engine)
    engine.runner.drain()
    engine.service.on_cdr(cdr(ref, "4.00"))
    crash_while_running(engine, "Capture")
    hold = engine.terminal.journal[1].reservation
    engine.terminal.capture(hold, 400)  # it went through before the crash
    recovery.recover(engine.runner, ["kiosk-1"], stale_after=STALE)
    engine.clock.advance(60)
    fire_due(engine.runner)
    engine.runner.drain()
    tx = engine.runner.load(ref)
    assert (tx.state, tx.captured_minor, tx.captures) == (State.RECEIPT_ISSUED, 400, 1)
    assert engine.terminal.journal[1].captured_minor == 400


def test_a_payment_that_waited_too_long_is_not_started_any_more(engine: Engine) -> None:
    ref = paid(engine)
    engine.clock.advance(600)
    report = recovery.recover(engine.runner, ["kiosk-1"], stale_after=STALE)
    assert report.expired_payments == [ref]
    assert engine.runner.load(ref).state == State.DECLINED
    assert engine.terminal.calls == ["open_preauthorisations"]


def test_orphan_hold_is_released(engine: Engine) -> None:
    engine.terminal.preauthorise(5000, "EUR", "NOT-OURS", lambda *_: None)
    report = recovery.recover(engine.runner, ["kiosk-1"], stale_after=STALE)
    assert report.orphan_holds_released == [1]
    assert engine.terminal.journal[1].status == "released"


def test_hold_of_a_declined_transaction_is_released_through_its_timeline(engine: Engine) -> None:
    engine.terminal.script = ["noanswer"]
    ref = paid(engine)
    engine.runner.drain()
    engine.runner.drain()
    assert engine.runner.load(ref).state == State.DECLINED
    engine.terminal.preauthorise(5000, "EUR", ref, lambda *_: None)  # it did approve after all
    recovery.recover(engine.runner, ["kiosk-1"], stale_after=STALE)
    engine.runner.drain()
    tx = engine.runner.load(ref)
    assert tx.state == State.RELEASED and "late_approval" in tx.review_flags
    assert engine.terminal.journal[1].status == "released"


def test_sessions_and_cdrs_missed_while_down_are_fetched(engine: Engine) -> None:
    ref = paid(engine)
    engine.runner.drain()
    engine.cpo.sessions = [
        RemoteSession(ref, "S-1", "COMPLETED", Decimal("10"), Decimal("3.10")),
        RemoteSession("SOMEONE-ELSE", "S-2", "ACTIVE", Decimal(1), None),
    ]
    engine.cpo.cdrs = [cdr(ref, "3.10")]
    report = recovery.recover(engine.runner, [], stale_after=STALE, include_terminal=False)
    assert (report.sessions_fed, report.cdrs_fed) == (1, 1)
    engine.runner.drain()
    assert engine.runner.load(ref).captured_minor == 310
    again = recovery.recover(engine.runner, [], stale_after=STALE, include_terminal=False)
    assert (again.sessions_fed, again.cdrs_fed) == (0, 0)  # nothing new: nothing fed twice


def test_a_ghost_session_after_release_is_found_and_stopped(engine: Engine) -> None:
    engine.cpo.start_answers = [CommandResult.REJECTED]
    ref = paid(engine)
    engine.runner.drain()
    assert engine.runner.load(ref).state == State.RELEASED
    engine.cpo.sessions = [RemoteSession(ref, "S-9", "ACTIVE", Decimal(1), None)]
    recovery.recover(engine.runner, [], stale_after=STALE, include_terminal=False)
    engine.runner.drain()
    assert ("STOP_SESSION", "S-9") in engine.cpo.calls
    assert "session_after_release" in engine.runner.load(ref).review_flags


def test_each_due_timer_fires_once_across_workers(engine: Engine) -> None:
    refs = []
    for i in range(6):
        ref = paid(engine, f"EVSE-{i}")
        refs.append(ref)
    engine.runner.drain()  # all STARTING, each with a CommandResult timer
    engine.clock.advance(61)
    runners = [engine.runner_for(f"w{i}") for i in range(3)]
    counts: list[int] = []
    threads = [threading.Thread(target=lambda r=r: counts.append(fire_due(r))) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 6
    with engine.database.session() as session:
        fired = session.scalar(sa.select(sa.func.count()).where(ChargingEvent.kind == "TimerFired"))
    assert fired == 6


def test_terminal_lease_has_one_owner_and_is_taken_over_after_expiry(engine: Engine) -> None:
    first = TerminalLeases(engine.database, "worker-a", 15, engine.clock)
    second = TerminalLeases(engine.database, "worker-b", 15, engine.clock)
    assert first.acquire("kiosk-1")
    assert not second.acquire("kiosk-1")
    engine.clock.advance(10)
    assert first.acquire("kiosk-1")  # renewed
    engine.clock.advance(10)
    assert not second.acquire("kiosk-1")
    engine.clock.advance(6)  # worker-a stopped renewing: expired
    assert second.acquire("kiosk-1")
    assert not first.acquire("kiosk-1")


def test_worker_round_drives_a_whole_start(engine: Engine) -> None:
    worker = Worker(engine.runner, ["kiosk-1", "kiosk-2"], engine.config.charging)
    ref = paid(engine)
    worker.run_once()
    assert engine.runner.load(ref).state == State.STARTING
    other = TerminalLeases(engine.database, "someone", 15, engine.clock)
    assert not other.acquire("kiosk-1")


def test_worker_threads_serve_a_payment(engine: Engine) -> None:
    worker = Worker(engine.runner, ["kiosk-1"], engine.config.charging)
    worker.start()
    try:
        ref = paid(engine)
        for _ in range(200):
            if engine.runner.load(ref).state == State.STARTING:
                break
            threading.Event().wait(0.05)
        assert engine.runner.load(ref).state == State.STARTING
        assert engine.cpo.calls[0][0] == "START_SESSION"
    finally:
        worker.stop()


def test_cli_worker_once_with_test_ports(engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KIOSK_DATABASE_URL", engine.database.url)
    result = CliRunner().invoke(cli, ["worker", "--once", "--ports", "charging.doubles:make_ports"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["worker", "--once", "--ports", "no.such:thing"])
    assert result.exit_code == 2 and "cannot load 'no.such:thing'" in result.output


def _lease_owner(engine: Engine) -> str | None:
    with engine.database.session() as session:
        return session.scalar(
            sa.select(TerminalLease.owner).where(TerminalLease.kiosk_id == "kiosk-1")
        )


def _wait_for(predicate, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_two_worker_processes_one_owner_and_takeover_when_it_dies(
    engine: Engine, tmp_path: Path
) -> None:
    """Two real `kiosk worker` processes: the terminal has one owner; SIGKILL hands it over."""
    config = tmp_path / "kiosk.toml"
    config.write_text('[[kiosks]]\nid = "kiosk-1"\nname = "One"\nterminal_link = "sim://"\n')
    env = {
        **os.environ,
        "KIOSK_DATABASE_URL": engine.database.url,
        "KIOSK_CONFIG": str(config),
        "KIOSK_CHARGING_LEASE_S": "2",
        "KIOSK_CHARGING_POLL_INTERVAL_MS": "100",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    kiosk = str(Path(sys.executable).parent / "kiosk")
    command = [kiosk, "worker", "--ports", "charging.doubles"]
    first = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    second = None
    try:
        assert _wait_for(
            lambda: (_lease_owner(engine) or "").split(":")[1:2] == [str(first.pid)], 30
        )
        second = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        time.sleep(3)  # longer than a lease: the live owner keeps renewing it
        assert f":{first.pid}:" in (_lease_owner(engine) or "")
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert _wait_for(lambda: f":{second.pid}:" in (_lease_owner(engine) or ""), 30)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)


def test_find_by_presented_card_reads_the_terminal_this_worker_drives(engine: Engine) -> None:
    worker = Worker(engine.runner, ["kiosk-1"], engine.config.charging)
    service = ChargingService(engine.runner, engine.config, engine.ports, worker.read_card)
    ref = paid(engine)
    worker.run_once()
    assert service.find_by_presented_card("kiosk-1") == ref
    engine.terminal.card_reference = "another-card"
    assert service.find_by_presented_card("kiosk-1") is None
    engine.terminal.card_reference = None  # nobody presented a card
    with pytest.raises(NoCardRead):
        service.find_by_presented_card("kiosk-1")
    with pytest.raises(NoCardRead):  # no reader in this process (the worker runs elsewhere)
        ChargingService(engine.runner, engine.config, engine.ports).find_by_presented_card(
            "kiosk-1"
        )


def test_own_terminal_thread_that_died_is_recovered_when_the_loop_restarts(engine: Engine) -> None:
    ref = paid(engine)
    with engine.database.session() as session:
        effect_id = session.scalar(sa.select(ChargingEffect.id))
    assert engine.runner.claim(effect_id)  # this worker's own thread claimed it, then died
    recovery.recover(engine.runner, ["kiosk-1"], stale_after=STALE)
    engine.runner.drain()
    assert engine.runner.load(ref).state == State.DECLINED  # checked: no hold was taken


def test_a_captured_transaction_whose_hold_shows_open_is_flagged_never_released(
    engine: Engine,
) -> None:
    ref = paid(engine)
    engine.runner.drain()
    engine.terminal.script = ["noanswer"]  # the capture is lost without being done...
    engine.service.on_cdr(cdr(ref, "2.00"))
    engine.runner.drain()
    engine.clock.advance(60)
    engine.terminal.journal[1].status = "captured"  # ...but the check says the hold is gone
    fire_due(engine.runner)
    engine.runner.drain()
    assert engine.runner.load(ref).state == State.RECEIPT_ISSUED
    engine.terminal.journal[1].status = "open"  # and later the terminal lists it as open
    recovery.recover(engine.runner, ["kiosk-1"], stale_after=STALE)
    engine.runner.drain()
    tx = engine.runner.load(ref)
    assert "hold_open_after_capture" in tx.review_flags and tx.captured_minor == 200
    assert engine.terminal.journal[1].status == "open"  # not released behind the receipt
