"""`kiosk worker` runs on the real adapters by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from kiosk_app.db import Database
from kiosk_app.models.charging import TerminalLease
from payment_terminal.simulator import TerminalSimulator

KIOSK = str(Path(sys.executable).parent / "kiosk")


def test_worker_once_drives_the_configured_terminal(database_url, tmp_path):
    with TerminalSimulator("tcp://127.0.0.1:0", speed=0) as terminal:
        config = tmp_path / "worker.toml"
        config.write_text(
            f'[database]\nurl = "{database_url}"\n[secrets]\ncard_hash_salt = "salt"\n'
            f'[[kiosks]]\nid = "kiosk-9"\nname = "Nine"\nterminal_link = "{terminal.link_url}"\n'
        )
        env = {**os.environ, "KIOSK_CONFIG": str(config)}
        result = subprocess.run(
            [KIOSK, "worker", "--once"], env=env, capture_output=True, text=True, timeout=60
        )
        received = list(terminal.received)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # Recovery registered with the terminal and asked it for open pre-authorisations.
    assert received[:2] == ["06 00", "06 23"], received
    database = Database(database_url)
    with database.session() as session:
        assert session.scalar(sa.select(TerminalLease.kiosk_id)) == "kiosk-9"
    database.dispose()
