"""Alembic, driven from code so that `kiosk db upgrade` needs no alembic.ini."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext

from kiosk_app import config as config_module
from kiosk_app import db
from kiosk_app.config import REPO_ROOT

SCRIPTS = REPO_ROOT / "migrations"


def configured_url() -> str:
    """The database URL of the effective configuration (default: SQLite in the instance folder)."""
    cfg = config_module.load()
    if cfg.database.url:
        return cfg.database.url
    cfg.server.instance.mkdir(parents=True, exist_ok=True)
    return db.sqlite_url(cfg.server.instance)


def _alembic(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(_alembic(url), revision)


def revision(url: str, message: str) -> None:
    command.revision(_alembic(url), message=message, autogenerate=True)


def current(url: str) -> str | None:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
