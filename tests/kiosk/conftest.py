"""Kiosk fixtures: a configured kiosk; the real engine with its port doubles for the view tests
(kiosk_cpo_park.py); the whole real stack of the browser journeys (kiosk_stack.py, one per test
module); a portrait kiosk screen in the shared browser (tests/browser_harness.py); the
status-to-screen delays measured on the way (kiosk_latency.py), printed in the summary."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from integration.live import Stack, running_stack
from kiosk_cpo_park import RealEngine, bind_engine, push_park, register_cpo
from kiosk_latency import PAGE_WEIGHTS, STATUS_DELAYS
from kiosk_pages import PORTRAIT
from kiosk_stack import (
    CHARGING,
    KIOSK_CONFIG,
    TERMINAL_SPEED,
    KioskRig,
    cpo_scenario,
    rig,
    stack_config,
)
from playwright.sync_api import Browser, Page

from kiosk_app.config import Config, KioskConfig, KioskUiConfig, OperatorConfig


@pytest.fixture
def backend() -> str:
    """The database of the kiosk tests: SQLite. The browser tests run once; the view tests on
    the real engine, which query the OCPI and engine tables, override this to add PostgreSQL
    (when KIOSK_TEST_DATABASE_URL is set)."""
    return "sqlite"


@pytest.fixture
def database_url(backend: str, template_databases: dict[str, str], tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "kiosk.sqlite3"
        shutil.copy(template_databases["sqlite"], path)
        yield f"sqlite:///{path}"
        return
    server = sa.make_url(os.environ["KIOSK_TEST_DATABASE_URL"])
    name = f"kiosk_k_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(
            f'CREATE DATABASE "{name}" TEMPLATE "{template_databases["postgresql"]}"'
        )
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def idle_timeout_s() -> int:
    return 60


@pytest.fixture
def config(config: Config, idle_timeout_s: int) -> Config:
    return dataclasses.replace(
        config,
        operator=dataclasses.replace(OperatorConfig(), help_phone="+49 30 1234567"),
        kiosks=[
            KioskConfig(
                id="park-1",
                name="Ladepark Musterstadt",
                terminal_link="sim://",
                default_language="de",
            )
        ],
        kiosk_ui=KioskUiConfig(idle_timeout_s=idle_timeout_s, poll_interval_ms=200),
    )


@pytest.fixture
def cpo_headers(app: Flask) -> dict[str, str]:
    """A registered CPO's headers for our OCPI receiver."""
    return register_cpo(app)


@pytest.fixture
def real_engine(app: Flask, client: FlaskClient, cpo_headers: dict[str, str]) -> RealEngine:
    """The CPO's park pushed through the OCPI receiver and the real engine bound to the app."""
    push_park(client, cpo_headers)
    return bind_engine(app, "park-1")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh portrait kiosk screen (no cookies, no cache)."""
    context = browser.new_context(viewport=PORTRAIT)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def kiosk_stack(
    template_databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The app, its worker and both simulators, shared by the tests of a module."""
    config = stack_config(template_databases["sqlite"], tmp_path_factory.mktemp("kiosk-stack"))
    with running_stack(
        config,
        charging_config=CHARGING,
        scenario=cpo_scenario(),
        terminal_speed=TERMINAL_SPEED,
        kiosk=KIOSK_CONFIG,
    ) as stack:
        yield stack


@pytest.fixture
def kiosk(kiosk_stack: Stack) -> Iterator[KioskRig]:
    """This test's use of the module's stack, cleaned up afterwards."""
    with rig(kiosk_stack) as this:
        yield this


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if PAGE_WEIGHTS:
        lightest, heaviest = (
            min(PAGE_WEIGHTS, key=lambda w: w[1]),
            max(PAGE_WEIGHTS, key=lambda w: w[1]),
        )
        terminalreporter.write_line(
            f"kiosk page weight with assets, cold cache: {lightest[1] / 1024:.1f} KB "
            f"({lightest[0]}) to {heaviest[1] / 1024:.1f} KB ({heaviest[0]}) (budget 150 KB)"
        )
    if not STATUS_DELAYS:
        return
    seconds = sorted(delay for _, delay in STATUS_DELAYS)
    worst = {}
    for what, delay in STATUS_DELAYS:
        worst[what] = max(delay, worst.get(what, 0.0))
    terminalreporter.write_line(
        f"kiosk status changes on screen: {len(seconds)} measured, median "
        f"{seconds[len(seconds) // 2]:.3f} s, 95th percentile "
        f"{seconds[int(len(seconds) * 0.95)]:.3f} s, worst {seconds[-1]:.3f} s (budget 1 s); "
        "worst per change: " + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(worst.items()))
    )
