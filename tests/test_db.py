"""The database layer: SQLite settings, migrations, and the one-commit-per-request boundary."""

import sqlalchemy as sa
from flask import abort

from kiosk_app import db, migrate


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_migrations_reach_head(database_url):
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(migrate.SCRIPTS)).get_current_head()
    assert migrate.current(database_url) == head


def _notes(app) -> list[str]:
    with app.extensions["kiosk.db"].session() as session:
        return list(session.scalars(sa.text("SELECT body FROM notes ORDER BY body")))


def test_a_request_commits_once_on_success_and_rolls_back_on_error(app, client):
    with app.extensions["kiosk.db"].session() as session:
        session.execute(sa.text("CREATE TABLE notes (body VARCHAR(20))"))
        session.commit()

    @app.post("/notes/<body>")
    def add_note(body):
        db.session().execute(sa.text("INSERT INTO notes VALUES (:b)"), {"b": body})
        if body == "refused":
            abort(409)
        if body == "crash":
            raise RuntimeError("boom")
        return "", 204

    assert client.post("/notes/kept").status_code == 204
    assert client.post("/notes/refused").status_code == 409
    crashed = client.post("/notes/crash", headers={"Accept": "application/json"})
    assert crashed.status_code == 500
    assert "boom" not in crashed.get_data(as_text=True)  # no internals to the user
    assert crashed.get_json()["message"].startswith("Something went wrong. Reference: ")
    assert _notes(app) == ["kept"]


def test_a_reading_session_does_not_wait_for_a_writer_on_sqlite(tmp_path):
    database = db.Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with database.session() as setup:
        setup.execute(sa.text("CREATE TABLE t (n INTEGER)"))
        setup.execute(sa.text("INSERT INTO t VALUES (1)"))
        setup.commit()
    with database.session() as writer:
        writer.execute(sa.text("INSERT INTO t VALUES (2)"))  # holds SQLite's write lock
        # A write session would now wait (up to the 30 s busy timeout) for the lock; a
        # reading one reads the last committed state at once.
        with database.reading() as reader:
            assert reader.scalar(sa.text("SELECT count(*) FROM t")) == 1
        writer.commit()
    with database.reading() as reader:
        assert reader.scalar(sa.text("SELECT count(*) FROM t")) == 2
    database.dispose()
