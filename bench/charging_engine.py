"""Engine overhead with peers that answer instantly.

1. One whole transaction on the real parts (the stack of the end-to-end tests): the ZVT
   terminal simulator over loopback TCP and the CPO simulator over loopback HTTP, both
   answering at once, our OCPI receiver on a loopback port, the worker on the real adapters;
   timed from the driver's "pay" to the receipt link (pre-authorisation, START_SESSION,
   CommandResult, Session, CDR, our pricing, capture, receipt: every step persisted).
2. Many kiosks at once, served by one worker's threads, on the scripted doubles of the tests:
   every transaction must settle with its books matching its terminal's journal; the figure
   is the throughput.

Baseline, measured in the same run: one bare insert-and-commit on the same database.

    .venv/bin/python -m bench.charging_engine [kiosks] [per_kiosk]
    KIOSK_BENCH_DATABASE_URL=postgresql+psycopg://... to run on PostgreSQL (migrated first)
"""

from __future__ import annotations

import dataclasses
import functools
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from kiosk_app import migrate
from kiosk_app.charging.machine import check_invariants
from kiosk_app.charging.ports import Ports
from kiosk_app.charging.runner import Runner
from kiosk_app.charging.service import ChargingService
from kiosk_app.charging.states import State
from kiosk_app.charging.worker import Worker
from kiosk_app.config import (
    ChargingConfig,
    Config,
    DatabaseConfig,
    KioskConfig,
    SecretsConfig,
    ServerConfig,
)
from kiosk_app.db import Database
from kiosk_app.ocpi.simulator.server import Scenario

# The scripted peers of the engine's tests answer instantly; reuse them rather than copy them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from charging.doubles import (
    FlatPricing,
    ScriptedCpo,
    ScriptedReceipts,
    ScriptedTerminal,
    StaticDirectory,
    charge_once,
)
from integration.live import running_stack


def engine(database: Database, kiosks: list[str]) -> tuple[Runner, ChargingService, Ports]:
    config = dataclasses.replace(
        Config(),
        kiosks=[KioskConfig(id=k, name=k, terminal_link="sim://") for k in kiosks],
        charging=ChargingConfig(poll_interval_ms=10),
    )
    ports = Ports(
        terminals={k: ScriptedTerminal() for k in kiosks},
        cpo=ScriptedCpo(),
        pricing=FlatPricing(),
        directory=StaticDirectory(),
        receipts=ScriptedReceipts(),
    )
    runner = Runner(database, ports, card_salt="bench", worker_id="bench")
    return runner, ChargingService(runner, config, ports), ports


def on_simulators(url: str, instance: str, count: int) -> float:
    """Median time from "pay" to the receipt link on the real simulators."""
    config = dataclasses.replace(
        Config(),
        database=DatabaseConfig(url=url),
        secrets=SecretsConfig(secret_key="bench", card_hash_salt="bench"),
        server=ServerConfig(instance_path=instance),
    )
    instant = Scenario(speed=1e7, ticks=1, tick_minutes=1)
    times = []
    with running_stack(
        config, charging_config=ChargingConfig(poll_interval_ms=10), scenario=instant
    ) as stack:
        for _ in range(count):
            reference = stack.service.select_evse("kiosk-1", "EVSE-1", "en")
            started = time.perf_counter()
            stack.service.pay(reference)
            tx = stack.wait_for(reference, lambda tx: tx.receipt_link is not None, timeout=60)
            times.append(time.perf_counter() - started)
            assert tx.state == State.RECEIPT_ISSUED and tx.receipt_total_minor == tx.captured_minor
            # The next driver may select the EVSE once the CPO reports it available again.
            stack.wait_for(
                reference,
                lambda tx: stack.service.ports.directory.evse("kiosk-1", "EVSE-1").available,
            )
    return statistics.median(times)


def wait_for(runner: Runner, ref: str, wanted: State) -> None:
    deadline = time.monotonic() + 120
    while runner.load(ref).state != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"{ref} stuck in {runner.load(ref).state}")
        time.sleep(0.01)


def concurrent(database: Database, kiosks: int, per_kiosk: int) -> float:
    names = [f"kiosk-{i}" for i in range(kiosks)]
    runner, service, ports = engine(database, names)
    worker = Worker(runner, names, ChargingConfig(poll_interval_ms=10))
    refs: list[str] = []
    settle = functools.partial(wait_for, runner)

    def driver(kiosk: str) -> None:
        for n in range(per_kiosk):
            refs.append(charge_once(service, kiosk, f"EVSE-{kiosk}-{n}", settle))

    worker.start()
    started = time.perf_counter()
    threads = [threading.Thread(target=driver, args=(k,)) for k in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    worker.stop()
    assert len(refs) == kiosks * per_kiosk, "some transactions did not complete"
    for ref in refs:
        tx = runner.load(ref)
        check_invariants(tx)
        journal = ports.terminals[tx.kiosk_id].journal  # type: ignore[attr-defined]
        hold = next(h for h in journal.values() if h.reservation.reference == ref)
        assert hold.captured_minor == tx.captured_minor == 320, ref
    return elapsed


def baseline(database: Database, count: int) -> float:
    with database.session() as session:
        session.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_baseline (n INTEGER)"))
        session.commit()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with database.session() as session:
            session.execute(sa.text("INSERT INTO bench_baseline (n) VALUES (1)"))
            session.commit()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(kiosks: int = 20, per_kiosk: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("KIOSK_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        migrate.upgrade(url)
        database = Database(url)
        commit = baseline(database, 50)
        one = on_simulators(url, f"{tmp}/instance", 20)
        many = concurrent(database, kiosks, per_kiosk)
        database.dispose()
    total = kiosks * per_kiosk
    print(f"database: {sa.make_url(url).get_backend_name()}")
    print(f"one transaction on the real simulators, pay → receipt link: {one * 1000:.1f} ms")
    print(f"  ratio to one bare commit: {one / commit:.0f}")
    print(f"{total} transactions on {kiosks} kiosks, one worker: {many:.1f} s, all invariants hold")
    print(
        f"  per transaction: {many / total * 1000:.0f} ms, ratio to one bare commit: "
        f"{many / total / commit:.0f}"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
