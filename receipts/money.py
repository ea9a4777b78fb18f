"""Currencies and amounts: integer minor units, ISO 4217 exponents, Decimal conversion."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor-unit exponents of the currencies the profiles use.
EXPONENTS: dict[str, int] = {"EUR": 2, "SEK": 2, "JPY": 0}


class UnknownCurrency(ValueError):
    """A currency code without a known ISO 4217 exponent."""


def exponent(currency: str) -> int:
    """The number of decimals of `currency` (EUR 2, JPY 0)."""
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(
            f"unknown currency {currency!r}; known: {', '.join(sorted(EXPONENTS))}"
        ) from None


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` in major units, rounded half up (away from zero) to whole minor units."""
    scaled = amount.scaleb(exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_major(minor: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal in major units (1234 EUR → Decimal('12.34'))."""
    return Decimal(minor).scaleb(-exponent(currency))
