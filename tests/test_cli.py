"""The `kiosk` console script as a user runs it: a real process, real exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

KIOSK = str(Path(sys.executable).parent / "kiosk")


def kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KIOSK, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_the_commands():
    result = kiosk("--help")
    assert result.returncode == 0
    for command in ("run", "demo", "db", "config"):
        assert f"  {command} " in result.stdout


def test_unknown_command_is_one_line_and_exit_code_2():
    result = kiosk("frobnicate")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["kiosk: error: No such command 'frobnicate'."]


def test_bad_option_value_is_one_line_and_exit_code_2():
    result = kiosk("run", "--port", "99999")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "--port" in line and "99999" in line


def test_bad_config_stops_start_up_with_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[terminal]\nholdd = 1\n")
    result = kiosk("run", env={"KIOSK_CONFIG": str(bad)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kiosk: configuration error: unknown key terminal.holdd; known keys: capture_style, "
        "currency, default_hold, maximum_hold, password, receipts, release_fallback_reversal, tlv"
    ]


def test_config_show_masks_secrets():
    result = kiosk(
        "config",
        "show",
        env={"KIOSK_SECRETS_SECRET_KEY": "top-secret-value", "KIOSK_OCPI_TOKEN": "tok"},
    )
    assert result.returncode == 0
    shown = json.loads(result.stdout)
    assert shown["secrets"]["secret_key"] == "********"
    assert shown["ocpi"]["token"] == "********"
    assert "top-secret-value" not in result.stdout


def test_db_upgrade_migrates_the_configured_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'k.sqlite3'}"
    result = kiosk("db", "upgrade", env={"KIOSK_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    current = kiosk("db", "current", env={"KIOSK_DATABASE_URL": url}).stdout.strip()
    assert current != "empty"
    assert result.stdout.strip() == f"database at {current}"
