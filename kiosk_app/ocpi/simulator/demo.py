"""The CPO simulator as a background service of `kiosk demo`: started beside the web server
and registered with it (handshake, then a first sync) as soon as the server answers."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

import requests
from flask import Flask

from kiosk_app.ocpi.envelope import OcpiError
from kiosk_app.ocpi.service import OcpiService
from kiosk_app.ocpi.simulator.server import CpoSimulator

log = logging.getLogger(__name__)


class DemoCpo:
    """A runtime Service (name, start, stop)."""

    name = "cpo-simulator"

    def __init__(self, app: Flask, base_url: str, port: int = 0) -> None:
        self.app = app
        self.base_url = base_url
        self.sim = CpoSimulator(port=port)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        cfg = self.app.config["KIOSK"]
        ocpi = dataclasses.replace(cfg.ocpi, public_url=f"{self.base_url}/ocpi")
        self.app.config["KIOSK"] = dataclasses.replace(cfg, ocpi=ocpi)
        self.sim.start()
        self._thread = threading.Thread(target=self._register, daemon=True)
        self._thread.start()

    def _register(self) -> None:
        for _ in range(100):  # the web server starts right after the services
            try:
                requests.get(f"{self.base_url}/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        service = OcpiService(self.app.extensions["kiosk.db"], self.app.config["KIOSK"].ocpi)
        try:
            version = service.register(self.sim.versions_url, self.sim.token_a)
            report = service.sync()
        except OcpiError as exc:
            log.error("demo CPO registration failed: %s", exc.message)
            return
        finally:
            service.client.close()
        log.info(
            "demo CPO registered on OCPI %s: %d locations, %d tariffs",
            version,
            report.locations,
            report.tariffs,
        )

    def stop(self) -> None:
        self.sim.stop()
