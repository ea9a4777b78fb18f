"""The `kiosk_ui` configuration section."""

from __future__ import annotations

import pytest

from kiosk_app import config


def test_defaults():
    ui = config.load({}).kiosk_ui
    assert (ui.idle_timeout_s, ui.poll_interval_ms) == (60, 500)


def test_environment_overrides():
    env = {"KIOSK_KIOSK_UI_IDLE_TIMEOUT_S": "90", "KIOSK_KIOSK_UI_POLL_INTERVAL_MS": "250"}
    ui = config.load(env).kiosk_ui
    assert (ui.idle_timeout_s, ui.poll_interval_ms) == (90, 250)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IDLE_TIMEOUT_S", "0", "kiosk_ui.idle_timeout_s: 0; expected at least 1"),
        ("POLL_INTERVAL_MS", "5000", "kiosk_ui.poll_interval_ms: 5000; expected between"),
        ("IDLE_TIMEOUT_S", "soon", "kiosk_ui.idle_timeout_s: 'soon'; expected an integer"),
    ],
)
def test_bad_values_name_the_key(name, value, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load({f"KIOSK_KIOSK_UI_{name}": value})
