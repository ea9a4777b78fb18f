"""The crash harness's victim: `kiosk worker` on the real adapters, which kills itself with
SIGKILL right after its Nth commit that recorded an engine step (a `charging_event` row) or
claimed or finished an effect intent (`charging_effect`),
N = $KIOSK_CRASH_AT (unset: never). Commits are counted with SQLAlchemy events; the engine
has no hook for this. A dead worker's CPO and receipt commands count as stale after 2 s here
(production: max(2 × lease_s, 60 s)), so recovery finishes them within the test."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk_app import config as config_module
from kiosk_app.charging.adapters import make_ports
from kiosk_app.charging.runner import Runner
from kiosk_app.charging.worker import Worker, worker_id
from kiosk_app.db import Database

STEPS = ("INSERT INTO CHARGING_EVENT", "UPDATE CHARGING_EFFECT")


def arm(engine: sa.Engine, crash_at: int) -> None:
    """SIGKILL this process right after the `crash_at`-th commit that recorded a step."""
    local = threading.local()
    steps = 0
    lock = threading.Lock()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(STEPS):
            local.step = True

    @sa.event.listens_for(engine, "rollback")
    def rolled_back(conn):  # type: ignore[no-untyped-def]
        local.step = False

    @sa.event.listens_for(Session, "after_commit")
    def committed(session):  # type: ignore[no-untyped-def]
        nonlocal steps
        if not getattr(local, "step", False):
            return
        local.step = False
        with lock:
            steps += 1
            if steps == crash_at:
                os.kill(os.getpid(), signal.SIGKILL)


def die_with_parent() -> None:
    """Exit when the test process is gone (killed by a timeout or by hand): an orphaned worker
    would go on driving a terminal and loading the machine."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    die_with_parent()
    config = config_module.load()
    database = Database(config.database.url)
    if os.environ.get("KIOSK_CRASH_AT"):
        arm(database.engine, int(os.environ["KIOSK_CRASH_AT"]))
    runner = Runner(
        database,
        make_ports(config, database),
        card_salt=config.secrets.card_hash_salt,
        worker_id=worker_id(),
    )
    worker = Worker(runner, [k.id for k in config.kiosks], config.charging)
    worker.stale_after = timedelta(seconds=2)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    worker.start()
    print("worker running", flush=True)
    stopped.wait()
    worker.stop()
    database.dispose()
    sys.exit(0)


if __name__ == "__main__":
    main()
