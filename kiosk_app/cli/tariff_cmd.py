"""`kiosk tariff`: price a CDR with OCPI tariffs, and show a tariff's price text to drivers.

A tariff or CDR that cannot be priced is a usage error: one line naming the file, the element
and the field, exit code 2.
"""

from __future__ import annotations

import dataclasses
import json
import zoneinfo
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from kiosk_app.ocpi.pricing import (
    LANGUAGES,
    ROUNDING_MODES,
    PricingInputError,
    Tariff,
    describe,
    describe_text,
    parse_cdr,
    parse_tariff,
    price_cdr,
)


def _load(path: Path, option: str) -> Any:
    """A JSON document with exact numbers, unwrapped from an OCPI response envelope."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise click.BadParameter(f"{path}: {exc.strerror}", param_hint=option) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"{path}: not valid JSON ({exc})", param_hint=option) from None
    # A saved OCPI response: the object is in the envelope's data.
    if isinstance(data, dict) and "status_code" in data and "data" in data:
        return data["data"]
    return data


def _tariffs(path: Path) -> list[Tariff]:
    """One Tariff object, or a list of them (the tariffs of a connector)."""
    data = _load(path, "--tariff")
    items = data if isinstance(data, list) else [data]
    try:
        return [
            parse_tariff(item, path=f"[{index}]" if isinstance(data, list) else "")
            for index, item in enumerate(items)
        ]
    except PricingInputError as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="--tariff") from None


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if dataclasses.is_dataclass(value):
        return _json_value({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def _zone(ctx: click.Context, param: click.Parameter, value: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {value!r}") from None


@click.group()
def tariff() -> None:
    """Price CDRs with OCPI tariffs and show tariffs to drivers."""


def _file_option(name: str, help_text: str) -> Callable[[Callable], Callable]:
    return click.option(
        f"--{name}", f"{name}_path", required=True, type=click.Path(path_type=Path), help=help_text
    )


@tariff.command("price")
@_file_option("tariff", "OCPI Tariff JSON (one object or a list).")
@_file_option("cdr", "OCPI CDR JSON; its total_* fields are ignored as input.")
@click.option(
    "--tz",
    default="UTC",
    show_default=True,
    callback=_zone,
    help="The location's time zone (IANA), for time-of-day restrictions.",
)
@click.option(
    "--rounding",
    type=click.Choice(list(ROUNDING_MODES)),
    default="half-up",
    show_default=True,
    help="Rounding of the payable amount to minor units.",
)
def price(tariff_path: Path, cdr_path: Path, tz: zoneinfo.ZoneInfo, rounding: str) -> None:
    """Price a CDR; print the CDR totals (OCPI, 4 decimals) and the payable amount as JSON."""
    tariffs = _tariffs(tariff_path)
    try:
        cdr = parse_cdr(_load(cdr_path, "--cdr"))
        breakdown = price_cdr(tariffs, cdr, tz, rounding=rounding)
    except PricingInputError as exc:
        raise click.BadParameter(f"{cdr_path}: {exc}", param_hint="--cdr") from None
    out = breakdown.to_ocpi()
    payable = breakdown.payable
    out["payable"] = {
        "amount": str(payable.amount),
        "minor_units": payable.minor,
        "rounding": rounding,
        "taxes": [
            {"vat": line.rate, "net": line.net, "tax": line.tax, "gross": line.gross}
            for line in payable.lines
        ],
    }
    out["warnings"] = list(breakdown.warnings)
    click.echo(json.dumps(_json_value(out), indent=2, ensure_ascii=False))


@tariff.command("describe")
@_file_option("tariff", "OCPI Tariff JSON (the first of a list is described).")
@click.option("--lang", type=click.Choice(LANGUAGES), required=True, help="Driver's language.")
@click.option("--json", "as_json", is_flag=True, help="Print the structured summary instead.")
def describe_cmd(tariff_path: Path, lang: str, as_json: bool) -> None:
    """Print the driver's price text (AFIR) of a tariff."""
    (first, *_) = _tariffs(tariff_path)
    if as_json:
        click.echo(json.dumps(_json_value(describe(first, lang)), indent=2, ensure_ascii=False))
    else:
        click.echo(describe_text(first, lang))
