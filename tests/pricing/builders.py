"""Helpers for the pricing tests: the shared reference data and small OCPI object builders."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from kiosk_app.ocpi.pricing import Cdr, Tariff, parse_cdr, parse_tariff

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
TARIFF_CASES = REFERENCE / "tariff-cases"
EXAMPLES = REFERENCE / "ocpi-examples"


def load(path: Path) -> Any:
    """A JSON file with exact numbers."""
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def tariff(*elements: dict[str, Any], **fields: Any) -> Tariff:
    """A 2.2.1 tariff in EUR from element dicts."""
    return parse_tariff({"id": "T1", "currency": "EUR", "elements": list(elements), **fields})


def component(kind: str, price: object, step_size: int = 1, vat: object = None) -> dict:
    """A PriceComponent dict."""
    data = {"type": kind, "price": Decimal(str(price)), "step_size": step_size}
    if vat is not None:
        data["vat"] = Decimal(str(vat))
    return data


def cdr(start: str, end: str, *periods: tuple[str, dict[str, object]], **fields: Any) -> Cdr:
    """A partial CDR in EUR; each period is (start, {dimension: volume})."""
    return parse_cdr(
        {
            "start_date_time": start,
            "end_date_time": end,
            "currency": "EUR",
            "charging_periods": [
                {
                    "start_date_time": at,
                    "dimensions": [
                        {"type": kind, "volume": Decimal(str(volume))}
                        for kind, volume in dims.items()
                    ],
                }
                for at, dims in periods
            ],
            **fields,
        }
    )


def price_of(amount: Any) -> tuple[Decimal, Decimal]:
    """(excl, incl) of an Amount, at OCPI precision."""
    q = Decimal("0.0001")
    return amount.excl.quantize(q), amount.incl.quantize(q)
