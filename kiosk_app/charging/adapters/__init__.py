"""The engine's ports on the real parts: `payment_terminal` (one ZVT terminal per kiosk),
`kiosk_app.ocpi` (commands to the CPO, and its pushes fed back in), the OCPI tables and tariff
engine (directory, pricing), and `kiosk_app.receipting`.

`make_ports(config)` is what `kiosk worker` loads by default; `attach(app)` binds the engine
to a Flask app and returns the runtime service that `kiosk run` / `kiosk demo` start beside
the web server (worker plus the bridge from the OCPI events into the engine).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa
from flask import Flask

from kiosk_app import charging, health, migrate
from kiosk_app.charging import codec, notify
from kiosk_app.charging.adapters.catalogue import OcpiDirectory, OcpiPricing
from kiosk_app.charging.adapters.cpo import EventBridge, OcpiCpo
from kiosk_app.charging.adapters.receipting import ReceiptIssuer
from kiosk_app.charging.adapters.terminal import ZvtTerminal, profile_from
from kiosk_app.charging.ports import Ports
from kiosk_app.charging.states import TxState
from kiosk_app.config import Config
from kiosk_app.db import Database
from kiosk_app.models.charging import ChargingTransaction
from kiosk_app.ocpi import peers
from payment_terminal.simulator import TerminalSimulator, simulator_for

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


# How many of a kiosk's latest transactions a receipt number is looked up in (terminal
# receipt numbers wrap at 9999; a hold older than this many payments is long expired).
LOOKUP_DEPTH = 500


def hold_lookup(database: Database, kiosk_id: str) -> Callable[[int], tuple[str, int] | None]:
    """(reference, held amount) of the latest transaction at `kiosk_id` holding the terminal's
    receipt number, from our own books; finished ones too, so that recovery settles a hold
    through its transaction's timeline (and never releases one a receipt says was charged)."""

    def lookup(receipt_no: int) -> tuple[str, int] | None:
        with database.session() as session:
            snapshots = session.scalars(
                sa.select(ChargingTransaction.snapshot)
                .where(ChargingTransaction.kiosk_id == kiosk_id)
                .order_by(ChargingTransaction.id.desc())
                .limit(LOOKUP_DEPTH)
            ).all()
        for snapshot in snapshots:
            tx = codec.load(TxState, snapshot)
            if tx.reservation is not None and tx.reservation.receipt_no == receipt_no:
                return tx.reference, tx.reservation.amount_minor
        return None

    return lookup


class Simulators:
    """The in-process terminal simulators started for `sim://` links: on loopback TCP, on a
    pty pair (the demo: the ECR then drives it through serial framing), or none (a web
    process beside `kiosk worker`, which drives the terminals)."""

    def __init__(self, kind: Literal["tcp", "pty", "none"] = "tcp") -> None:
        self.kind = kind
        self.started: list[TerminalSimulator] = []

    def link_for(self, link: str) -> str:
        if self.kind == "none":
            return link
        if self.kind == "pty" and link == "sim://":
            simulator = TerminalSimulator("pty")
            simulator.start()
        else:
            found = simulator_for(link)
            if found is None:
                return link  # a real terminal
            simulator = found
        self.started.append(simulator)
        return simulator.link_url

    def stop(self) -> None:
        for simulator in self.started:
            simulator.stop()
        self.started.clear()


def make_ports(
    config: Config,
    database: Database | None = None,
    current: Callable[[], Config] | None = None,
    simulators: Simulators | None = None,
) -> Ports:
    """The ports on the real libraries. `current` reads the live configuration (the demo
    learns its public OCPI URL only when it serves); `simulators` collects the terminal
    simulators started for `sim://` links."""
    database = database or Database(config.database.url or migrate.configured_url())
    current = current or (lambda: config)
    simulators = simulators or Simulators()
    profile = profile_from(config)
    terminals = {
        kiosk.id: ZvtTerminal(
            simulators.link_for(kiosk.terminal_link), profile, hold_lookup(database, kiosk.id)
        )
        for kiosk in config.kiosks
    }
    return Ports(
        terminals=dict(terminals),
        cpo=OcpiCpo(database, lambda: current().ocpi),
        pricing=OcpiPricing(database),
        directory=OcpiDirectory(database, config.terminal.currency),
        receipts=ReceiptIssuer(database, current, _now),
    )


class Engine:
    """The engine beside the web server, as a runtime Service: the worker, the bridge from
    the CPO's pushes into the engine, and the terminal simulators of `sim://` links."""

    name = "charging-engine"

    def __init__(self, app: Flask, ports: Ports, simulators: Simulators) -> None:
        self.app = app
        self.ports = ports
        self.simulators = simulators
        self.worker = charging.init_app(app, ports)
        self.bridge = EventBridge(app.extensions[charging.EXTENSION])
        health.add_readiness_check(app, "terminals", self.terminals_problem)
        health.add_readiness_check(app, "ocpi", self.ocpi_problem)

    def terminals_problem(self) -> str | None:
        """Each kiosk's terminal answered its last command (the worker asks at start-up)."""
        problems = [
            f"{kiosk_id}: {terminal.problem}"
            for kiosk_id, terminal in self.ports.terminals.items()
            if isinstance(terminal, ZvtTerminal) and terminal.problem
        ]
        return "; ".join(problems) or None

    def ocpi_problem(self) -> str | None:
        """We are registered with a CPO."""
        with self.app.extensions["kiosk.db"].session() as session:
            return None if peers.current_cpo(session) is not None else "no CPO registered"

    def start(self) -> None:
        self.bridge.start()
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()
        self.bridge.stop()
        for terminal in self.ports.terminals.values():
            if isinstance(terminal, ZvtTerminal):
                terminal.close()
        self.simulators.stop()


def attach(app: Flask, ports: Ports | None = None, pty: bool = False) -> Engine:
    """Bind the engine on the real adapters (or `ports`) to `app`; start the returned service.
    `pty`: terminal simulators for `sim://` links on a pty pair rather than loopback TCP."""
    simulators = Simulators("pty" if pty else "tcp")
    if ports is None:
        ports = make_ports(
            app.config["KIOSK"],
            app.extensions["kiosk.db"],
            lambda: app.config["KIOSK"],
            simulators,
        )
    return Engine(app, ports, simulators)


def attach_web(app: Flask) -> EventBridge:
    """A web process beside a separate `kiosk worker` (e.g. under gunicorn): the engine's
    service for the views and the bridge from this process's OCPI receiver; no worker, no
    terminal connections. On PostgreSQL its commits notify the workers. The bridge is
    subscribed on return."""
    ports = make_ports(
        app.config["KIOSK"],
        app.extensions["kiosk.db"],
        lambda: app.config["KIOSK"],
        Simulators("none"),
    )
    charging.init_app(app, ports)
    service = app.extensions[charging.EXTENSION]
    if notify.supported(service.runner.database):
        service.runner.on_intent = notify.Notifier(service.runner.database)
    bridge = EventBridge(service)
    bridge.start()
    return bridge
