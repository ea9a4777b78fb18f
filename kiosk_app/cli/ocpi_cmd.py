"""`kiosk ocpi …` (handshake, token A, sync) and `kiosk cpo-sim` (the CPO simulator)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from kiosk_app import config as config_module
from kiosk_app import db, migrate
from kiosk_app.ocpi import peers
from kiosk_app.ocpi.envelope import OcpiError
from kiosk_app.ocpi.schema import DateTime
from kiosk_app.ocpi.service import OcpiService


@contextmanager
def _service() -> Iterator[OcpiService]:
    cfg = config_module.load()
    database = db.Database(migrate.configured_url())
    service = OcpiService(database, cfg.ocpi)
    try:
        yield service
    finally:
        service.client.close()
        database.dispose()


@click.group()
def ocpi() -> None:
    """Connect to the charge point operator over OCPI."""


@ocpi.command()
@click.option("--versions-url", help="The CPO's versions URL (default: ocpi.versions_url).")
@click.option("--token", help="Token A the CPO issued (default: ocpi.token).")
def register(versions_url: str | None, token: str | None) -> None:
    """Register with a CPO: versions, credentials exchange, then a first sync."""
    with _service() as service:
        versions_url = versions_url or service.config.versions_url
        token = token or service.config.token
        if not versions_url:
            raise click.UsageError("--versions-url is required (or set ocpi.versions_url)")
        if not token:
            raise click.UsageError("--token is required (or set ocpi.token)")
        try:
            version = service.register(versions_url, token)
            report = service.sync()
        except OcpiError as exc:
            raise click.ClickException(f"registration failed: {exc.message}") from None
    click.echo(
        f"registered on OCPI {version}; {report.locations} locations, {report.tariffs} tariffs"
    )


@ocpi.command("issue-token")
def issue_token() -> None:
    """Create a token A for a CPO that will register with us (shown once, stored hashed)."""
    with _service() as service, service.database.session() as session:
        token = peers.issue_token(session, service.config.token_encoding)
        session.commit()
        click.echo(token)
        click.echo(f"versions URL: {service.config.public_url}/versions", err=True)


@ocpi.command()
@click.option("--since", help="Only objects changed since this RFC 3339 time.")
def sync(since: str | None) -> None:
    """Pull Locations and Tariffs from the registered CPO."""
    date_from: datetime | None = None
    if since:
        try:
            date_from = DateTime(since, "--since")
        except OcpiError as exc:
            raise click.BadParameter(exc.message, param_hint="--since") from None
    with _service() as service:
        try:
            report = service.sync(date_from)
        except OcpiError as exc:
            raise click.ClickException(f"sync failed: {exc.message}") from None
    click.echo(f"{report.locations} locations, {report.tariffs} tariffs")
    for problem in report.rejected:
        click.echo(f"rejected: {problem}", err=True)


@click.command("cpo-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=9090, show_default=True)
@click.option("--token", help="Token A to hand to the kiosk (default: random, printed).")
@click.option(
    "--fixture",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Charge park JSON (default: six EVSEs in Berlin).",
)
@click.option(
    "--speed",
    type=float,
    default=60.0,
    show_default=True,
    help="Simulated seconds per real second.",
)
def cpo_sim(host: str, port: int, token: str | None, fixture: Path | None, speed: float) -> None:
    """Run the CPO simulator (OCPI 2.2.1/2.3.0) until Ctrl-C."""
    from kiosk_app.ocpi.simulator import CpoSimulator, Scenario

    sim = CpoSimulator(host, port, token_a=token, fixture=fixture, scenario=Scenario(speed=speed))
    sim.start()
    click.echo(f"CPO simulator: versions {sim.versions_url}  token A {sim.token_a}")
    click.echo(f"scenario control: POST {sim.url.removesuffix('/ocpi')}/sim/control")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
