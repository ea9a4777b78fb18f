"""`kiosk receipts`: verify the journal, export for accounting, render receipt PDFs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from kiosk_app import config as config_module
from kiosk_app import db, migrate, receipt_export, receipting
from receipts import pdf, profiles, texts
from receipts.model import Kind
from receipts.sample import sample_receipt


@click.group()
def receipts() -> None:
    """Receipts: journal verification, exports, PDFs."""


def _database() -> db.Database:
    return db.Database(migrate.configured_url())


@receipts.command()
@click.option("--series", help="Verify only this series (prefix).")
def verify(series: str | None) -> None:
    """Walk every receipt chain and report edited, missing or reordered records."""
    database = _database()
    try:
        with database.session() as session:
            results = receipting.verify_journal(session, series)
    finally:
        database.dispose()
    if series and series not in results:
        raise click.BadParameter(f"no receipt series {series!r}", param_hint="--series")
    failed = False
    for prefix, problems in results.items():
        if not problems:
            click.echo(f"series {prefix}: chain intact")
        for problem in problems:
            failed = True
            click.echo(str(problem))
    if failed:
        raise click.exceptions.Exit(1)


@receipts.command()
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--series", help="Only this series (prefix).")
@click.option("--format", "fmt", type=click.Choice(receipt_export.FORMATS), default="csv")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
def export(first, last, series: str | None, fmt: str, output: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Export receipts issued FROM..TO (inclusive, operator's local days) for accounting."""
    start, end = date.fromordinal(first.toordinal()), date.fromordinal(last.toordinal())
    if end < start:
        raise click.BadParameter("must not be before --from", param_hint="--to")
    timezone = config_module.load().operator.timezone
    database = _database()
    try:
        with database.session() as session:
            text = receipt_export.export(session, start, end, timezone, fmt, series)
    finally:
        database.dispose()
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@receipts.command()
@click.option("--sample", is_flag=True, help="Render a realistic sample receipt.")
@click.option("--profile", type=click.Choice(sorted(profiles.PROFILES)), default="DE")
@click.option("--lang", type=click.Choice(texts.LANGUAGES), default="de")
@click.option("--kind", type=click.Choice([k.value for k in Kind]), default=Kind.RECEIPT.value)
@click.option("--series", help="Render a stored receipt of this series (with --number).")
@click.option("--number", type=click.IntRange(min=1), help="Number of the stored receipt.")
@click.option("--link", default="https://charge.example.com/r/SAMPLE-TOKEN-NOT-VALID-000000")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def render(  # type: ignore[no-untyped-def]
    sample: bool, profile, lang, kind, series, number, link: str, output: Path
) -> None:
    """Render a sample (--sample) or a stored receipt (--series S --number N) to a PDF."""
    if sample == bool(series or number):
        raise click.UsageError("give either --sample or --series with --number")
    if sample:
        data = pdf.render(sample_receipt(profile, lang, Kind(kind)), link)
    else:
        if not (series and number):
            raise click.UsageError("--series and --number go together")
        data = _render_stored(series, number)
    output.write_bytes(data)
    click.echo(f"wrote {output} ({len(data)} bytes)")


def _render_stored(series: str, number: int) -> bytes:
    """A stored receipt without QR code: its link token is only known to the driver."""
    database = _database()
    try:
        with database.session() as session:
            record = receipting.find(session, series, number)
            if record is None:
                raise click.BadParameter(f"no receipt {series}-{number}", param_hint="--number")
            return receipting.render_pdf(record, None)
    finally:
        database.dispose()
