"""The accounting export of receipts (CSV or JSON), one implementation for the CLI
(`kiosk receipts export`) and the back office."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from kiosk_app import receipting
from kiosk_app.models.receipts import ReceiptRecord
from receipts import money

FORMATS = ("csv", "json")
FIELDS = [
    "series",
    "number",
    "receipt_number",
    "kind",
    "issued_at",
    "currency",
    "gross",
    "net",
    "vat",
    "vat_rates",
    "transaction_reference",
    "original_number",
    "cpo_invoice_reference",
    "content_hash",
]


def export(
    session: Session,
    first: date,
    last: date,
    timezone: str,
    fmt: str,
    series: str | None = None,
) -> str:
    """Receipts issued from day `first` to day `last` (inclusive, local days of `timezone`)
    as CSV or JSON text. No card data and no link tokens: only what accounting needs."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    rows = [
        _row(prefix, record)
        for prefix, record in receipting.records_between(session, first, last, timezone, series)
    ]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        rates = row["vat_rates"]
        writer.writerow(row | {"vat_rates": " ".join(f"{r['rate']}%:{r['vat']}" for r in rates)})
    return buffer.getvalue()


def _row(prefix: str, record: ReceiptRecord) -> dict[str, Any]:
    receipt = receipting.receipt_of(record)
    major = lambda minor: str(money.to_major(minor, receipt.currency))  # noqa: E731
    return {
        "series": prefix,
        "number": record.number,
        "receipt_number": receipt.receipt_number,
        "kind": receipt.kind.value,
        "issued_at": receipt.issued_at.isoformat(),
        "currency": receipt.currency,
        "gross": major(receipt.total),
        "net": major(sum(line.net for line in receipt.vat)),
        "vat": major(sum(line.vat for line in receipt.vat)),
        "vat_rates": [
            {"rate": str(v.rate), "net": major(v.net), "vat": major(v.vat), "gross": major(v.gross)}
            for v in receipt.vat
        ],
        "transaction_reference": receipt.transaction_reference,
        "original_number": receipt.original_number,
        "cpo_invoice_reference": receipt.cpo_invoice_reference,
        "content_hash": record.content_hash,
    }
