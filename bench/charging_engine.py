"""Engine overhead with peers that answer instantly, on the real parts.

The stack of the end-to-end tests: our app served on a loopback port (the OCPI receiver), the
CPO simulator over loopback HTTP, one ZVT terminal simulator per kiosk over loopback TCP (think
time 0), the engine on the real adapters with its worker (default `[charging]` settings: the
worker wakes when work is committed, its poll interval is only a fallback). The simulators run
in a process of their own, as the CPO's servers and the terminals are other machines: their
CPU and their threads do not count as the engine's.

1. One whole transaction, timed from the driver's "pay" to the receipt link (pre-authorisation,
   START_SESSION, CommandResult, Session pushes, CDR, our pricing, capture, receipt: every
   step persisted); with the commits and SQL statements it took, a count that does not depend
   on the machine's load.
2. 100 transactions on 20 kiosks at once (a driver thread per kiosk, 5 charges each), then
   every money invariant of every transaction and our books against each terminal
   simulator's own journal.

"Answering instantly": the CPO simulator plays its simulated minutes at 10^7 times real time,
so its only delays are its own HTTP calls; the terminal simulator has no think time.

Baseline, measured in the same run: one bare insert-and-commit on the same database.

    .venv/bin/python -m bench.charging_engine [kiosks] [per_kiosk]
    KIOSK_BENCH_DATABASE_URL=postgresql+psycopg://... to run on PostgreSQL (migrated first)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kiosk_app import create_app, migrate
from kiosk_app.charging import adapters, codec
from kiosk_app.charging.machine import check_invariants
from kiosk_app.charging.service import ChargingService
from kiosk_app.charging.states import FINAL, State, TxState
from kiosk_app.config import (
    ChargingConfig,
    Config,
    DatabaseConfig,
    KioskConfig,
    SecretsConfig,
    ServerConfig,
)
from kiosk_app.models.charging import ChargingTransaction
from kiosk_app.ocpi.simulator.park import DEFAULT_FIXTURE
from kiosk_app.ocpi.simulator.server import CpoSimulator, Scenario
from payment_terminal.simulator import TerminalSimulator

# The app's serving of the end-to-end tests; reuse it rather than copy it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from integration.live import served

RECEIPTED = {str(State.RECEIPT_ISSUED), str(State.ADVICE_SENT)}
INSTANT = Scenario(speed=1e7, ticks=1, tick_minutes=1)
# How often a driver looks whether its transaction is done. The time to the receipt link is
# not taken from this poll but from the engine's own record (the `ReceiptIssued` line of the
# timeline), so the driver can look rarely and leave the CPU to the engine it measures.
POLL_S = 0.05


def park_fixture(path: Path, evses: int) -> Path:
    """The simulator's park with `evses` AC EVSEs (EVSE-1 …), written to `path`."""
    park = json.loads(DEFAULT_FIXTURE.read_text())
    park["evses"] = [
        {
            "uid": f"EVSE-{n}",
            "physical_reference": str(n),
            "evse_id": f"DE*SIM*E{n:04d}*1",
            "type": "AC22",
        }
        for n in range(1, evses + 1)
    ]
    path.write_text(json.dumps(park))
    return path


