"""Several kiosks at once, served by one worker's threads: every transaction completes, every
terminal sees one command at a time (the scripted terminal refuses overlap), and every
transaction's books match its terminal's journal."""

from __future__ import annotations

import dataclasses
import functools
import threading
import time

from kiosk_app.charging.machine import check_invariants
from kiosk_app.charging.ports import Ports
from kiosk_app.charging.runner import Runner
from kiosk_app.charging.service import ChargingService
from kiosk_app.charging.states import State
from kiosk_app.charging.worker import Worker
from kiosk_app.config import ChargingConfig, KioskConfig

from .conftest import Engine
from .doubles import ScriptedTerminal, charge_once

KIOSKS = 5
PER_KIOSK = 3


def wait_for(runner: Runner, ref: str, wanted: State, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if runner.load(ref).state == wanted:
            return
        time.sleep(0.02)
    raise AssertionError(f"{ref}: {runner.load(ref).state}, waited for {wanted}")


def test_kiosks_in_parallel_each_transaction_settles(engine: Engine) -> None:
    kiosks = [f"kiosk-{i}" for i in range(KIOSKS)]
    terminals = {k: ScriptedTerminal() for k in kiosks}
    config = dataclasses.replace(
        engine.config,
        kiosks=[KioskConfig(id=k, name=k, terminal_link="sim://") for k in kiosks],
        charging=ChargingConfig(poll_interval_ms=20),
    )
    ports = Ports(terminals, engine.cpo, engine.pricing, engine.ports.directory, engine.receipts)  # type: ignore[arg-type]
    runner = Runner(engine.database, ports, card_salt="s", clock=engine.clock, worker_id="w")
    service = ChargingService(runner, config, ports)
    worker = Worker(runner, kiosks, config.charging)
    failures: list[BaseException] = []
    references: list[str] = []

    def driver(kiosk: str) -> None:
        try:
            settle = functools.partial(wait_for, runner)
            for n in range(PER_KIOSK):
                references.append(charge_once(service, kiosk, f"EVSE-{kiosk}-{n}", settle))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    worker.start()
    try:
        threads = [threading.Thread(target=driver, args=(k,)) for k in kiosks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        worker.stop()
    assert not failures, failures[0]
    assert len(references) == KIOSKS * PER_KIOSK
    for ref in references:
        tx = runner.load(ref)
        check_invariants(tx)
        hold = next(
            h for h in terminals[tx.kiosk_id].journal.values() if h.reservation.reference == ref
        )
        assert (hold.status, hold.captured_minor, tx.captured_minor) == ("captured", 320, 320)
        assert engine.receipts.issued[ref].total_minor == 320
    for terminal in terminals.values():
        assert terminal.calls.count("preauthorise") == PER_KIOSK  # double taps: one payment
