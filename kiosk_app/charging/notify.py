"""Wake-ups across processes on PostgreSQL: LISTEN/NOTIFY.

In production the web tier (gunicorn) and `kiosk worker` are separate processes. Without this,
the web tier's commits (a driver's "pay", a CDR that calls for a capture) reach the worker only
on its poll, `poll_interval_ms` later, at every such hop. The web tier notifies on `CHANNEL`
once it has committed intents; each running worker listens and wakes the loops the work is for.
The poll stays as the fallback: for a notification lost while the listener reconnects, and on
SQLite, which has no notifications (there, one process runs everything: `kiosk run`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
import sqlalchemy as sa
from psycopg import sql

from kiosk_app.charging.runner import Targets
from kiosk_app.db import Database

log = logging.getLogger(__name__)

CHANNEL = "kiosk_charging_work"
RECONNECT_S = 1.0  # after a lost listening connection
# How often the listener looks up from its wait to see whether the worker stops (no query).
STOP_CHECK_S = 0.2


def encode(targets: Targets) -> str:
    """`targets` as a notification payload: `route:kiosk` pairs, `;`-separated."""
    return ";".join(sorted(f"{route}:{kiosk}" for route, kiosk in targets))


def decode(payload: str) -> Targets:
    """The targets of a payload; an unreadable pair is left out (the poll finds its work)."""
    pairs = (item.partition(":") for item in payload.split(";"))
    return {(route, kiosk) for route, colon, kiosk in pairs if colon and route and kiosk}


def supported(database: Database) -> bool:
    """Whether `database` has notifications (PostgreSQL)."""
    return database.engine.dialect.name == "postgresql"


class Notifier:
    """`Runner.on_intent` of a process without a worker: tell the workers, after the commit."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def __call__(self, targets: Targets) -> None:
        try:
            with self.database.engine.connect() as connection:
                connection.execute(sa.select(sa.func.pg_notify(CHANNEL, encode(targets))))
                connection.commit()
        except sa.exc.DBAPIError as exc:  # the work is committed; the workers' poll finds it
            log.warning("workers not notified of %s: %s", encode(targets), exc)


class Listener:
    """A thread that listens on `CHANNEL` and calls `wake` with each notification's targets,
    until `stopped` is set."""

    def __init__(
        self, database: Database, wake: Callable[[Targets | None], None], stopped: threading.Event
    ) -> None:
        url = database.engine.url.set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.wake = wake
        self.stopped = stopped
        self.thread = threading.Thread(target=self._run, name="charging-listener", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                self._listen()
            except psycopg.Error as exc:
                log.warning("listening for work failed (%s); the poll covers meanwhile", exc)
                self.stopped.wait(RECONNECT_S)

    def _listen(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
            # What was notified while nobody listened: every loop looks once.
            self.wake(None)
            while not self.stopped.is_set():
                for notification in connection.notifies(timeout=STOP_CHECK_S):
                    self.wake(decode(notification.payload))
