"""The amount to pre-authorise on the driver's card before charging."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from kiosk_app.ocpi.pricing.model import Tariff
from kiosk_app.ocpi.pricing.money import from_minor, minor_units

# Why the amount was chosen; keys of the driver texts in describe.HOLD_TEXTS.
FROM_TARIFF = "tariff_preauthorize_amount"
FROM_DEFAULT = "configured_default"
CAPPED = "capped_at_maximum"


@dataclass(frozen=True, slots=True)
class Hold:
    """A hold amount in the tariff's currency and the reason key explaining it."""

    amount: Decimal
    currency: str
    reason: str

    @property
    def minor(self) -> int:
        """The amount in minor units."""
        return int(self.amount.scaleb(minor_units(self.currency)))


def hold_amount(tariff: Tariff, default: Decimal, maximum: Decimal) -> Hold:
    """The tariff's 2.3.0 ``preauthorize_amount`` when present, else ``default``; never above
    ``maximum``; rounded up to the currency's minor unit. (``max_price`` is not a hold amount:
    it caps the price, see OCPI pull request 521.)"""
    if tariff.preauthorize_amount is not None:
        amount, reason = tariff.preauthorize_amount, FROM_TARIFF
    else:
        amount, reason = default, FROM_DEFAULT
    if amount > maximum:
        amount, reason = maximum, CAPPED
    exponent = minor_units(tariff.currency)
    minor = int(amount.scaleb(exponent).to_integral_value(rounding=ROUND_CEILING))
    return Hold(from_minor(minor, tariff.currency), tariff.currency, reason)
