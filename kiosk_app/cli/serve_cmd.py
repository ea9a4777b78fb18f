"""`kiosk run` and `kiosk demo`: the service, and the whole thing on simulators."""

from __future__ import annotations

import dataclasses

import click

from kiosk_app import create_app, migrate, runtime
from kiosk_app.charging import adapters
from kiosk_app.ocpi.simulator.demo import DemoCpo


@click.command()
@click.option("--host", help="Address to listen on (default: server.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port).")
def run(host: str | None, port: int | None) -> None:
    """Run the web service and the worker as configured."""
    app = create_app()
    cfg = app.config["KIOSK"].server
    engine = adapters.attach(app)
    runtime.serve(app, host or cfg.host, port or cfg.port, services=[engine])


@click.command()
@click.option("--host", help="Address to listen on (default: server.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port).")
def demo(host: str | None, port: int | None) -> None:
    """Run everything on embedded defaults: SQLite, simulators, one process."""
    migrate.upgrade(migrate.configured_url())
    app = create_app()
    cfg = app.config["KIOSK"].server
    host, port = host or cfg.host, port or cfg.port
    base = f"http://{host}:{port}"
    kiosk = app.config["KIOSK"]
    receipts = dataclasses.replace(kiosk.receipts, public_base_url=f"{base}/r/")
    app.config["KIOSK"] = dataclasses.replace(kiosk, receipts=receipts)
    # The terminal simulator of each `sim://` kiosk runs on a pty pair, driven over serial.
    engine = adapters.attach(app, pty=True)
    terminals = ", ".join(s.link_url for s in engine.simulators.started) or "none"
    banner = "\n".join(
        [
            "EV charging kiosk demo is running. Open:",
            f"  health         {base}/healthz",
            f"  readiness      {base}/readyz",
            *(f"  kiosk          {base}/kiosk/{k.id}/" for k in app.config["KIOSK"].kiosks),
            f"  back office    {base}/operator/  (first login: kiosk operator create-user NAME "
            "--role admin)",
            f"  OCPI versions  {base}/ocpi/versions  (CPO simulator registered)",
            f"  card terminal  simulator on {terminals}",
            "Press Ctrl-C to stop.",
        ]
    )
    runtime.serve(app, host, port, services=[DemoCpo(app, base), engine], banner=banner)
