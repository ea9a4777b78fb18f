"""Amounts in minor units by ISO 4217 exponent (Decimal in, int out, half-up)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Currencies whose exponent is not 2; everything else OCPI peers send is 2 in practice.
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` in the currency's minor unit, rounded half-up (the display/payment rule)."""
    return int((amount * (Decimal(10) ** exponent(currency))).to_integral_value(ROUND_HALF_UP))
