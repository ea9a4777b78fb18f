"""Fixtures of the back-office tests: operator accounts, a login helper, CSRF tokens."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from argon2 import PasswordHasher
from charging.doubles import (
    FakeClock,
    FlatPricing,
    ScriptedCpo,
    ScriptedReceipts,
    ScriptedTerminal,
    StaticDirectory,
    charge_once,
)
from operator_helpers import MAX_FAILED, PASSWORD, login

from kiosk_app.charging import EXTENSION as CHARGING
from kiosk_app.charging.ports import Ports
from kiosk_app.charging.runner import Runner
from kiosk_app.charging.service import ChargingService
from kiosk_app.config import Config, KioskConfig, OperatorUiConfig
from kiosk_app.models.operator import OperatorUser
from kiosk_app.operator import access

# The application's own hasher, kept before the fixture below swaps it.
PRODUCTION_HASHER = access._hasher
# Still argon2id, at a cost that lets the suite log in hundreds of times in seconds.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "_hasher", FAST_HASHER)


@pytest.fixture
def production_hashing(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """The real parameters, for the tests of the parameters themselves."""
    monkeypatch.setattr(access, "_hasher", PRODUCTION_HASHER)
    return PRODUCTION_HASHER


@pytest.fixture
def config(config: Config) -> Config:
    """The defaults with a short lockout threshold (lockout tests stay quick), two kiosks."""
    ui = OperatorUiConfig(session_idle_minutes=30, max_failed_logins=MAX_FAILED, lockout_minutes=15)
    kiosks = [
        KioskConfig(id="kiosk-1", name="One", terminal_link="sim://"),
        KioskConfig(id="kiosk-2", name="Two", terminal_link="sim://"),
    ]
    return dataclasses.replace(config, operator_ui=ui, kiosks=kiosks)


@pytest.fixture(scope="session")
def password_hash() -> str:
    # Hashed once: fixture accounts need no salt of their own.
    return FAST_HASHER.hash(PASSWORD)


@pytest.fixture
def make_user(app, password_hash: str) -> Callable[..., OperatorUser]:  # type: ignore[no-untyped-def]
    """Create an account with PASSWORD directly in the database (no audit entry)."""

    def make(username: str, role: str = "viewer", active: bool = True) -> OperatorUser:
        with app.extensions["kiosk.db"].session() as session:
            user = OperatorUser(
                username=username, password_hash=password_hash, role=role, active=active
            )
            session.add(user)
            session.commit()
            return user

    return make


@pytest.fixture
def admin(make_user) -> OperatorUser:  # type: ignore[no-untyped-def]
    return make_user("alice", "admin")


@pytest.fixture
def viewer(make_user) -> OperatorUser:  # type: ignore[no-untyped-def]
    return make_user("victor", "viewer")


@pytest.fixture
def admin_client(app, admin):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, admin.username).status_code == 302
    return client


@pytest.fixture
def viewer_client(app, viewer):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, viewer.username).status_code == 302
    return client


@dataclasses.dataclass
class BackOffice:
    """The app with the real engine bound, on scripted ports (tests/charging/doubles.py)."""

    app: Any
    clock: FakeClock
    terminal: ScriptedTerminal
    cpo: ScriptedCpo
    pricing: FlatPricing
    runner: Runner
    service: ChargingService

    def settle(self, _ref: str = "", _state: object = None) -> None:
        """Let the engine perform everything it has asked for (what the worker does)."""
        self.runner.drain()

    def charge(self, evse: str = "EVSE-1", total: str = "3.20", kiosk: str = "kiosk-1") -> str:
        """A whole charge, settled with a receipt; its reference."""
        return charge_once(self.service, kiosk, evse, self.settle, total)

    def charging(self, evse: str = "EVSE-2", kiosk: str = "kiosk-1") -> str:
        """A charge in progress: the hold is on the card, the session ACTIVE."""
        ref = self.service.select_evse(kiosk, evse, "en")
        self.service.pay(ref)
        self.settle()
        self.service.on_command_result(ref, "START_SESSION", "ACCEPTED")
        self.service.on_session(ref, "S-" + evse, "ACTIVE", Decimal(1), Decimal("0.40"))
        return ref


@pytest.fixture
def backoffice(app) -> BackOffice:  # type: ignore[no-untyped-def]
    """The engine inside the app, as `kiosk run` binds it, with a clock the test moves."""
    clock = FakeClock()
    terminal = ScriptedTerminal()
    ports = Ports(
        terminals={"kiosk-1": terminal, "kiosk-2": ScriptedTerminal()},
        cpo=ScriptedCpo(),
        pricing=FlatPricing(),
        directory=StaticDirectory(),
        receipts=ScriptedReceipts(),
    )
    runner = Runner(
        app.extensions["kiosk.db"], ports, card_salt="test-salt", clock=clock, worker_id="w1"
    )
    service = ChargingService(runner, app.config["KIOSK"], ports)
    app.extensions[CHARGING] = service
    return BackOffice(app, clock, terminal, ports.cpo, ports.pricing, runner, service)  # type: ignore[arg-type]
