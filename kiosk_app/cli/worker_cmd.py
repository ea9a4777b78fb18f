"""`kiosk worker`: the charging engine's worker on its own, for production beside the web tier."""

from __future__ import annotations

import contextlib
import importlib
import signal
import threading
from collections.abc import Callable

import click

from kiosk_app import config as config_module
from kiosk_app import db, log, migrate
from kiosk_app.charging.ports import Ports
from kiosk_app.charging.runner import Runner
from kiosk_app.charging.worker import Worker, worker_id
from kiosk_app.config import Config

DEFAULT_PORTS = "kiosk_app.charging.adapters:make_ports"


def _ports_factory(spec: str) -> Callable[[Config], Ports]:
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute or "make_ports")
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot load {spec!r}: {exc}", param_hint="--ports") from None
    return factory


@click.command()
@click.option(
    "--ports",
    "ports_spec",
    default=DEFAULT_PORTS,
    show_default=True,
    help="module:function building the terminal, CPO, pricing and receipt adapters.",
)
@click.option("--once", is_flag=True, help="Run recovery and one round of work, then exit.")
def worker(ports_spec: str, once: bool) -> None:
    """Run the charging worker: terminals, timers, CPO commands, recovery."""
    config = config_module.load()
    log.configure(config.logging.level, config.logging.json, config.secret_values())
    factory = _ports_factory(ports_spec)
    database = db.Database(config.database.url or migrate.configured_url())
    runner = Runner(
        database, factory(config), card_salt=config.secrets.card_hash_salt, worker_id=worker_id()
    )
    service = Worker(runner, [k.id for k in config.kiosks], config.charging)
    try:
        if once:
            service.run_once()
            return
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        service.start()
        click.echo(f"worker {runner.worker_id} running; Ctrl-C to stop", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
        service.stop()
    finally:
        database.dispose()
