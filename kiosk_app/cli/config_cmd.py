"""`kiosk config`: inspect the effective configuration."""

from __future__ import annotations

import json

import click

from kiosk_app import config as config_module


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
def show() -> None:
    """Print the effective configuration as JSON, secrets masked."""
    effective = config_module.load()
    click.echo(json.dumps(config_module.as_dict(effective), indent=2, ensure_ascii=False))
