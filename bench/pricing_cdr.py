"""Benchmark: price a CDR with 100 charging periods against a six-element tariff with time and
power restrictions, compared with ``json.loads`` of the same two documents in the same run.

Run: ``.venv/bin/python -m bench.pricing_cdr``. Targets (issue 5): at least 2,000 CDRs per
second on one core, and pricing at most 10x the time of ``json.loads``.
"""

from __future__ import annotations

import datetime as dt
import json
import timeit
import zoneinfo
from decimal import Decimal

from kiosk_app.ocpi.pricing import parse_cdr, parse_tariff, price_cdr

ZONE = zoneinfo.ZoneInfo("Europe/Berlin")


def _component(kind: str, price: str, step: int, vat: str = "19") -> dict:
    return {"type": kind, "price": float(price), "step_size": step, "vat": float(vat)}


def tariff_document() -> dict:
    """Six elements: day/night energy by power class, charging time, parking by day time."""
    return {
        "country_code": "DE",
        "party_id": "KIO",
        "id": "bench",
        "currency": "EUR",
        "type": "AD_HOC_PAYMENT",
        "last_updated": "2026-01-01T00:00:00Z",
        "elements": [
            {"price_components": [_component("FLAT", "0.50", 1)]},
            {
                "price_components": [_component("ENERGY", "0.39", 1)],
                "restrictions": {"start_time": "22:00", "end_time": "06:00", "max_power": 22},
            },
            {
                "price_components": [_component("ENERGY", "0.49", 1)],
                "restrictions": {"max_power": 22},
            },
            {
                "price_components": [
                    _component("ENERGY", "0.59", 1),
                    _component("TIME", "0.60", 60),
                ],
                "restrictions": {
                    "min_power": 22,
                    "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
                },
            },
            {
                "price_components": [_component("PARKING_TIME", "6.00", 300)],
                "restrictions": {"start_time": "08:00", "end_time": "20:00", "min_duration": 7200},
            },
            {"price_components": [_component("ENERGY", "0.69", 1), _component("TIME", "0.90", 60)]},
        ],
    }


def cdr_document(periods: int = 100) -> dict:
    """100 five-minute periods from 19:00 local time, power varying around 22 kW."""
    start = dt.datetime(2026, 3, 13, 18, 0, tzinfo=dt.UTC)
    charging = []
    for index in range(periods):
        at = start + dt.timedelta(minutes=5 * index)
        power = 11 + (index * 7) % 30
        dims = [
            {"type": "ENERGY", "volume": round(power / 12, 3)},
            {"type": "MAX_POWER", "volume": power},
            {"type": "TIME", "volume": round(5 / 60, 4)},
        ]
        if index >= periods - 10:
            dims = [{"type": "PARKING_TIME", "volume": round(5 / 60, 4)}]
        charging.append(
            {
                "start_date_time": at.isoformat().replace("+00:00", "Z"),
                "dimensions": dims,
                "tariff_id": "bench",
            }
        )
    end = start + dt.timedelta(minutes=5 * periods)
    return {
        "id": "CDR-BENCH",
        "start_date_time": start.isoformat().replace("+00:00", "Z"),
        "end_date_time": end.isoformat().replace("+00:00", "Z"),
        "currency": "EUR",
        "charging_periods": charging,
        "total_cost": {"excl_vat": 0, "incl_vat": 0},
        "last_updated": end.isoformat().replace("+00:00", "Z"),
    }


def interleaved(functions: dict, rounds: int = 60) -> dict[str, float]:
    """Seconds per call of each ``(function, calls per sample)``: the best sample, the functions
    taking turns in every round so that a busy machine slows them alike. Short samples (a few
    ms) so that the best of them escapes the preemption other processes cause."""
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, (function, number) in functions.items():
            best[name] = min(best[name], timeit.timeit(function, number=number) / number)
    return best


def main() -> None:
    tariff_json, cdr_json = json.dumps(tariff_document()), json.dumps(cdr_document())
    tariff = parse_tariff(json.loads(tariff_json, parse_float=Decimal))
    cdr = parse_cdr(json.loads(cdr_json, parse_float=Decimal))
    result = price_cdr([tariff], cdr, ZONE)

    def loads() -> None:
        json.loads(tariff_json)
        json.loads(cdr_json)

    def price() -> None:
        price_cdr([tariff], cdr, ZONE)

    def parse_and_price() -> None:
        t = parse_tariff(json.loads(tariff_json, parse_float=Decimal))
        price_cdr([t], parse_cdr(json.loads(cdr_json, parse_float=Decimal)), ZONE)

    times = interleaved({"loads": (loads, 10), "price": (price, 2), "full": (parse_and_price, 1)})
    baseline, pricing, full = times["loads"], times["price"], times["full"]
    print(
        f"CDR: {len(cdr.charging_periods)} periods, tariff: {len(tariff.elements)} elements, "
        f"total {result.payable.amount} {result.currency}"
    )
    print(f"json.loads (tariff + CDR)   {baseline * 1e6:9.1f} µs   1.00x")
    print(
        f"price_cdr (parsed objects)  {pricing * 1e6:9.1f} µs  {pricing / baseline:5.2f}x  "
        f"{1 / pricing:8.0f} CDRs/s"
    )
    print(
        f"json + parse + price_cdr    {full * 1e6:9.1f} µs  {full / baseline:5.2f}x  "
        f"{1 / full:8.0f} CDRs/s"
    )


if __name__ == "__main__":
    main()
