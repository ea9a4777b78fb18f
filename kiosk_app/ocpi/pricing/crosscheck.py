"""Compare the CPO's CDR totals with our own calculation and choose the amount to capture."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from kiosk_app.ocpi.pricing.breakdown import Amount, PriceBreakdown
from kiosk_app.ocpi.pricing.money import DEFAULT_ROUNDING, Price, from_minor, to_minor

POLICIES = ("cpo", "ours", "lower")
# CDR fields compared for the operator, beside the total.
_FIELDS = {
    "total_energy_cost": "energy",
    "total_time_cost": "time",
    "total_parking_cost": "parking",
    "total_fixed_cost": "fixed",
    "total_reservation_cost": "reservation",
}


@dataclass(frozen=True, slots=True)
class CrossCheck:
    """Outcome of a cross-check in minor units: the compared totals (incl. tax; excl. tax when
    the CDR gives no amount including VAT) and the amount to capture (incl. tax)."""

    currency: str
    cpo_minor: int
    ours_minor: int
    policy: str
    capture_minor: int
    differing_fields: tuple[str, ...] = ()

    @property
    def difference_minor(self) -> int:
        """CPO minus ours."""
        return self.cpo_minor - self.ours_minor

    @property
    def mismatch(self) -> bool:
        """A difference of more than one minor unit, to be recorded for operator review."""
        return abs(self.difference_minor) > 1

    @property
    def capture(self) -> Decimal:
        """The amount to capture, per the policy."""
        return from_minor(self.capture_minor, self.currency)


def _differs(theirs: Price, mine: Amount, currency: str, rounding: str) -> bool:
    ours = mine.excl if theirs.incl is None else mine.incl
    return (
        abs(to_minor(theirs.after_taxes, currency, rounding) - to_minor(ours, currency, rounding))
        > 1
    )


def cross_check(
    cdr_totals: Mapping[str, Price | Decimal] | Price,
    our_totals: PriceBreakdown,
    currency: str,
    policy: str = "cpo",
    rounding: str = DEFAULT_ROUNDING,
) -> CrossCheck:
    """Compare the CDR's ``total_cost`` (or its whole ``Cdr.totals``) with ``our_totals``.

    ``policy`` picks the amount to capture: ``cpo`` (the CDR's total), ``ours`` or ``lower``.
    Per-dimension fields differing by more than one minor unit are listed for the operator.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown capture policy {policy!r}; expected one of {POLICIES}")
    totals = {"total_cost": cdr_totals} if isinstance(cdr_totals, Price) else cdr_totals
    total = totals.get("total_cost")
    if not isinstance(total, Price):
        raise ValueError("the CDR has no total_cost to compare")
    ours = our_totals.payable.minor
    if total.incl is None:
        # 2.2.1 incl_vat is optional: then compare amounts excluding VAT; only ours is a gross
        # amount that can be captured.
        cpo = to_minor(total.excl, currency, rounding)
        compared = to_minor(our_totals.total.excl, currency, rounding)
        capture = ours
    else:
        cpo, compared = to_minor(total.incl, currency, rounding), ours
        capture = {"cpo": cpo, "ours": ours, "lower": min(cpo, ours)}[policy]
    differing = [
        name
        for name, category in _FIELDS.items()
        if isinstance(theirs := totals.get(name), Price)
        and _differs(theirs, getattr(our_totals, category), currency, rounding)
    ]
    return CrossCheck(currency, cpo, compared, policy, capture, tuple(differing))
