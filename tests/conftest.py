"""Shared fixtures: a migrated database per test on SQLite, and on PostgreSQL too when
KIOSK_TEST_DATABASE_URL is set; the app, its test client and its CLI runner.

Each test gets a database of its own (a copy of a template migrated once per run), so tests may
commit, open several connections or start other processes against it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from kiosk_app import create_app, migrate
from kiosk_app.config import Config, DatabaseConfig, SecretsConfig, ServerConfig

# Real-browser fixtures (Chromium through Playwright, axe-core), shared by every browser suite.
pytest_plugins = ["browser_harness"]

PG_URL = os.environ.get("KIOSK_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def pytest_configure(config: pytest.Config) -> None:
    # Our own configuration layers must not leak into tests from the developer's shell.
    for name in [
        n for n in os.environ if n.startswith("KIOSK_") and n != "KIOSK_TEST_DATABASE_URL"
    ]:
        del os.environ[name]


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def template_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Per backend, a database migrated to head once per run."""
    templates = {}
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    templates["sqlite"] = str(path)
    pg_name = None
    if PG_URL:
        pg_name = f"kiosk_tpl_{uuid.uuid4().hex[:12]}"
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{pg_name}"')
        admin.dispose()
        migrate.upgrade(_pg_url(pg_name))
        templates["postgresql"] = pg_name
    yield templates
    if pg_name:
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, template_databases: dict[str, str], tmp_path: Path
) -> Iterator[str]:
    """A fresh, migrated database for this test alone."""
    if request.param == "sqlite":
        path = tmp_path / "kiosk.sqlite3"
        shutil.copy(template_databases["sqlite"], path)
        yield f"sqlite:///{path}"
        return
    name = f"kiosk_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(
            f'CREATE DATABASE "{name}" TEMPLATE "{template_databases["postgresql"]}"'
        )
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    """The built-in defaults, on this test's database and instance folder."""
    return dataclasses.replace(
        Config(),
        database=DatabaseConfig(url=database_url),
        secrets=SecretsConfig(secret_key="test-secret-key", card_hash_salt="test-salt"),
        server=ServerConfig(instance_path=str(tmp_path / "instance")),
    )


@pytest.fixture
def app(config: Config):  # type: ignore[no-untyped-def]
    app = create_app(config)
    app.testing = True
    yield app
    app.extensions["kiosk.db"].dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()
