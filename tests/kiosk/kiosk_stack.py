"""The kiosk on the whole real stack, for the browser journeys: the app served on a loopback port
with the engine's worker running, the ZVT terminal simulator over loopback TCP, the CPO
simulator over loopback HTTP (tests/integration/live.py `running_stack`), one stack per test
module. `KioskRig` is what a test uses: the stack, its paces, and the clean-up that keeps the
tests of a module independent.

Paces: the terminal answers at a real terminal's pace (card 1 s, PIN 1.5 s, host 1 s), so each
prompt is on screen long enough to be seen; the CPO plays 60 simulated seconds per real second,
a Session tick (2 simulated minutes of charging) every 2 s for 30 s, until the driver stops.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from integration.live import TIMERS, Stack

from kiosk_app.charging.states import FINAL, SESSION_LIVE, State
from kiosk_app.config import (
    Config,
    DatabaseConfig,
    KioskConfig,
    KioskUiConfig,
    OperatorConfig,
    SecretsConfig,
    ServerConfig,
)
from kiosk_app.models.charging import ChargingTransaction
from kiosk_app.ocpi.simulator.server import Scenario
from payment_terminal.simulator.cards import DEFAULT_CARD

KIOSK_ID = "park-1"
KIOSK_CONFIG = KioskConfig(
    id=KIOSK_ID, name="Ladepark Musterstadt", terminal_link="", default_language="de"
)
TERMINAL_SPEED = 1.0
CPO_PACE = {"speed": 60.0, "ticks": 15, "tick_minutes": 2}
# The engine's short test timers, with a plug-in window the first Session tick (2 s) fits in.
CHARGING = dataclasses.replace(TIMERS, plugin_window_s=30)
HELP_PHONE = "+49 30 1234567"


def stack_config(template: str, folder: Path) -> Config:
    """The kiosk's configuration on a copy of the migrated SQLite template in `folder`."""
    database = folder / "kiosk.sqlite3"
    shutil.copy(template, database)
    return dataclasses.replace(
        Config(),
        database=DatabaseConfig(url=f"sqlite:///{database}"),
        secrets=SecretsConfig(secret_key="test-secret-key", card_hash_salt="test-salt"),
        server=ServerConfig(instance_path=str(folder / "instance")),
        operator=dataclasses.replace(OperatorConfig(), help_phone=HELP_PHONE),
        kiosk_ui=KioskUiConfig(),  # the production poll interval: the budget is measured on it
    )


def cpo_scenario() -> Scenario:
    return Scenario(**CPO_PACE)  # type: ignore[arg-type]


class KioskRig:
    """One test's view of the module's stack."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.url = stack.url
        self.base = f"{stack.url}/kiosk/{KIOSK_ID}"
        self._config = stack.app.config["KIOSK"]
        self._service_config = stack.service.config

    def kiosk_ui(self, **changes: int) -> None:
        """Change the screen's settings (idle timeout, poll interval) for this test."""
        config = self.stack.app.config["KIOSK"]
        ui = dataclasses.replace(config.kiosk_ui, **changes)
        self.stack.app.config["KIOSK"] = dataclasses.replace(config, kiosk_ui=ui)

    def charging(self, **changes: int) -> None:
        """Change the engine's policy for the transactions opened from now on in this test."""
        config = self.stack.service.config
        policy = dataclasses.replace(config.charging, **changes)
        self.stack.service.config = dataclasses.replace(config, charging=policy)

    def open_references(self) -> list[str]:
        with self.stack.app.extensions["kiosk.db"].session() as session:
            return list(
                session.scalars(
                    sa.select(ChargingTransaction.reference).where(
                        ChargingTransaction.state.not_in([str(s) for s in FINAL])
                    )
                )
            )

    def clean_up(self) -> None:
        """Put the stack back as the next test expects it: every transaction ended and settled,
        the simulators at their default pace and scenario, the app's settings restored."""
        self.stack.app.config["KIOSK"] = self._config
        self.stack.service.config = self._service_config
        self.stack.cpo.configure(**dataclasses.asdict(cpo_scenario()))
        self.stack.terminal.speed = 0  # whatever is still running on the terminal ends at once
        self.stack.terminal.present_card(DEFAULT_CARD)
        for reference in self.open_references():
            state = self.stack.tx(reference).state
            if state in SESSION_LIVE:
                self.stack.service.stop(reference)
            elif state in (State.SELECTED, State.AUTHORISING):
                self.stack.service.cancel(reference)
        for reference in self.open_references():
            self.stack.settled(reference, timeout=30)
        self.stack.terminal.speed = TERMINAL_SPEED


@contextlib.contextmanager
def rig(stack: Stack) -> Iterator[KioskRig]:
    kiosk = KioskRig(stack)
    try:
        yield kiosk
    finally:
        kiosk.clean_up()
