"""`kiosk operator`: back-office accounts from the command line.

Passwords are prompted for (twice, hidden) or read from standard input with --password-stdin,
never taken as an argument: arguments end up in shell history and process listings.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk_app import db, migrate
from kiosk_app.models.operator import ROLES
from kiosk_app.operator import access


@click.group()
def operator() -> None:
    """Manage back-office users."""


@operator.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(username: str, role: str, password_stdin: bool) -> None:
    """Create the back-office user USERNAME."""
    password = _read_password(password_stdin)
    with _session() as session:
        actor = access.Actor.command_line()
        user = access.create_user(session, username, password, role, actor)
        session.commit()
        click.echo(f"created {user.role} {user.username}")


@operator.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def reset_password(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME; also lifts a lockout and ends their sessions."""
    with _session() as session:
        user = access.find_user(session, username)
        if user is None:
            raise click.BadParameter(f"no user named {username!r}", param_hint="USERNAME")
        password = _read_password(password_stdin)
        access.reset_password(session, user, password, access.Actor.command_line())
        session.commit()
        click.echo(f"password of {user.username} reset")


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the configured database; a refusal of the access rules becomes a one-line
    usage error (exit code 2)."""
    database = db.Database(migrate.configured_url())
    try:
        with database.session() as session:
            yield session
    except access.AccessError as exc:
        raise click.UsageError(str(exc)) from None
    except sa.exc.DBAPIError as exc:
        raise click.ClickException(
            f"database error: {exc.orig}; is the database reachable and migrated "
            "(kiosk db upgrade)?"
        ) from None
    finally:
        database.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: standard input gave no password")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)