class Counts:
    """Commits and statements on an engine (SQLAlchemy events; no timing)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.commits = 0
        self.statements = 0
        sa.event.listen(engine, "commit", self._commit)
        sa.event.listen(engine, "before_cursor_execute", self._statement)

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def _statement(self, *_args: Any) -> None:
        self.statements += 1


@dataclass
class Park:
    app: Any
    service: ChargingService
    peers: Peers
    counts: Counts
    watch: sa.Engine  # a plain engine: the driver's look at the books takes no write lock

    def wait_settled(self, reference: str, timeout: float = 600) -> str:
        """Until the transaction has a receipt link or has ended otherwise (a cheap query on
        two columns, so that the waiting driver does not load the machine it measures); its
        state. The timeout is generous: 20 kiosks at once share one process (and its GIL),
        on a machine other jobs may load too."""
        query = sa.text(
            "SELECT receipt_number, state FROM charging_transaction WHERE reference = :ref"
        )
        ended = {str(state) for state in (*FINAL, State.NEEDS_ATTENTION)}
        deadline = time.monotonic() + timeout
        with self.watch.connect() as conn:
            while True:
                receipt, state = conn.execute(query, {"ref": reference}).one()
                conn.rollback()
                if receipt is not None or state in ended:
                    return state
                if time.monotonic() > deadline:
                    raise AssertionError(f"{reference}: still {state} after {timeout} s")
                time.sleep(POLL_S)

    def wait_available(self, kiosk_id: str, evse_uid: str, timeout: float = 600) -> None:
        """The CPO reports the EVSE available again: the next driver may select it."""
        deadline = time.monotonic() + timeout
        while not self.service.ports.directory.evse(kiosk_id, evse_uid).available:
            if time.monotonic() > deadline:
                raise AssertionError(f"{evse_uid} not available after {timeout} s")
            time.sleep(POLL_S)

    def receipted_at(self, reference: str) -> datetime:
        """When the engine committed the receipt link (its timeline line; UTC)."""
        query = sa.text(
            "SELECT e.created_at FROM charging_event e JOIN charging_transaction t"
            " ON t.id = e.transaction_id WHERE t.reference = :ref AND e.kind = 'ReceiptIssued'"
        )
        with self.watch.connect() as conn:
            at = conn.execute(query, {"ref": reference}).scalar_one()
        at = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        return at if at.tzinfo else at.replace(tzinfo=UTC)

    def charge(self, kiosk_id: str, evse_uid: str) -> tuple[str, float | None]:
        """One driver's whole transaction; its reference and the time from pay to the
        receipt link (None when it ended without one)."""
        reference = self.service.select_evse(kiosk_id, evse_uid, "en")
        started = datetime.now(UTC)
        self.service.pay(reference)
        state = self.wait_settled(reference)
        self.wait_available(kiosk_id, evse_uid)
        if state not in RECEIPTED:
            return reference, None
        return reference, (self.receipted_at(reference) - started).total_seconds()

    def transactions(self, references: list[str]) -> list[TxState]:
        with self.app.extensions["kiosk.db"].session() as session:
            rows = session.scalars(
                sa.select(ChargingTransaction.snapshot).where(
                    ChargingTransaction.reference.in_(references)
                )
            ).all()
        return [codec.load(TxState, snapshot) for snapshot in rows]


@dataclass
class Peers:
    """The simulators' process: the CPO's versions URL and token A, each kiosk's terminal link,
    and the terminals' journals on request."""

    versions_url: str
    token_a: str
    links: dict[str, str]
    process: Any
    pipe: Any

    def journals(self) -> dict[str, dict[str, Any]]:
        self.pipe.send("journals")
        return self.pipe.recv()  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.pipe.send("stop")
        self.process.join(10)


def serve_peers(kiosks: list[str], fixture: str, pipe: Any) -> None:
    """In the peers' process: a CPO simulator and a terminal simulator per kiosk, until told
    to stop; answers "journals" with each terminal's journal."""
    logging.disable(logging.INFO)  # the access logs would cost about as much as the work
    terminals = {k: TerminalSimulator("tcp://127.0.0.1:0", speed=0) for k in kiosks}
    for simulator in terminals.values():
        simulator.start()
    cpo = CpoSimulator(fixture=Path(fixture), scenario=INSTANT)
    cpo.start()
    links = {k: t.link_url for k, t in terminals.items()}
    pipe.send({"versions_url": cpo.versions_url, "token_a": cpo.token_a, "links": links})
    while pipe.recv() == "journals":
        pipe.send({k: t.journal.to_dict() for k, t in terminals.items()})
    cpo.stop()
    for simulator in terminals.values():
        simulator.stop()


def start_peers(kiosks: list[str], fixture: Path) -> Peers:
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads copied
    ours, theirs = spawn.Pipe()
    process = spawn.Process(target=serve_peers, args=(kiosks, str(fixture), theirs), daemon=True)
    process.start()
    deadline = time.monotonic() + 60
    while not ours.poll(0.1):
        if not process.is_alive() or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the simulators' process did not start ({process.exitcode})")
    return Peers(**ours.recv(), process=process, pipe=ours)


@contextlib.contextmanager
def running_park(url: str, kiosks: int, tmp: Path) -> Iterator[Park]:
    """Everything started: kiosk-n drives its own terminal simulator and serves EVSE-n."""
    names = [f"kiosk-{n}" for n in range(1, kiosks + 1)]
    peers = start_peers(names, park_fixture(tmp / "park.json", kiosks))
    config = dataclasses.replace(
        Config(),
        database=DatabaseConfig(url=url),
        secrets=SecretsConfig(secret_key="bench", card_hash_salt="bench"),
        server=ServerConfig(instance_path=str(tmp / "instance")),
        kiosks=[
            KioskConfig(id=k, name=k, terminal_link=link, evses=[f"EVSE-{k.split('-')[1]}"])
            for k, link in peers.links.items()
        ],
        charging=ChargingConfig(),
    )
    app = create_app(config)
    # After create_app, which configures logging: the servers' access logs would cost about
    # as much as the work they log.
    logging.disable(logging.INFO)
    server = served(app, peers)
    engine = adapters.attach(app)
    engine.start()
    database = app.extensions["kiosk.db"]
    watch = sa.create_engine(url, pool_size=kiosks, max_overflow=0)  # one per driver
    try:
        yield Park(app, app.extensions["kiosk.charging"], peers, Counts(database.engine), watch)
    finally:
        engine.stop()
        server.shutdown()
        peers.stop()
        watch.dispose()
        database.dispose()


@dataclass
class One:
    median_s: float
    cpu_s: float  # CPU time of the whole process (simulators included) per transaction
    commits: float
    statements: float


