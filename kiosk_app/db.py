"""Database: engine, sessions, and the Flask binding.

One session per request, committed once when the view succeeded and rolled back otherwise
(the Indico boundary): services and models only flush. Code outside a request (the worker, the
CLI) opens `database.session()` and commits once per engine step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from flask import Flask, Response, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model. Timestamps are always timezone-aware (UTC)."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: sa.DateTime(timezone=True)}


# Execution option marking the connections of `Database.reading` sessions.
READ_ONLY = "kiosk_read_only"
# The open session this thread's reads go through instead of the pool (`Database.reads_through`).
_reads_through: ContextVar[Session | None] = ContextVar("kiosk_reads_through", default=None)


def sqlite_url(instance_path: str | Path) -> str:
    """The embedded default: a file in the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'kiosk.sqlite3'}"


def make_engine(url: str, echo: bool = False) -> Engine:
    """An engine for `url`; on SQLite with WAL, foreign keys, and write-locking transactions."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, echo=echo, pool_pre_ping=True)
    engine = sa.create_engine(url, echo=echo, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
        # writes fails at once (SQLITE_BUSY_SNAPSHOT) when another writer got in between,
        # which would turn two concurrent receipt numberings into an error instead of a wait.
        # A session that only reads (`Database.reading`) needs no lock: with WAL it reads the
        # last committed state while a writer works, instead of queueing behind it.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


class Database:
    """An engine and its session factories."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._read_engine = self.engine.execution_options(**{READ_ONLY: True})
        self._reader = sessionmaker(self._read_engine, expire_on_commit=False)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only (never commit through it): on SQLite it takes no write
        lock, so looking for work or showing a status does not hold up the engine's writes.
        Inside `reads_through(session)`: that session."""
        within = _reads_through.get()
        if within is not None:
            yield within
            return
        with self._reader() as session:
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[sa.Connection]:
        """A Core connection for reads only, as `reading` but without an ORM session: for the
        worker's look for work, asked several times per transaction. Inside
        `reads_through(session)`: that session's connection."""
        within = _reads_through.get()
        if within is not None:
            yield within.connection()
            return
        with self._read_engine.connect() as connection:
            yield connection

    @contextmanager
    def reads_through(self, session: Session) -> Iterator[None]:
        """Within this block, this thread's reads go through `session`, which is writing. A
        thread that holds a connection (on SQLite, the write lock) must not wait for a second
        one: the threads queued behind its lock may hold every other connection of the pool."""
        token = _reads_through.set(session)
        try:
            yield
        finally:
            _reads_through.reset(token)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for code outside a request; the caller commits."""
        with self.sessionmaker() as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` when `session` next commits: e.g. wake a thread that is to find what the
    transaction recorded only once it can see it."""
    event.listen(session, "after_commit", lambda _session: action(), once=True)


def init_app(app: Flask, database: Database) -> None:
    app.extensions["kiosk.db"] = database
    app.after_request(_commit)
    app.teardown_appcontext(_close)


def get_database() -> Database:
    return current_app.extensions["kiosk.db"]


def session() -> Session:
    """The current request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = get_database().sessionmaker()
    return g.db_session


def _commit(response: Response) -> Response:
    db_session = g.get("db_session")
    if db_session is not None and response.status_code < 400:
        db_session.commit()
    return response


def _close(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.rollback()
        db_session.close()
