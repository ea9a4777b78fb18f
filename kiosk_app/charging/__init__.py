"""The charging transaction engine: a pure state machine (`machine`), the runner that persists
its steps and performs their effects through ports (`runner`, `ports`), the API for views and
the OCPI receiver (`service`), timers, recovery and the worker.

`init_app` binds the engine to a Flask app; the views reach it through `get_service()`.
"""

from __future__ import annotations

from flask import Flask, current_app

from kiosk_app.charging.ports import Ports
from kiosk_app.charging.runner import Runner
from kiosk_app.charging.service import ChargingService
from kiosk_app.charging.worker import Worker, worker_id

EXTENSION = "kiosk.charging"


def init_app(app: Flask, ports: Ports) -> Worker:
    """Attach the engine to `app`; return its worker, to run beside the web server (`kiosk run`)
    or not at all when `kiosk worker` runs separately."""
    config = app.config["KIOSK"]
    runner = Runner(
        app.extensions["kiosk.db"],
        ports,
        card_salt=config.secrets.card_hash_salt or app.secret_key,
        worker_id=worker_id(),
    )
    worker = Worker(runner, [k.id for k in config.kiosks], config.charging)
    app.extensions[EXTENSION] = ChargingService(runner, config, ports, worker.read_card)
    return worker


def get_service() -> ChargingService:
    """The engine of the current app."""
    return current_app.extensions[EXTENSION]
