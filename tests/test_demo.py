"""`kiosk demo` (what `make run` starts) serves within 30 seconds and stops cleanly on Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

KIOSK = str(Path(sys.executable).parent / "kiosk")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, deadline: float) -> dict:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_demo_serves_health_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {**os.environ, "KIOSK_SERVER_INSTANCE_PATH": str(tmp_path / "instance")}
    proc = subprocess.Popen(
        [KIOSK, "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = time.monotonic()
        assert wait_for(f"http://127.0.0.1:{port}/healthz", started + 30) == {"status": "ok"}
        ready = wait_for(f"http://127.0.0.1:{port}/readyz", started + 30)
        # The terminal simulator answered on its pty and the CPO simulator registered.
        assert ready == {
            "status": "ready",
            "checks": {"database": "ok", "ocpi": "ok", "terminals": "ok"},
        }
        assert (tmp_path / "instance" / "kiosk.sqlite3").exists()  # migrated embedded database
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out
    assert "card terminal  simulator on /dev/pts/" in out
    assert out.rstrip().endswith("Stopped.")
    assert "Traceback" not in err
