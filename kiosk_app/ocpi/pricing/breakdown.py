"""The result of pricing: exact amounts per dimension and tax rate, the OCPI rendering (4
decimals, in the input's Price shape) and the payable amount rounded once to minor units."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from kiosk_app.ocpi.pricing.money import (
    DEFAULT_ROUNDING,
    ZERO,
    PriceShape,
    from_minor,
    minor_units,
    ocpi_number,
    round_units,
    to_minor,
)

HUNDRED = Decimal(100)
CATEGORIES = ("energy", "time", "parking", "fixed", "reservation")


@dataclass(frozen=True, slots=True)
class TaxLine:
    """The part of an amount taxed at one rate (``rate`` None: no VAT given)."""

    rate: Decimal | None
    excl: Decimal
    tax: Decimal

    @property
    def incl(self) -> Decimal:
        """Amount including the tax."""
        return self.excl + self.tax


@dataclass(frozen=True, slots=True)
class Amount:
    """An exact (unrounded) amount split by tax rate; ``incl == excl + tax`` per line."""

    lines: tuple[TaxLine, ...] = ()

    @property
    def excl(self) -> Decimal:
        """Total excluding taxes."""
        return sum((line.excl for line in self.lines), ZERO)

    @property
    def tax(self) -> Decimal:
        """Total of taxes."""
        return sum((line.tax for line in self.lines), ZERO)

    @property
    def incl(self) -> Decimal:
        """Total including taxes."""
        return self.excl + self.tax

    def __add__(self, other: Amount) -> Amount:
        by_rate: dict[Decimal | None, tuple[Decimal, Decimal]] = {}
        for line in (*self.lines, *other.lines):
            excl, tax = by_rate.get(line.rate, (ZERO, ZERO))
            by_rate[line.rate] = (excl + line.excl, tax + line.tax)
        return Amount(tuple(TaxLine(rate, e, t) for rate, (e, t) in by_rate.items()))

    def render(self, shape: PriceShape) -> Any:
        """This amount as an OCPI Price of ``shape``, numbers at 4 decimals."""
        if shape is PriceShape.NUMBER:
            return ocpi_number(self.incl)
        if shape is PriceShape.V221:
            return {"excl_vat": ocpi_number(self.excl), "incl_vat": ocpi_number(self.incl)}
        taxes = [
            {"name": "VAT", "percentage": line.rate, "amount": ocpi_number(line.tax)}
            for line in self.lines
            if line.rate is not None
        ]
        return {"before_taxes": ocpi_number(self.excl), "taxes": taxes}


@dataclass(frozen=True, slots=True)
class PayableLine:
    """One tax rate of the payable amount, in minor units; ``gross == net + tax``."""

    rate: Decimal | None
    net: int
    tax: int

    @property
    def gross(self) -> int:
        """Minor units including the tax."""
        return self.net + self.tax


@dataclass(frozen=True, slots=True)
class Payable:
    """The amount to capture, rounded once per tax rate to the currency's minor unit."""

    currency: str
    lines: tuple[PayableLine, ...]

    @property
    def minor(self) -> int:
        """Total including taxes, in minor units."""
        return sum(line.gross for line in self.lines)

    @property
    def amount(self) -> Decimal:
        """Total including taxes as a Decimal in the currency."""
        return from_minor(self.minor, self.currency)


def payable(total: Amount, currency: str, rounding: str = DEFAULT_ROUNDING) -> Payable:
    """Round once at the end: the total including taxes to the currency's minor unit; split
    over the tax rates by largest remainder (so the lines add up to it exactly), and per rate
    net = rounded gross / (1 + rate), tax = gross - net."""
    target = to_minor(total.incl, currency, rounding)
    exact = [line.incl.scaleb(minor_units(currency)) for line in total.lines]
    floors = [int(value.to_integral_value(rounding=ROUND_FLOOR)) for value in exact]
    order = sorted(range(len(exact)), key=lambda i: floors[i] - exact[i])
    grosses = list(floors)
    remainder = target - sum(floors)
    for position in range(abs(remainder)):
        grosses[order[position % len(order)]] += 1 if remainder > 0 else -1
    lines = []
    for line, gross in zip(total.lines, grosses, strict=True):
        rate = (line.rate or ZERO) / HUNDRED
        net = round_units(Decimal(gross) / (1 + rate), rounding) if rate else gross
        lines.append(PayableLine(line.rate, net, gross - net))
    return Payable(currency, tuple(lines))


@dataclass(frozen=True)
class PriceBreakdown:
    """Costs of one CDR or Session per dimension, exact, with totals that add up:
    ``total == energy + time + parking + fixed + reservation + limit_adjustment``."""

    currency: str
    shape: PriceShape
    energy: Amount
    time: Amount
    parking: Amount
    fixed: Amount
    reservation: Amount
    limit_adjustment: Amount
    total: Amount
    total_energy: Decimal
    total_time: Decimal
    total_parking_time: Decimal
    payable: Payable
    warnings: tuple[str, ...] = field(default=())

    def to_ocpi(self) -> dict[str, Any]:
        """The CDR ``total_*`` fields in this breakdown's Price shape (4 decimals)."""
        render = self.shape
        return {
            "currency": self.currency,
            "total_cost": self.total.render(render),
            "total_energy": ocpi_number(self.total_energy),
            "total_energy_cost": self.energy.render(render),
            "total_time": ocpi_number(self.total_time),
            "total_time_cost": self.time.render(render),
            "total_parking_time": ocpi_number(self.total_parking_time),
            "total_parking_cost": self.parking.render(render),
            "total_fixed_cost": self.fixed.render(render),
            "total_reservation_cost": self.reservation.render(render),
        }
