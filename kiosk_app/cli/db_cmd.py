"""`kiosk db`: schema migrations (Alembic, scripts in `migrations/`)."""

from __future__ import annotations

import click

from kiosk_app import migrate


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Migrate the configured database to REVISION."""
    url = migrate.configured_url()
    migrate.upgrade(url, revision)
    click.echo(f"database at {migrate.current(url)}")


@db.command("current")
def current() -> None:
    """Print the database's current revision."""
    click.echo(migrate.current(migrate.configured_url()) or "empty")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    migrate.revision(migrate.configured_url(), message)
