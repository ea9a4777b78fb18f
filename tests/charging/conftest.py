"""An engine on this test's database (SQLite, and PostgreSQL when configured) with scripted
ports and a clock the test moves."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from kiosk_app.charging.ports import Ports
from kiosk_app.charging.runner import Runner
from kiosk_app.charging.service import ChargingService
from kiosk_app.config import Config, KioskConfig
from kiosk_app.db import Database

from .doubles import (
    FakeClock,
    FlatPricing,
    ScriptedCpo,
    ScriptedReceipts,
    ScriptedTerminal,
    StaticDirectory,
)


@dataclass
class Engine:
    database: Database
    config: Config
    clock: FakeClock
    terminal: ScriptedTerminal
    cpo: ScriptedCpo
    pricing: FlatPricing
    receipts: ScriptedReceipts
    ports: Ports
    runner: Runner
    service: ChargingService
    others: list[Database] = field(default_factory=list)

    def runner_for(self, worker_id: str) -> Runner:
        """A second process's runner: its own engine, the same database and peers."""
        database = Database(self.database.url)
        self.others.append(database)
        return Runner(
            database, self.ports, card_salt="test-salt", clock=self.clock, worker_id=worker_id
        )


@pytest.fixture
def engine_config(config: Config) -> Config:
    return dataclasses.replace(
        config,
        kiosks=[
            KioskConfig(id="kiosk-1", name="One", terminal_link="sim://"),
            KioskConfig(id="kiosk-2", name="Two", terminal_link="sim://"),
        ],
    )


@pytest.fixture
def engine(engine_config: Config) -> Iterator[Engine]:
    database = Database(engine_config.database.url)
    clock = FakeClock()
    terminal = ScriptedTerminal()
    ports = Ports(
        terminals={"kiosk-1": terminal, "kiosk-2": ScriptedTerminal()},
        cpo=ScriptedCpo(),
        pricing=FlatPricing(),
        directory=StaticDirectory(),
        receipts=ScriptedReceipts(),
    )
    runner = Runner(database, ports, card_salt="test-salt", clock=clock, worker_id="w1")
    service = ChargingService(runner, engine_config, ports)
    engine = Engine(
        database,
        engine_config,
        clock,
        terminal,
        ports.cpo,  # type: ignore[arg-type]
        ports.pricing,  # type: ignore[arg-type]
        ports.receipts,  # type: ignore[arg-type]
        ports,
        runner,
        service,
    )
    yield engine
    for other in engine.others:
        other.dispose()
    database.dispose()
