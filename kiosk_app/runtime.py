"""Running the service: the web server and the background services beside it in one process.

A background service (the worker, a simulator) has `name`, `start()` and `stop()`. They start in
order before the server accepts requests and stop in reverse order on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence
from typing import Protocol

from flask import Flask
from waitress.server import create_server

log = logging.getLogger(__name__)


class Service(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


def serve(
    app: Flask, host: str, port: int, services: Sequence[Service] = (), banner: str = ""
) -> None:
    """Serve `app` until interrupted, with `services` running beside it."""
    started: list[Service] = []
    server = create_server(app, host=host, port=port, threads=8)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for service in services:
            service.start()
            started.append(service)
            log.info("started %s", service.name)
        print(banner or f"Serving on http://{host}:{server.effective_port}/", flush=True)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        for service in reversed(started):
            service.stop()
        app.extensions["kiosk.db"].dispose()
        print("Stopped.", flush=True)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
