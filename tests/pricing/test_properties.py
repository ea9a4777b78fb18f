"""Property tests of the pricing rules (hypothesis)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk_app.ocpi.pricing import Cdr, ChargingPeriod, Tariff, parse_tariff, price_cdr, to_minor
from kiosk_app.ocpi.pricing.model import PriceLimit

ZONES = ["UTC", "Europe/Berlin", "Europe/Stockholm"]
# Plain days, and the days of the 2026 DST changes; sessions start in the evening to cross
# midnight as well.
DAYS = [dt.date(2026, 1, 9), dt.date(2026, 3, 28), dt.date(2026, 10, 24), dt.date(2026, 6, 6)]
KINDS = ["ENERGY", "TIME", "PARKING_TIME", "FLAT"]

prices = st.decimals(min_value=0, max_value=5, places=2)
vats = st.sampled_from([None, Decimal(0), Decimal(7), Decimal(19), Decimal("25.5")])
steps = st.sampled_from([0, 1, 60, 300, 900, 1000])
hours = st.integers(min_value=0, max_value=23).map(lambda h: f"{h:02d}:00")


@st.composite
def restrictions(draw, local_only: bool = False) -> dict:
    r: dict = {}
    if draw(st.booleans()):
        r["start_time"], r["end_time"] = draw(hours), draw(hours)
    if draw(st.booleans()):
        days = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
        r["day_of_week"] = draw(st.lists(st.sampled_from(days), min_size=1, unique=True))
    if draw(st.booleans()):
        r["max_duration"] = draw(st.integers(min_value=60, max_value=4 * 3600))
    if not local_only and draw(st.booleans()):
        r["min_power"] = draw(st.integers(min_value=0, max_value=50))
    if not local_only and draw(st.booleans()):
        r["max_kwh"] = draw(st.integers(min_value=1, max_value=40))
    return r


@st.composite
def tariffs(draw, steps_of_one: bool = False, local_only: bool = False) -> Tariff:
    elements = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        components = [
            {
                "type": draw(st.sampled_from(KINDS)),
                "price": draw(prices),
                "step_size": 1 if steps_of_one else draw(steps),
                **({"vat": vat} if (vat := draw(vats)) is not None else {}),
            }
            for _ in range(draw(st.integers(min_value=1, max_value=3)))
        ]
        element: dict = {"price_components": components}
        if draw(st.booleans()):
            element["restrictions"] = draw(restrictions(local_only))
        elements.append(element)
    data: dict = {"id": "P", "currency": "EUR", "elements": elements}
    low = draw(st.none() | st.decimals(min_value=0, max_value=10, places=2))
    high = draw(st.none() | st.decimals(min_value=10, max_value=60, places=2))
    if low is not None:
        data["min_price"] = {"excl_vat": low, "incl_vat": low * Decimal("1.2")}
    if high is not None:
        data["max_price"] = {"excl_vat": high, "incl_vat": high * Decimal("1.2")}
    return parse_tariff(data)


@st.composite
def sessions(draw) -> Cdr:
    day = draw(st.sampled_from(DAYS))
    start = dt.datetime.combine(day, dt.time(draw(st.integers(18, 23))), tzinfo=dt.UTC)
    periods = []
    at = start
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        minutes = draw(st.integers(min_value=1, max_value=150))
        kind = draw(st.sampled_from(["TIME", "PARKING_TIME"]))
        dims = {kind: Decimal(minutes) / 60}
        if kind == "TIME":
            dims["ENERGY"] = draw(st.decimals(min_value=0, max_value=40, places=3))
        periods.append(ChargingPeriod(at, dims))
        at += dt.timedelta(minutes=minutes)
    return Cdr(start=start, end=at, currency="EUR", charging_periods=tuple(periods))


def without_steps(tariff: Tariff) -> Tariff:
    elements = tuple(
        dataclasses.replace(
            element,
            price_components=tuple(
                dataclasses.replace(c, step_size=0) for c in element.price_components
            ),
        )
        for element in tariff.elements
    )
    return dataclasses.replace(tariff, elements=elements)


def within(value: Decimal, low: PriceLimit | None, high: PriceLimit | None, incl: bool) -> bool:
    def bound(limit: PriceLimit) -> Decimal:
        return limit.incl if incl else limit.excl

    return (low is None or value >= bound(low)) and (high is None or value <= bound(high))


def assert_not_cheaper(tariff: Tariff, cdr: Cdr, bigger: Cdr, zone: str) -> None:
    before = price_cdr([tariff], cdr, zone).total
    after = price_cdr([tariff], bigger, zone).total
    assert after.excl >= before.excl
    assert after.incl >= before.incl


@settings(max_examples=80, deadline=None)
@given(tariffs(), sessions(), st.sampled_from(ZONES))
def test_totals_add_up(tariff, cdr, zone) -> None:
    result = price_cdr([tariff], cdr, zone)
    parts = [
        result.energy,
        result.time,
        result.parking,
        result.fixed,
        result.reservation,
        result.limit_adjustment,
    ]
    assert result.total.excl == sum(p.excl for p in parts)
    assert result.total.incl == sum(p.incl for p in parts)
    for line in result.total.lines:
        assert line.incl == line.excl + line.tax
    assert result.payable.minor == to_minor(result.total.incl, "EUR")
    assert all(line.gross == line.net + line.tax for line in result.payable.lines)


@settings(max_examples=80, deadline=None)
@given(tariffs(), sessions(), st.sampled_from(ZONES))
def test_min_and_max_price_bound_the_total(tariff, cdr, zone) -> None:
    total = price_cdr([tariff], cdr, zone).total
    assert within(total.excl, tariff.min_price, tariff.max_price, incl=False)
    assert within(total.incl, tariff.min_price, tariff.max_price, incl=True)


@settings(max_examples=80, deadline=None)
@given(tariffs(), sessions(), st.sampled_from(ZONES))
def test_step_size_never_lowers_a_total(tariff, cdr, zone) -> None:
    stepped = price_cdr([tariff], cdr, zone).total
    exact = price_cdr([without_steps(tariff)], cdr, zone).total
    assert stepped.excl >= exact.excl
    assert stepped.incl >= exact.incl


@settings(max_examples=80, deadline=None)
@given(
    tariffs(steps_of_one=True, local_only=True),
    sessions(),
    st.sampled_from(ZONES),
    st.data(),
)
def test_more_energy_never_costs_less(tariff, cdr, zone, data) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(cdr.charging_periods) - 1))
    extra = data.draw(st.decimals(min_value=0, max_value=20, places=3))
    periods = list(cdr.charging_periods)
    dims = dict(periods[index].dimensions)
    dims["ENERGY"] = dims.get("ENERGY", Decimal(0)) + extra
    periods[index] = ChargingPeriod(periods[index].start, dims)
    assert_not_cheaper(tariff, cdr, dataclasses.replace(cdr, charging_periods=tuple(periods)), zone)


@settings(max_examples=80, deadline=None)
@given(
    tariffs(steps_of_one=True, local_only=True),
    sessions(),
    st.sampled_from(ZONES),
    st.integers(min_value=1, max_value=300),
    st.sampled_from(["TIME", "PARKING_TIME"]),
)
def test_more_time_never_costs_less(tariff, cdr, zone, minutes, kind) -> None:
    extra = ChargingPeriod(cdr.end, {kind: Decimal(minutes) / 60})
    longer = dataclasses.replace(
        cdr,
        end=cdr.end + dt.timedelta(minutes=minutes),
        charging_periods=(*cdr.charging_periods, extra),
    )
    assert_not_cheaper(tariff, cdr, longer, zone)
