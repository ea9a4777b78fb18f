"""`ocpi.power`: the live power from a Session's charging periods, as the receiver checks them."""

from __future__ import annotations

from decimal import Decimal

from kiosk_app.ocpi.objects import CHARGING_PERIOD
from kiosk_app.ocpi.power import live_power_kw
from kiosk_app.ocpi.schema import F, ListOf, Obj, check


def _periods(*periods: tuple[str, list[tuple[str, float]]]) -> list[dict]:
    doc = {
        "charging_periods": [
            {
                "start_date_time": start,
                "dimensions": [{"type": kind, "volume": volume} for kind, volume in dims],
            }
            for start, dims in periods
        ]
    }
    # The receiver's own field check turns the JSON into datetimes and Decimals.
    table = {"charging_periods": F(ListOf(Obj(CHARGING_PERIOD)))}
    return check(table, doc)["charging_periods"]


def test_power_dimension_of_the_newest_period_wins():
    periods = _periods(
        ("2026-01-01T10:05:00Z", [("ENERGY", 1.0), ("POWER", 11.5)]),
        ("2026-01-01T10:00:00Z", [("ENERGY", 2.0), ("POWER", 50)]),
    )
    assert live_power_kw("ACTIVE", periods) == Decimal("11.500")


def test_without_power_the_newest_closed_period_gives_energy_over_time():
    periods = _periods(
        ("2026-01-01T10:00:00Z", [("ENERGY", 4.0)]),
        ("2026-01-01T10:10:00Z", [("ENERGY", 2.0)]),  # open: its length is not known yet
        ("2026-01-01T10:05:00Z", [("ENERGY", 3.0)]),
    )
    # 10:05–10:10: 2 kWh in 5 minutes
    assert live_power_kw("ACTIVE", periods) == Decimal("36.000")


def test_unknown_when_nothing_tells_it():
    one = _periods(("2026-01-01T10:00:00Z", [("ENERGY", 4.0)]))
    no_energy = _periods(
        ("2026-01-01T10:00:00Z", [("TIME", 0.1)]), ("2026-01-01T10:06:00Z", [("TIME", 0.1)])
    )
    same_start = _periods(
        ("2026-01-01T10:00:00Z", [("ENERGY", 1.0)]), ("2026-01-01T10:00:00Z", [("ENERGY", 1.0)])
    )
    assert live_power_kw("ACTIVE", []) is None
    assert live_power_kw("ACTIVE", one) is None
    assert live_power_kw("ACTIVE", no_energy) is None
    assert live_power_kw("ACTIVE", same_start) is None


def test_only_an_active_session_has_a_power():
    periods = _periods(("2026-01-01T10:00:00Z", [("POWER", 22)]))
    assert live_power_kw("COMPLETED", periods) is None
    assert live_power_kw("PENDING", periods) is None
