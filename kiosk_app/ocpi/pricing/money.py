"""Currencies, rounding and the two OCPI Price shapes.

Rounding policy (see docs/tariffs.md): every amount is computed exactly with ``Decimal``; OCPI
amounts are reported with 4 decimals (the OCPI number precision); the amount to pay is rounded
once, at the end, to the currency's minor unit (ISO 4217), half-up unless configured otherwise.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

# ISO 4217 minor-unit exponents of the currencies a kiosk may meet; others default to 2.
MINOR_UNITS: dict[str, int] = {
    "CAD": 2,
    "CHF": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HUF": 2,
    "ISK": 0,
    "JPY": 0,
    "KRW": 0,
    "NOK": 2,
    "PLN": 2,
    "SEK": 2,
    "USD": 2,
}
DEFAULT_MINOR_UNITS = 2

ROUNDING_MODES: dict[str, str] = {
    "half-up": decimal.ROUND_HALF_UP,
    "half-even": decimal.ROUND_HALF_EVEN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
}
DEFAULT_ROUNDING = "half-up"

OCPI_QUANTUM = Decimal("0.0001")
ZERO = Decimal(0)


def minor_units(currency: str) -> int:
    """The ISO 4217 exponent of ``currency`` (EUR 2, SEK 2, JPY 0)."""
    return MINOR_UNITS.get(currency.upper(), DEFAULT_MINOR_UNITS)


def rounding_mode(name: str) -> str:
    """The ``decimal`` rounding constant for a policy name such as ``half-up``."""
    try:
        return ROUNDING_MODES[name]
    except KeyError:
        raise ValueError(
            f"unknown rounding {name!r}; expected one of {', '.join(ROUNDING_MODES)}"
        ) from None


def round_units(value: Decimal, rounding: str = DEFAULT_ROUNDING) -> int:
    """``value`` rounded to a whole number by the named rounding policy."""
    return int(value.quantize(Decimal(1), rounding=rounding_mode(rounding)))


def to_minor(amount: Decimal, currency: str, rounding: str = DEFAULT_ROUNDING) -> int:
    """``amount`` in integer minor units of ``currency``, rounded once by ``rounding``."""
    return round_units(amount.scaleb(minor_units(currency)), rounding)


def from_minor(minor: int, currency: str) -> Decimal:
    """The ``Decimal`` amount of ``minor`` units of ``currency``."""
    return Decimal(minor).scaleb(-minor_units(currency))


def ocpi_number(value: Decimal) -> Decimal:
    """``value`` at OCPI precision (4 decimals, half-up), normalised for JSON output."""
    quantized = value.quantize(OCPI_QUANTUM, rounding=decimal.ROUND_HALF_UP)
    return quantized.normalize() if quantized else ZERO


class PriceShape(StrEnum):
    """How a Price is written: OCPI 2.2.1 ``{excl_vat, incl_vat}``, 2.3.0 ``{before_taxes,
    taxes[]}``, or 2.1.1 a plain number."""

    V221 = "2.2.1"
    V230 = "2.3.0"
    NUMBER = "2.1.1"


@dataclass(frozen=True, slots=True)
class TaxAmount:
    """One tax of a 2.3.0 Price."""

    name: str
    amount: Decimal
    percentage: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """A parsed OCPI Price in either shape; ``incl`` is None when the sender did not give it."""

    excl: Decimal
    incl: Decimal | None
    shape: PriceShape
    taxes: tuple[TaxAmount, ...] = ()

    @property
    def after_taxes(self) -> Decimal:
        """The amount including taxes, or ``excl`` when no tax information was given."""
        return self.excl if self.incl is None else self.incl
