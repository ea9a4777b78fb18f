"""Fixtures of the end-to-end tests: the running stack (see live.py) per test, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiosk_app.config import ChargingConfig, Config

from .live import TIMERS, Stack, running_stack


@pytest.fixture
def terminal_link() -> str:
    return "tcp://127.0.0.1:0"


@pytest.fixture
def charging_config() -> ChargingConfig:
    return TIMERS


@pytest.fixture
def terminal_speed() -> float:
    return 0  # the card terminal simulator answers at once


@pytest.fixture
def stack(
    config: Config, terminal_link: str, charging_config: ChargingConfig, terminal_speed: float
) -> Iterator[Stack]:
    with running_stack(
        config, terminal_link, charging_config, terminal_speed=terminal_speed
    ) as stack:
        yield stack
