"""Crash at every persisted step: the engine dies just before its n-th commit, or just after a
peer's n-th answer (before recording it); a fresh engine starts on the same database, runs
recovery, and the transaction still ends with our books matching the terminal's journal. The
terminal, the CPO and receipts (test doubles) outlive the crashed engine.

In-process: the crash is an exception nobody catches, raised from the connection's commit hook
and after each peer's answer. The end-to-end variant, SIGKILL on the real simulators, belongs
to the integration suite.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from kiosk_app.charging import recovery
from kiosk_app.charging.machine import check_invariants
from kiosk_app.charging.ports import Ports
from kiosk_app.charging.runner import Runner
from kiosk_app.charging.service import ChargingService
from kiosk_app.charging.states import FINAL, State
from kiosk_app.charging.timers import fire_due
from kiosk_app.db import Database

from .conftest import Engine
from .doubles import cdr


class Crash(BaseException):
    """The process died here (BaseException: no `except Exception` in the engine stops it)."""


class CrashAt:
    """Counts persisted steps and peer answers; dies at step `at`."""

    def __init__(self, at: int | None) -> None:
        self.at = at
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps == self.at:
            self.at = None  # die once
            raise Crash(self.steps)


class _Dying:
    """Wraps a peer: after each answer, the engine may die before recording it."""

    def __init__(self, peer: Any, crash: CrashAt) -> None:
        self._peer, self._crash = peer, crash

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._peer, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self._crash.step()
            return result

        return call


def boot(engine: Engine, crash: CrashAt, name: str) -> tuple[Runner, ChargingService, Database]:
    """A fresh engine process on the shared database and the surviving peers."""
    database = Database(engine.database.url)
    engine.others.append(database)
    # Dying just before the n-th commit is dying just after the one before it.
    sa.event.listen(database.engine, "commit", lambda _conn: crash.step())
    ports = Ports(
        terminals={k: _Dying(t, crash) for k, t in engine.ports.terminals.items()},  # type: ignore[misc]
        cpo=_Dying(engine.cpo, crash),  # type: ignore[arg-type]
        pricing=engine.pricing,
        directory=engine.ports.directory,
        receipts=_Dying(engine.receipts, crash),  # type: ignore[arg-type]
    )
    runner = Runner(database, ports, card_salt="test-salt", clock=engine.clock, worker_id=name)
    return runner, ChargingService(runner, engine.config, ports), database


def run_with_crash(engine: Engine, evse: str, crash_at: int | None) -> tuple[int, str]:
    """Drive one transaction, dying once at step `crash_at`; return (steps, reference)."""
    crash = CrashAt(crash_at)
    boots = 0
    runner, service, _ = boot(engine, crash, "boot-0")
    ref = ""

    def select() -> None:
        nonlocal ref
        ref = service.select_evse("kiosk-1", evse, "de")

    def script(service: ChargingService, runner: Runner) -> list[Callable[[], object]]:
        return [
            select,
            lambda: service.pay(ref),
            runner.drain,
            lambda: service.on_command_result(ref, "START_SESSION", "ACCEPTED"),
            lambda: service.on_session(ref, "S-1", "ACTIVE", Decimal(2), Decimal("1.00")),
            lambda: service.stop(ref),
            runner.drain,
            lambda: service.on_session(ref, "S-1", "COMPLETED", Decimal(9), Decimal("4.50")),
            lambda: service.on_cdr(cdr(ref, "4.50", cdr_id=f"CDR-{evse}")),
            runner.drain,
        ]

    position = 0
    while position < 10:
        try:
            script(service, runner)[position]()
            position += 1
        except Crash:
            # Restart: a new engine, recovery first; then the interrupted step happens again
            # (the CPO pushes again, the driver taps again).
            boots += 1
            engine.clock.advance(1)
            runner, service, _ = boot(engine, crash, f"boot-{boots}")
            recovery.recover(runner, ["kiosk-1"], stale_after=timedelta(0))
    settle(engine, runner, ref)
    return crash.steps, ref


def settle(engine: Engine, runner: Runner, ref: str) -> None:
    for _ in range(40):
        runner.drain()
        if runner.load(ref).state in FINAL:
            return
        engine.clock.advance(3600)
        fire_due(runner)
    raise AssertionError(f"did not settle: {runner.load(ref).state}")


def assert_books_match(engine: Engine, ref: str) -> None:
    tx = engine.runner.load(ref)
    check_invariants(tx)
    assert tx.state in FINAL, tx.state
    holds = [h for h in engine.terminal.journal.values() if h.reservation.reference == ref]
    assert all(h.status != "open" for h in holds), "a hold was left open"
    assert sum(h.captured_minor for h in holds) == tx.captured_minor
    if tx.captures:
        assert engine.receipts.issued[ref].total_minor == tx.captured_minor


def test_crash_at_every_step(engine: Engine) -> None:
    steps, ref = run_with_crash(engine, "EVSE-0", None)
    assert_books_match(engine, ref)
    assert engine.runner.load(ref).captured_minor == 450
    assert steps > 20
    outcomes = set()
    for crash_at in range(1, steps + 1):
        _, ref = run_with_crash(engine, f"EVSE-{crash_at}", crash_at)
        assert_books_match(engine, ref)
        outcomes.add(engine.runner.load(ref).state)
    # Most crashes are absorbed; one during the payment may end it with no hold (DECLINED).
    assert State.RECEIPT_ISSUED in outcomes, outcomes
