"""VAT arithmetic: properties over rates, currencies and amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receipts import money, vat

RATES = st.sampled_from(
    [Decimal(r) for r in ("0", "5", "7", "7.7", "8", "10", "12", "19", "20", "21", "25", "27")]
)
CURRENCIES = st.sampled_from(["EUR", "SEK", "JPY"])
GROSS = st.integers(min_value=-10_000_000, max_value=10_000_000)


@given(GROSS, RATES)
def test_split_gross_adds_up_and_rounds_to_the_nearest_minor_unit(gross, rate) -> None:
    line = vat.split_gross(gross, rate)
    assert line.net + line.vat == line.gross == gross
    exact = Decimal(gross) * rate / (100 + rate)
    assert abs(line.vat - exact) <= Decimal("0.5")


@given(st.integers(min_value=0, max_value=10_000_000), RATES)
def test_split_gross_is_symmetric_for_cancellations(gross, rate) -> None:
    line, reverse = vat.split_gross(gross, rate), vat.split_gross(-gross, rate)
    assert (reverse.net, reverse.vat) == (-line.net, -line.vat)


@given(st.integers(min_value=-10_000_000, max_value=10_000_000), RATES)
def test_add_to_net(net, rate) -> None:
    line = vat.add_to_net(net, rate)
    assert line.gross == line.net + line.vat
    assert abs(line.vat - Decimal(net) * rate / 100) <= Decimal("0.5")


@given(st.lists(st.tuples(RATES, st.integers(0, 1_000_000)), max_size=12), CURRENCIES)
def test_breakdown_rounds_once_per_rate(amounts, currency) -> None:
    lines = vat.breakdown(amounts)
    assert [line.rate for line in lines] == sorted({rate for rate, _ in amounts})
    assert sum(line.gross for line in lines) == sum(gross for _, gross in amounts)
    for line in lines:
        exact = sum(Decimal(g) for r, g in amounts if r == line.rate) * line.rate
        assert abs(line.vat - exact / (100 + line.rate)) <= Decimal("0.5")
        # amounts round-trip through major units of the currency without loss
        assert money.to_minor(money.to_major(line.net, currency), currency) == line.net


@given(st.decimals(min_value=-(10**6), max_value=10**6, places=4), CURRENCIES)
def test_to_minor_rounds_half_up_within_half_a_minor_unit(amount, currency) -> None:
    minor = money.to_minor(amount, currency)
    assert abs(money.to_major(minor, currency) - amount) <= Decimal("0.5").scaleb(
        -money.exponent(currency)
    )


def test_known_values() -> None:
    assert vat.split_gross(1884, Decimal("19")) == vat.VatLine(Decimal("19"), 1583, 301, 1884)
    assert vat.split_gross(1334, Decimal("10")).vat == 121  # JPY, no minor unit
    assert money.to_minor(Decimal("0.125"), "EUR") == 13
    assert money.to_minor(Decimal("-0.125"), "EUR") == -13
    assert money.to_minor(Decimal("1234.5"), "JPY") == 1235


def test_inconsistent_vat_line_is_refused() -> None:
    with pytest.raises(ValueError, match="net 100 \\+ VAT 19"):
        vat.VatLine(Decimal("19"), 100, 19, 120)
    with pytest.raises(money.UnknownCurrency, match="'XYZ'"):
        money.exponent("XYZ")
