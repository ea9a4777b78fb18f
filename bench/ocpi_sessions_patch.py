"""Benchmark: OCPI Sessions PATCH ingestion through the whole stack (token check, validation,
merge, persistence, event) under gunicorn with two workers on loopback, against a bare
Flask + SQLAlchemy upsert endpoint served the same way in the same run.

    .venv/bin/python -m bench.ocpi_sessions_patch [--requests 2000] [--threads 4]

Database: KIOSK_BENCH_DATABASE_URL (e.g. PostgreSQL), else a fresh SQLite file. Prints
throughput and p50/p99 latency for both and the throughput ratio.
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from kiosk_app import migrate
from kiosk_app.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from ocpi_peer import register_cpo

TOKEN = "bench-cpo-token"
ROUNDS = 8
SESSION = {
    "country_code": "BE",
    "party_id": "BEC",
    "id": "S1",
    "start_date_time": "2026-01-01T10:00:00Z",
    "kwh": 0,
    "cdr_token": {
        "country_code": "DE",
        "party_id": "KSK",
        "uid": "T1",
        "type": "AD_HOC_USER",
        "contract_id": "C1",
    },
    "auth_method": "COMMAND",
    "authorization_reference": "TX-1",
    "location_id": "L1",
    "evse_uid": "E1",
    "connector_id": "1",
    "currency": "EUR",
    "status": "ACTIVE",
    "last_updated": "2026-01-01T10:00:00Z",
}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(factory: str, url: str) -> tuple[subprocess.Popen, str]:
    port = _port()
    env = os.environ | {"KIOSK_DATABASE_URL": url, "KIOSK_LOGGING_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            f"bench.ocpi_apps:{factory}()",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(f"{base}/healthz", timeout=0.5)
            return process, base
        except requests.RequestException:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"gunicorn {factory} did not start")


def _prepare(url: str) -> None:
    migrate.upgrade(url)
    database = Database(url)
    register_cpo(database, TOKEN, "BE", "BEC")
    with database.engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS bench_bare_session "
                "(id VARCHAR(36) PRIMARY KEY, kwh NUMERIC(14,4), doc JSON)"
            )
        )
    database.dispose()


def _load(url: str, headers: dict[str, str], total: int, threads: int, sessions: int):  # type: ignore[no-untyped-def]
    """PATCH `total` times over `sessions` session ids from `threads` clients; latencies in s."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = total // threads

    def worker(n: int) -> None:
        http = requests.Session()
        mine = []
        for i in range(per_thread):
            session_id = f"S{(n * per_thread + i) % sessions}"
            body = {
                "kwh": i / 10,
                "total_cost": {"excl_vat": i / 100, "incl_vat": i / 84},
                "last_updated": "2026-01-01T10:05:00Z",
            }
            started = time.perf_counter()
            response = http.patch(url.format(id=session_id), json=body, headers=headers, timeout=10)
            mine.append(time.perf_counter() - started)
            if response.status_code != 200 or response.json()["status_code"] != 1000:
                raise RuntimeError(f"{response.status_code} {response.text[:200]}")
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, time.perf_counter() - started


def _figures(name: str, latencies: list[float], elapsed: float) -> float:
    ordered = sorted(latencies)
    rate = len(ordered) / elapsed
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(f"{name:<10} {rate:8.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="ocpi-bench-")
    url = os.environ.get("KIOSK_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    _prepare(url)
    kiosk, kiosk_base = _serve("kiosk_app", url)
    bare, bare_base = _serve("bare_app", url)
    auth = {"Authorization": "Token " + base64.b64encode(TOKEN.encode()).decode()}
    try:
        http = requests.Session()
        for n in range(args.sessions):  # the CPO PUTs each session once, then PATCHes it
            body = SESSION | {"id": f"S{n}"}
            http.put(f"{kiosk_base}/ocpi/emsp/2.2.1/sessions/BE/BEC/S{n}", json=body, headers=auth)
            http.patch(f"{bare_base}/bare/S{n}", json=body)
        kiosk_url = kiosk_base + "/ocpi/emsp/2.2.1/sessions/BE/BEC/{id}"
        bare_url = bare_base + "/bare/{id}"
        _load(kiosk_url, auth, 200, args.threads, args.sessions)  # warm-up
        _load(bare_url, {}, 200, args.threads, args.sessions)
        results: dict[str, tuple[list[float], float]] = {"kiosk": ([], 0.0), "bare": ([], 0.0)}
        pair = [("bare", bare_url, {}), ("kiosk", kiosk_url, auth)]
        for _ in range(ROUNDS):  # short interleaved rounds, each pair in turn order, so the
            for name, target, headers in pair:  # machine's drift hits both alike
                lat, elapsed = _load(
                    target, headers, args.requests // ROUNDS, args.threads, args.sessions
                )
                results[name] = (results[name][0] + lat, results[name][1] + elapsed)
            pair.reverse()
        print(
            f"OCPI Sessions PATCH, gunicorn -w 2, {args.threads} client threads, "
            f"{args.requests} requests each, database {url.split(':')[0]}"
        )
        bare_rate = _figures("bare", *results["bare"])
        kiosk_rate = _figures("kiosk", *results["kiosk"])
        print(f"ratio kiosk/bare throughput: {kiosk_rate / bare_rate:.2f}")
    finally:
        for process in (kiosk, bare):
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
