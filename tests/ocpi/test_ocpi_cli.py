"""`kiosk ocpi register|issue-token|sync` and `kiosk cpo-sim`, as an operator runs them."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from kiosk_app.cli import main
from kiosk_app.models.ocpi import OcpiPeer, OcpiTariff


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    return exit_.value.code


@pytest.fixture
def cli_env(monkeypatch, database_url, live_app):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    monkeypatch.setenv("KIOSK_OCPI_PUBLIC_URL", f"{live_app.url}/ocpi")
    return live_app


def test_register_and_sync(cli_env, sim, capsys):  # type: ignore[no-untyped-def]
    assert (
        run(["ocpi", "register", "--versions-url", sim.versions_url, "--token", sim.token_a]) == 0
    )
    assert "registered on OCPI 2.3.0; 1 locations, 2 tariffs" in capsys.readouterr().out
    assert run(["ocpi", "sync", "--since", "2020-01-01T00:00:00Z"]) == 0
    assert capsys.readouterr().out.strip() == "1 locations, 2 tariffs"
    with cli_env.app.extensions["kiosk.db"].session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(OcpiTariff)) == 2


def test_usage_errors_are_one_line_exit_2(cli_env, capsys):  # type: ignore[no-untyped-def]
    assert run(["ocpi", "register", "--token", "x"]) == 2
    assert capsys.readouterr().err.strip() == (
        "kiosk ocpi register: error: --versions-url is required (or set ocpi.versions_url)"
    )
    assert run(["ocpi", "sync", "--since", "yesterday"]) == 2
    assert "--since" in capsys.readouterr().err


def test_issue_token_is_stored_hashed(cli_env, capsys):  # type: ignore[no-untyped-def]
    assert run(["ocpi", "issue-token"]) == 0
    token = capsys.readouterr().out.strip()
    with cli_env.app.extensions["kiosk.db"].session() as db:
        peer = db.scalar(sa.select(OcpiPeer))
        assert peer.status == "pending" and token not in peer.incoming_token_hash
    headers = {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}
    assert requests.get(f"{cli_env.url}/ocpi/versions", headers=headers, timeout=5).ok


def test_cpo_sim_command_serves_ocpi(tmp_path: Path) -> None:
    kiosk = Path(sys.executable).with_name("kiosk")
    process = subprocess.Popen(
        [str(kiosk), "cpo-sim", "--port", "0", "--token", "sim-token"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        versions_url = re.search(r"(http://\S+/versions)", line).group(1)  # type: ignore[union-attr]
        headers = {"Authorization": "Token " + base64.b64encode(b"sim-token").decode()}
        answer = requests.get(versions_url, headers=headers, timeout=5).json()
        assert [v["version"] for v in answer["data"]] == ["2.2.1", "2.3.0"]
        assert requests.get(versions_url, timeout=5).status_code == 401
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()  # type: ignore[union-attr]
