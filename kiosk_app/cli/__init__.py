"""The `kiosk` command line: one group, one module per feature.

Usage errors print one line and exit with code 2; configuration errors likewise. A feature adds
its commands in a module of this package and registers them below.
"""

from __future__ import annotations

import sys

import click

from kiosk_app.cli import (
    config_cmd,
    db_cmd,
    ocpi_cmd,
    operator_cmd,
    receipts_cmd,
    serve_cmd,
    tariff_cmd,
    terminal_cmd,
    worker_cmd,
    zvt_cmd,
)
from kiosk_app.config import ConfigError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Direct card payment for EV charging: kiosk, card terminal, OCPI, receipts."""


cli.add_command(serve_cmd.run)
cli.add_command(serve_cmd.demo)
cli.add_command(db_cmd.db)
cli.add_command(config_cmd.config)
cli.add_command(tariff_cmd.tariff)
cli.add_command(receipts_cmd.receipts)
cli.add_command(operator_cmd.operator)
cli.add_command(worker_cmd.worker)
cli.add_command(zvt_cmd.zvt)
cli.add_command(terminal_cmd.terminal)
cli.add_command(terminal_cmd.terminal_sim)
cli.add_command(ocpi_cmd.ocpi)
cli.add_command(ocpi_cmd.cpo_sim)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `kiosk` console script."""
    try:
        code = cli.main(args=argv, prog_name="kiosk", standalone_mode=False)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "kiosk"
        # Click breaks some messages over lines (e.g. the choices of a missing option).
        message = " ".join(exc.format_message().split())
        click.echo(f"{command}: error: {message}", err=True)
        sys.exit(2)
    except ConfigError as exc:
        click.echo(f"kiosk: configuration error: {exc}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"kiosk: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("kiosk: aborted", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
