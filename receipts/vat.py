"""VAT arithmetic in integer minor units.

Charging prices are quoted gross (B2C, PAngV), so the tax is taken out of the gross total of
each rate: VAT = round(gross × rate / (100 + rate)), net = gross − VAT. Rounding happens once per
rate and receipt (as the Japanese rules demand and the EU ones allow), so for every rate
gross = net + VAT exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class VatLine:
    """The totals of one VAT rate (in percent, e.g. Decimal('19')), in minor units."""

    rate: Decimal
    net: int
    vat: int
    gross: int

    def __post_init__(self) -> None:
        if self.net + self.vat != self.gross:
            raise ValueError(
                f"VAT line {self.rate} %: net {self.net} + VAT {self.vat} ≠ {self.gross}"
            )


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_gross(gross: int, rate: Decimal) -> VatLine:
    """The VAT contained in `gross` minor units at `rate` percent."""
    if rate < 0:
        raise ValueError(f"negative VAT rate {rate}")
    vat = _round(Decimal(gross) * rate / (HUNDRED + rate))
    return VatLine(rate=rate, net=gross - vat, vat=vat, gross=gross)


def add_to_net(net: int, rate: Decimal) -> VatLine:
    """The VAT on top of `net` minor units at `rate` percent (tax-exclusive prices)."""
    if rate < 0:
        raise ValueError(f"negative VAT rate {rate}")
    vat = _round(Decimal(net) * rate / HUNDRED)
    return VatLine(rate=rate, net=net, vat=vat, gross=net + vat)


def breakdown(amounts: Iterable[tuple[Decimal, int]]) -> tuple[VatLine, ...]:
    """Per rate, ascending: the gross (rate, minor units) amounts summed, then split once."""
    totals: dict[Decimal, int] = {}
    for rate, gross in amounts:
        totals[rate] = totals.get(rate, 0) + gross
    return tuple(split_gross(totals[rate], rate) for rate in sorted(totals))
