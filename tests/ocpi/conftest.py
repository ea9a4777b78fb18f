"""OCPI fixtures: our app served over real HTTP on loopback, an event recorder, the CPO
simulator, and a kiosk registered with it."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ocpi_peer import register_cpo
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from kiosk_app.config import Config, KioskConfig
from kiosk_app.db import after_commit
from kiosk_app.ocpi import events
from kiosk_app.ocpi.service import OcpiService
from kiosk_app.ocpi.simulator import CpoSimulator, Scenario

EXAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "ocpi-examples"
FAST = 6000.0  # simulated seconds per real second: a 15-minute session plays in 0.15 s


class Recorder:
    """Collects published events once their publisher has committed them; `wait_for` blocks
    until one matches."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, session: Session, event: Any) -> None:
        after_commit(session, lambda: self._seen(event))

    def _seen(self, event: Any) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, kind: type, **match: Any) -> list[Any]:
        with self._cond:
            return [
                e
                for e in self.events
                if isinstance(e, kind) and all(getattr(e, k) == v for k, v in match.items())
            ]

    def wait_for(self, kind: type, timeout: float = 10.0, **match: Any) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    e
                    for e in self.events
                    if isinstance(e, kind) and all(getattr(e, k) == v for k, v in match.items())
                ]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {kind.__name__} {match} in {self.events}")
                self._cond.wait(left)


@pytest.fixture
def config(config: Config) -> Config:
    """The test configuration plus one kiosk (a Payments Terminal for 2.3.0)."""
    kiosk = KioskConfig(id="kiosk-1", name="Demo", terminal_link="sim://", evses=["EVSE-1"])
    return dataclasses.replace(config, kiosks=[kiosk])


@pytest.fixture
def examples() -> Path:
    """The official OCPI JSON examples (shared reference data)."""
    return EXAMPLES


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    unsubscribe = events.subscribe(rec)
    yield rec
    unsubscribe()


@pytest.fixture
def cpo_headers(app: Any) -> dict[str, str]:
    """Headers of a registered CPO (BE/BEC) calling our receiver, Base64 token as in 2.2+."""
    return register_cpo(app.extensions["kiosk.db"], "cpo-token-c-for-tests", "BE", "BEC")


@dataclasses.dataclass
class LiveApp:
    app: Any
    url: str

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"


@pytest.fixture
def live_app(app: Any) -> Iterator[LiveApp]:
    """Our application on a real loopback port, its public OCPI URL pointing there."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    cfg = app.config["KIOSK"]
    ocpi = dataclasses.replace(cfg.ocpi, public_url=f"{url}/ocpi", read_timeout_s=5)
    app.config["KIOSK"] = dataclasses.replace(cfg, ocpi=ocpi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveApp(app, url)
    server.shutdown()
    thread.join(5)


@pytest.fixture
def service(live_app: LiveApp) -> Iterator[OcpiService]:
    svc = OcpiService(live_app.app.extensions["kiosk.db"], live_app.app.config["KIOSK"].ocpi)
    yield svc
    svc.client.close()


@pytest.fixture
def make_sim() -> Iterator[Callable[..., CpoSimulator]]:
    started: list[CpoSimulator] = []

    def make(**kw: Any) -> CpoSimulator:
        scenario = kw.pop("scenario", None) or Scenario(speed=FAST)
        sim = CpoSimulator(scenario=scenario, **kw)
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim: Callable[..., CpoSimulator]) -> CpoSimulator:
    return make_sim()


@pytest.fixture
def registered(sim: CpoSimulator, service: OcpiService) -> OcpiService:
    """The kiosk registered with the simulator and synced."""
    service.register(sim.versions_url, sim.token_a)
    service.sync()
    return service


# --- the extrawest-ocpi peer (a CPO we did not write) ---------------------------------------------

REPO = Path(__file__).resolve().parents[2]
EXTRAWEST_VENV = REPO / ".venv-extrawest"
EXTRAWEST_REQUIREMENTS = ["extrawest-ocpi==2025.7.16", "uvicorn>=0.23"]


def _extrawest_python() -> Path:
    """The peer's own virtualenv (it pins old pydantic/FastAPI), created once and cached."""
    python = EXTRAWEST_VENV / "bin" / "python"
    stamp = EXTRAWEST_VENV / ".installed"
    wanted = " ".join(EXTRAWEST_REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == wanted:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(EXTRAWEST_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *EXTRAWEST_REQUIREMENTS],
        check=True,
        timeout=600,
    )
    stamp.write_text(wanted)
    return python


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclasses.dataclass
class ExternalCpo:
    versions_url: str
    token_a: str


@pytest.fixture(scope="session")
def extrawest_cpo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExternalCpo]:
    """extrawest-ocpi serving OCPI 2.2.1 as a CPO on loopback, in its own process."""
    python = _extrawest_python()
    port, token_a = _free_port(), "extrawest-token-a"
    log = (tmp_path_factory.mktemp("extrawest") / "peer.log").open("w")
    process = subprocess.Popen(
        [
            str(python),
            str(Path(__file__).with_name("extrawest_peer.py")),
            str(port),
            token_a,
            str(EXAMPLES / "2.2.1-bugfixes"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/ocpi/versions"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.close()
                raise RuntimeError("extrawest peer did not start; see " + log.name) from None
            time.sleep(0.2)
    yield ExternalCpo(url, token_a)
    process.terminate()
    process.wait(10)
    log.close()
