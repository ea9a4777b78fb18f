"""Crash tests: the worker runs in its own process and is killed (SIGKILL) right after each
persisted step of a transaction in turn, then restarted; the transaction must still end
captured-with-receipt or released, and our books must agree with the terminal simulator's
own journal (the simulator runs as its own process and outlives the killed worker; the CPO
simulator and our OCPI receiver run in the test process, as the web tier would). Two workers
at once share the terminal through its lease."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from kiosk_app import charging, create_app
from kiosk_app.charging import adapters, codec
from kiosk_app.charging.states import FINAL, State, TxState
from kiosk_app.config import Config, KioskConfig
from kiosk_app.models.charging import ChargingEffect, ChargingTransaction, TerminalLease
from kiosk_app.models.receipts import ReceiptRecord
from kiosk_app.ocpi.simulator.server import CpoSimulator, Scenario

from .live import CPO_SPEED, TIMERS, served

KIOSK = str(Path(sys.executable).parent / "kiosk")
VICTIM = str(Path(__file__).with_name("crash_worker.py"))
REPO = Path(__file__).resolve().parents[2]
MAX_STEPS = 40


@dataclasses.dataclass
class Harness:
    app: Any
    control: str
    env: dict[str, str]
    worker: subprocess.Popen | None = None

    def spawn(self, crash_at: int | None = None) -> subprocess.Popen:
        """A worker process (dying after step `crash_at`), once it runs."""
        env = dict(self.env)
        if crash_at is not None:
            env["KIOSK_CRASH_AT"] = str(crash_at)
        worker = subprocess.Popen(
            [sys.executable, VICTIM], env=env, cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        if worker.stdout.readline().strip() != "worker running":
            _stop(worker)
            raise AssertionError("the worker did not start")
        return worker

    def start_worker(self, crash_at: int | None) -> None:
        self.stop_worker()
        self.worker = self.spawn(crash_at)

    def stop_worker(self) -> None:
        if self.worker is not None:
            _stop(self.worker)
            self.worker = None

    def tx(self, reference: str) -> TxState:
        with self.app.extensions["kiosk.db"].session() as session:
            row = session.scalar(
                sa.select(ChargingTransaction).where(ChargingTransaction.reference == reference)
            )
            return codec.load(TxState, row.snapshot)

    def settled(self, reference: str) -> bool:
        tx = self.tx(reference)
        if tx.state == State.RELEASED:
            return bool(tx.voucher_number)
        return tx.state in FINAL

    def journal(self) -> dict[str, Any]:
        return requests.get(f"{self.control}/journal", timeout=5).json()


@pytest.fixture
def harness(config: Config, tmp_path: Path) -> Iterator[Harness]:
    terminal = subprocess.Popen(
        [
            KIOSK,
            "terminal-sim",
            "--link",
            "tcp://127.0.0.1:0",
            "--control-port",
            "0",
            "--speed",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    links = json.loads(terminal.stdout.readline())
    cpo = CpoSimulator(scenario=Scenario(speed=CPO_SPEED, ticks=2, tick_minutes=1))
    cpo.start()
    timers = dataclasses.replace(TIMERS, lease_s=1, recovery_interval_s=1)
    kiosk = KioskConfig(id="kiosk-1", name="Crash", terminal_link=links["link"], evses=["EVSE-1"])
    app = create_app(dataclasses.replace(config, kiosks=[kiosk], charging=timers))
    server = served(app, cpo)
    cfg = app.config["KIOSK"]
    url = cfg.ocpi.public_url.removesuffix("/ocpi")
    # The web tier: the engine's service and the bridge from the receiver; no worker here.
    bridge = adapters.attach_web(app)
    toml = tmp_path / "worker.toml"
    toml.write_text(
        f'[database]\nurl = "{cfg.database.url}"\n'
        f'[ocpi]\npublic_url = "{url}/ocpi"\nread_timeout_s = 5\n'
        f'[secrets]\ncard_hash_salt = "test-salt"\nsecret_key = "test"\n'
        "[charging]\n"
        + "".join(
            f"{f.name} = {json.dumps(str(v) if not isinstance(v, int) else v)}\n"
            for f in dataclasses.fields(timers)
            for v in [getattr(timers, f.name)]
        )
        + f'[[kiosks]]\nid = "kiosk-1"\nname = "Crash"\nterminal_link = "{links["link"]}"\n'
        'evses = ["EVSE-1"]\n'
    )
    env = {**os.environ, "KIOSK_CONFIG": str(toml)}
    harness = Harness(app, links["control"], env)
    yield harness
    harness.stop_worker()
    bridge.stop()
    cpo.stop()
    server.shutdown()
    terminal.terminate()
    terminal.wait(10)
    terminal.stdout.close()
    app.extensions["kiosk.db"].dispose()


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
    worker.wait(15)
    worker.stdout.close()


def _wait(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# Two worker processes per step, about forty steps: on a loaded 2-core machine that takes
# longer than the suite's per-test limit.
@pytest.mark.timeout(900)
def test_killed_at_every_step_settles_and_agrees_with_the_terminal(harness):
    outcomes = []
    for step in range(1, MAX_STEPS + 1):
        killed, tx = _transaction(harness, crash_at=step)
        outcomes.append((step, killed, str(tx.state)))
        _check(harness, tx)
        if not killed:
            break  # the whole transaction took fewer steps: every step has been crashed at
    else:
        raise AssertionError("the transaction never finished without a crash")
    assert len(outcomes) > 5 and all(killed for _, killed, _ in outcomes[:-1]), outcomes
    print("crash outcomes (step, killed, final state):", outcomes)


def _transaction(harness: Harness, crash_at: int) -> tuple[bool, TxState]:
    """Pay with a worker that dies after step `crash_at`; restart it if it died; the
    settled transaction."""
    service = harness.app.extensions[charging.EXTENSION]
    harness.start_worker(crash_at)
    reference = service.select_evse("kiosk-1", "EVSE-1", "de")
    service.pay(reference)
    assert _wait(lambda: harness.worker.poll() is not None or harness.settled(reference))
    killed = harness.worker.poll() is not None
    if killed:
        harness.start_worker(crash_at=None)  # restart: recovery finishes the transaction
        assert _wait(lambda: harness.settled(reference)), harness.tx(reference)
    harness.stop_worker()
    return killed, harness.tx(reference)


def _check(harness: Harness, tx: TxState) -> None:
    journal = harness.journal()
    mine = [e for e in journal["entries"] if e["reference"] == tx.reference]
    assert journal["open"] == [], f"hold left open after {tx.state}: {journal}"
    assert len([e for e in mine if e["state"] == "captured"]) <= 1, mine
    assert tx.captured_minor == sum(e["captured_minor"] for e in mine), (tx, mine)
    assert tx.captured_minor + tx.released_minor == tx.held_minor
    if tx.state == State.RECEIPT_ISSUED:
        with harness.app.extensions["kiosk.db"].session() as session:
            totals = session.scalars(
                sa.select(ReceiptRecord.total_minor).where(
                    ReceiptRecord.transaction_reference == tx.reference,
                    ReceiptRecord.kind == "receipt",
                )
            ).all()
        assert totals == [tx.captured_minor] and tx.captured_minor > 0
    else:
        assert tx.state in (State.RELEASED, State.DECLINED, State.ABORTED), tx
        assert tx.captured_minor == 0


def test_two_workers_drive_the_terminal_one_at_a_time_and_hand_it_over(harness):
    service = harness.app.extensions[charging.EXTENSION]
    workers = {w.pid: w for w in (harness.spawn(), harness.spawn())}
    try:
        first = _paid_by(harness, service)
        assert first in workers
        os.kill(first, signal.SIGKILL)  # the owner dies; its lease expires (lease_s = 1)
        second = _paid_by(harness, service)
        assert second in workers and second != first
    finally:
        for worker in workers.values():
            _stop(worker)


def _paid_by(harness: Harness, service: Any) -> int:
    """Charge once; the pid of the one worker that drove the terminal for it."""
    reference = service.select_evse("kiosk-1", "EVSE-1", "de")
    service.pay(reference)
    assert _wait(lambda: harness.settled(reference)), harness.tx(reference)
    tx = harness.tx(reference)
    _check(harness, tx)
    assert tx.state == State.RECEIPT_ISSUED
    with harness.app.extensions["kiosk.db"].session() as session:
        owners = set(
            session.scalars(
                sa.select(ChargingEffect.claimed_by).where(
                    ChargingEffect.reference == reference, ChargingEffect.route == "terminal"
                )
            )
        )
        lease = session.scalar(sa.select(TerminalLease.owner))
    assert len(owners) == 1 and owners == {lease}, (owners, lease)
    return int(lease.split(":")[1])  # worker ids are host:pid:random
