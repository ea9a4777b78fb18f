"""Amounts: Decimal major units ⇄ integer minor units, by the currency's ISO 4217 exponent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Currencies whose exponent is not 2.
_EXPONENTS = {"BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "OMR": 3}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """50.00 EUR → 5000; 500 JPY → 500. Half-up rounding for amounts given too precisely."""
    scaled = amount.scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(scaled)


def to_major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-exponent(currency))
