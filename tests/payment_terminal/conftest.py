"""Fixtures for the ZVT tests: the reference vectors and simulators on real transports."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from payment_terminal.ecr import Terminal
from payment_terminal.profile import TerminalProfile
from payment_terminal.protocol.timers import Timers
from payment_terminal.simulator import TerminalSimulator

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"

# Short timers keep failure paths quick; T2 must stay above a pty round trip.
FAST = Timers(t1=0.2, t2=0.5, t3=1.0, t4=3.0, repeats=2)


@pytest.fixture(scope="session")
def vectors() -> list[dict]:
    return json.loads((REFERENCE / "zvt" / "vectors.json").read_text())


@pytest.fixture
def make_terminal() -> Callable[..., Terminal]:
    """Terminal(sim.link_url) with fast timers; profile fields as keyword arguments."""

    def make(sim: TerminalSimulator, updates: list | None = None, **profile: object) -> Terminal:
        on_status = updates.append if updates is not None else None
        settings = TerminalProfile(timers=FAST, **profile)  # type: ignore[arg-type]
        return Terminal(sim.link_url, settings, on_status=on_status)

    return make


def _running(link: str) -> Iterator[TerminalSimulator]:
    sim = TerminalSimulator(link, speed=0, timers=FAST)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(params=["pty", "tcp"])
def simulator(request: pytest.FixtureRequest) -> Iterator[TerminalSimulator]:
    """A simulator at speed 0 on a real pty pair (9600 baud) or on loopback TCP."""
    yield from _running("pty" if request.param == "pty" else "tcp://127.0.0.1:0")


@pytest.fixture
def pty_simulator() -> Iterator[TerminalSimulator]:
    yield from _running("pty")


@pytest.fixture
def tcp_simulator() -> Iterator[TerminalSimulator]:
    yield from _running("tcp://127.0.0.1:0")