def one_at_a_time(park: Park, count: int) -> One:
    """Transactions one after the other at kiosk-1, the others idle: median pay → link,
    commits and statements per transaction."""
    park.charge("kiosk-1", "EVSE-1")  # warm-up: first connections, first requests
    commits, statements = park.counts.commits, park.counts.statements
    cpu = time.process_time()
    times = [park.charge("kiosk-1", "EVSE-1")[1] for _ in range(count)]
    assert None not in times, "a transaction ended without a receipt"
    return One(
        statistics.median(times),  # type: ignore[type-var]
        (time.process_time() - cpu) / count,
        (park.counts.commits - commits) / count,
        (park.counts.statements - statements) / count,
    )


def concurrent(park: Park, per_kiosk: int) -> tuple[float, float, Counter[str]]:
    """`per_kiosk` transactions at every kiosk at once; (elapsed, median pay → link). Then
    every invariant, and each terminal's journal against our books."""
    references: list[str] = []
    times: list[float] = []
    failures: list[BaseException] = []

    def driver(kiosk_id: str) -> None:
        evse = f"EVSE-{kiosk_id.split('-')[1]}"
        try:
            for _ in range(per_kiosk):
                reference, elapsed = park.charge(kiosk_id, evse)
                references.append(reference)
                if elapsed is not None:
                    times.append(elapsed)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    started = time.perf_counter()
    threads = [threading.Thread(target=driver, args=(k,)) for k in park.peers.links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    txs = park.transactions(references)
    check_books(txs, park.peers.journals(), len(park.peers.links) * per_kiosk)
    outcomes = Counter(f"{tx.state}{f' ({tx.failure})' if tx.failure else ''}" for tx in txs)
    return elapsed, statistics.median(times), outcomes


def check_books(txs: list[TxState], journals: dict[str, dict[str, Any]], count: int) -> None:
    """Every transaction's money invariants, and each terminal simulator's journal against our
    books: a receipted transaction captured exactly its receipt total once under our
    reference; any other left no hold open and captured nothing; the journal's captured sum
    equals ours."""
    assert len(txs) == count, f"{len(txs)} transactions, expected {count}"
    entries = {
        (kiosk_id, e["receipt_no"]): e
        for kiosk_id, journal in journals.items()
        for e in journal["entries"]
    }
    for tx in txs:
        check_invariants(tx)
        receipt_no = tx.reservation.receipt_no if tx.reservation else None
        entry = entries.get((tx.kiosk_id, receipt_no))
        if str(tx.state) in RECEIPTED:
            assert tx.receipt_total_minor == tx.captured_minor > 0, tx.reference
            assert entry is not None and entry["reference"] == tx.reference, tx.reference
            assert (entry["state"], entry["captured_minor"]) == ("captured", tx.captured_minor)
        else:
            assert tx.captured_minor == 0, (tx.reference, tx.state)
            assert entry is None or entry["state"] != "open" or tx.state == State.NEEDS_ATTENTION
    for kiosk_id, journal in journals.items():
        ours = {tx.reference: tx.captured_minor for tx in txs if tx.kiosk_id == kiosk_id}
        # kiosk-1 also ran the one-at-a-time transactions; count only this run's.
        mine = [e for e in journal["entries"] if e["reference"] in ours]
        waiting = {t.reference for t in txs if t.state == State.NEEDS_ATTENTION}  # for operators
        left = [e for e in mine if e["state"] == "open" and e["reference"] not in waiting]
        assert not left, f"{kiosk_id}: holds left open {left}"
        assert sum(e["captured_minor"] for e in mine) == sum(ours.values()), kiosk_id


def baseline(url: str, count: int) -> float:
    """Median of one bare insert-and-commit."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_baseline (n INTEGER)"))
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO bench_baseline (n) VALUES (1)"))
        times.append(time.perf_counter() - started)
    engine.dispose()
    return statistics.median(times)


def main(kiosks: int = 20, per_kiosk: int = 5, count: int = 20) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        url = os.environ.get("KIOSK_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        migrate.upgrade(url)
        commit = baseline(url, 50)
        with running_park(url, kiosks, tmp) as park:
            one = one_at_a_time(park, count)
            many, latency, outcomes = concurrent(park, per_kiosk)
    total = kiosks * per_kiosk
    load = os.getloadavg()[0]
    print(f"database: {sa.make_url(url).get_backend_name()}; load average {load:.1f}")
    print(f"bare insert-and-commit (baseline): {commit * 1000:.2f} ms")
    print(
        f"one transaction, pay → receipt link: {one.median_s * 1000:.1f} ms "
        f"(ratio to one bare commit: {one.median_s / commit:.0f}); CPU {one.cpu_s * 1000:.0f} ms, "
        f"{one.commits:.0f} commits, {one.statements:.0f} statements per transaction"
    )
    print(
        f"{total} transactions on {kiosks} kiosks: {many:.1f} s, all invariants and journals "
        f"hold; per transaction {many / total * 1000:.0f} ms (ratio {many / total / commit:.0f}),"
        f" median pay → link {latency * 1000:.0f} ms"
    )
    print(f"  outcomes: {dict(outcomes)}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
