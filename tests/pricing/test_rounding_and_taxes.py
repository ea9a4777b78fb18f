"""Rounding once at the end to ISO 4217 minor units, and taxes per rate that add up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiosk_app.ocpi.pricing import minor_units, parse_tariff, price_cdr

from .builders import EXAMPLES, cdr, component, load, tariff

START, END = "2026-05-04T10:00:00Z", "2026-05-04T11:00:00Z"


def one_hour(**dims: object):
    return cdr(START, END, (START, dims))


def test_minor_units_table() -> None:
    assert (minor_units("EUR"), minor_units("SEK"), minor_units("JPY")) == (2, 2, 0)


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("half-up", "0.13"), ("half-even", "0.12"), ("down", "0.12"), ("up", "0.13")],
)
def test_rounding_policy_applies_once_to_the_total(rounding: str, expected: str) -> None:
    # 0.125 exactly: 0.5 kWh at 0.25, no VAT.
    result = price_cdr(
        [tariff({"price_components": [component("ENERGY", "0.25")]})],
        one_hour(ENERGY="0.5"),
        "UTC",
        rounding=rounding,
    )
    assert result.total.incl == Decimal("0.125")
    assert result.payable.amount == Decimal(expected)


def test_yen_has_no_minor_unit() -> None:
    yen = parse_tariff(
        {
            "id": "J",
            "currency": "JPY",
            "elements": [{"price_components": [component("ENERGY", "45.5", vat=10)]}],
        }
    )
    session = cdr(START, END, (START, {"ENERGY": "10.3"}), currency="JPY")
    result = price_cdr([yen], session, "Asia/Tokyo")
    # 468.65 + 10 % = 515.515 -> 516 yen; net 516 / 1.1 = 469.09 -> 469, tax 47.
    assert result.payable.minor == 516 and result.payable.amount == 516
    (line,) = result.payable.lines
    assert (line.net, line.tax, line.gross) == (469, 47, 516)


def test_rates_add_up_to_the_rounded_total() -> None:
    # Start fee 0.50 + 20 %, energy 3.333 kWh x 0.25 + 10 %: 0.60 + 0.916575 = 1.516575.
    mixed = tariff(
        {
            "price_components": [
                component("FLAT", "0.50", vat=20),
                component("ENERGY", "0.25", vat=10),
            ]
        }
    )
    result = price_cdr([mixed], one_hour(ENERGY="3.333"), "UTC")
    payable = result.payable
    assert payable.minor == 152
    assert sum(line.gross for line in payable.lines) == 152
    by_rate = {line.rate: line for line in payable.lines}
    assert (by_rate[20].net, by_rate[20].tax) == (50, 10)
    assert (by_rate[10].net, by_rate[10].tax) == (84, 8)  # gross 92 / 1.1 = 83.6
    for line in result.total.lines:
        assert line.incl == line.excl + line.tax


def test_prices_including_tax_230() -> None:
    inclusive = parse_tariff(
        {
            "id": "I",
            "currency": "EUR",
            "tax_included": "YES",
            "elements": [{"price_components": [component("TIME", "2.10", vat=5)]}],
        }
    )
    session = cdr(START, END, (START, {"TIME": 1}), total_cost={"before_taxes": 0, "taxes": []})
    result = price_cdr([inclusive], session, "UTC")
    assert (result.total.excl, result.total.incl) == (Decimal("2.00"), Decimal("2.10"))
    assert result.to_ocpi()["total_cost"] == {
        "before_taxes": Decimal(2),
        "taxes": [{"name": "VAT", "percentage": Decimal(5), "amount": Decimal("0.1")}],
    }


def test_north_american_examples_without_rates() -> None:
    # Exclusive: taxes unknown to the tariff; inclusive: 2.10 per hour is what is paid.
    folder = EXAMPLES / "2.3.0-release-payments"
    for name, paid in (
        ("tariff_19_simple_north_american_exclusive", "4.00"),
        ("tariff_20_simple_north_american_inclusive", "4.20"),
    ):
        t = parse_tariff(load(folder / f"{name}.json"))
        session = cdr(START, "2026-05-04T12:00:00Z", (START, {"TIME": 2}), currency="CAD")
        assert price_cdr([t], session, "America/Toronto").payable.amount == Decimal(paid)


def test_max_price_with_two_rates_keeps_each_rate_consistent() -> None:
    # tariff_6: 50 kWh -> 13.00 excl / 14.35 incl, limited to 10.00 / 11.00.
    t = parse_tariff(load(EXAMPLES / "2.2.1-bugfixes" / "tariff_6_025kwh_start_max_price.json"))
    result = price_cdr([t], one_hour(ENERGY=50), "UTC")
    assert (result.total.excl, result.total.incl) == (10, 11)
    assert sum(line.gross for line in result.payable.lines) == 1100
    assert result.limit_adjustment.excl == Decimal("-3.00")
