"""The whole thing on real parts, for the end-to-end tests and the benchmark: our app served on
a loopback port (the OCPI receiver), the CPO simulator over loopback HTTP, the ZVT terminal
simulator over loopback TCP (or a pty), and the engine on the real adapters with its worker
running."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from werkzeug.serving import make_server

from kiosk_app import create_app
from kiosk_app.charging import adapters, codec
from kiosk_app.charging.service import ChargingService
from kiosk_app.charging.states import FINAL, State, TxState
from kiosk_app.config import ChargingConfig, Config, KioskConfig
from kiosk_app.models.charging import ChargingTransaction
from kiosk_app.ocpi.service import OcpiService
from kiosk_app.ocpi.simulator.server import CpoSimulator, Scenario
from payment_terminal.simulator import TerminalSimulator

# Simulated seconds per real second for the CPO: a 1-minute charging tick plays in 0.05 s.
CPO_SPEED = 1200.0
# Engine timers short enough to expire within a test, long enough that a busy machine does not
# trip them on the happy path (a Session push late by two seconds must not read as "no plug-in").
TIMERS = ChargingConfig(
    command_result_margin_s=1,
    command_result_default_s=1,
    plugin_window_s=5,
    cdr_wait_s=2,
    retry_delay_s=1,
    max_retries=3,
    poll_interval_ms=20,
    lease_s=5,
)


class LinkCutter:
    """A loopback TCP relay between the ECR and the terminal simulator that can cut the
    connection when the ECR sends a given command (a link lost at the worst moment)."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("tcp://").rsplit(":", 1)
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        self.cut_on: bytes | None = None  # cut once, when the ECR sends an APDU starting so
        self.cuts = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                ecr, _ = self.listener.accept()
            except OSError:
                return
            pt = socket.create_connection(self.target)
            for sock in (ecr, pt):  # relay every APDU at once, as the endpoints do
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for source, sink, watch in ((ecr, pt, True), (pt, ecr, False)):
                threading.Thread(
                    target=self._pump, args=(source, sink, watch, (ecr, pt)), daemon=True
                ).start()

    def _pump(self, source: socket.socket, sink: socket.socket, watch: bool, pair: tuple) -> None:
        try:
            while data := source.recv(4096):
                if watch and self.cut_on is not None and data.startswith(self.cut_on):
                    self.cut_on = None
                    self.cuts += 1
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._closed = True
        self.listener.close()


@dataclass
class Stack:
    app: Any
    service: ChargingService
    terminal: TerminalSimulator
    cpo: CpoSimulator
    engine: adapters.Engine
    cutter: LinkCutter
    url: str  # where the app is served (kiosk screens, OCPI receiver, receipt links)

    def tx(self, reference: str) -> TxState:
        with self.app.extensions["kiosk.db"].session() as session:
            row = session.scalar(
                sa.select(ChargingTransaction).where(ChargingTransaction.reference == reference)
            )
            return codec.load(TxState, row.snapshot)

    def wait_for(
        self, reference: str, done: Callable[[TxState], bool], timeout: float = 15.0
    ) -> TxState:
        deadline = time.monotonic() + timeout
        while True:
            tx = self.tx(reference)
            if done(tx):
                return tx
            if time.monotonic() > deadline:
                raise AssertionError(f"{reference} stuck in {tx.state} ({tx.failure})")
            time.sleep(0.02)

    def wait_state(self, reference: str, *states: State, timeout: float = 15.0) -> TxState:
        return self.wait_for(reference, lambda tx: tx.state in states, timeout)

    def settled(self, reference: str, timeout: float = 15.0) -> TxState:
        return self.wait_for(reference, lambda tx: tx.state in FINAL, timeout)

    def journal(self, receipt_no: int) -> Any:
        return self.terminal.journal.get(receipt_no)


def served(app: Any, cpo: CpoSimulator) -> Any:
    """Serve `app` on a loopback port (its public URLs pointing there), registered with `cpo`
    and synced; returns the server (`shutdown()` it)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    cfg = app.config["KIOSK"]
    app.config["KIOSK"] = dataclasses.replace(
        cfg,
        ocpi=dataclasses.replace(cfg.ocpi, public_url=f"{url}/ocpi", read_timeout_s=5),
        receipts=dataclasses.replace(cfg.receipts, public_base_url=f"{url}/r/"),
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ocpi = OcpiService(app.extensions["kiosk.db"], app.config["KIOSK"].ocpi)
    ocpi.register(cpo.versions_url, cpo.token_a)
    ocpi.sync()
    ocpi.client.close()
    return server


@contextlib.contextmanager
def running_stack(
    config: Config,
    terminal_link: str = "tcp://127.0.0.1:0",
    charging_config: ChargingConfig = TIMERS,
    scenario: Scenario | None = None,
    terminal_speed: float = 0,
    kiosk: KioskConfig | None = None,
) -> Iterator[Stack]:
    """Start everything; `config` names the database and secrets. `kiosk` is the one kiosk
    (its `terminal_link` is replaced by the simulator's); by default "kiosk-1" serving EVSE-1."""
    terminal = TerminalSimulator(terminal_link, speed=terminal_speed)
    terminal.start()
    cpo = CpoSimulator(scenario=scenario or Scenario(speed=CPO_SPEED, ticks=2, tick_minutes=1))
    cpo.start()
    link = terminal.link_url
    cutter = LinkCutter(link if link.startswith("tcp://") else "tcp://127.0.0.1:1")
    if link.startswith("tcp://"):
        link = cutter.url  # the ECR reaches the simulator through the cutter
    kiosk = dataclasses.replace(
        kiosk or KioskConfig(id="kiosk-1", name="Test park", terminal_link="", evses=["EVSE-1"]),
        terminal_link=link,
    )
    app = create_app(dataclasses.replace(config, kiosks=[kiosk], charging=charging_config))
    server = served(app, cpo)
    engine = adapters.attach(app)
    engine.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        yield Stack(app, app.extensions["kiosk.charging"], terminal, cpo, engine, cutter, url)
    finally:
        engine.stop()
        cutter.close()
        cpo.stop()
        server.shutdown()
        terminal.stop()
        app.extensions["kiosk.db"].dispose()
