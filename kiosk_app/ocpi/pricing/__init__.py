"""OCPI tariff pricing, pure Python: plain data in, plain data out (no Flask, HTTP or database).

Parse OCPI 2.1.1/2.2.1/2.3.0 JSON with :func:`parse_tariff`, :func:`parse_cdr` and
:func:`parse_session`; price with :func:`price_cdr` and :func:`live_cost`; find when to stop a
session within the hold with :func:`latest_stop`; choose the hold with :func:`hold_amount`; show
prices with :func:`describe`/:func:`describe_text`; compare with the CPO's CDR with
:func:`cross_check`. Rules and rounding policy: docs/tariffs.md.
"""

from kiosk_app.ocpi.pricing.breakdown import Amount, Payable, PayableLine, PriceBreakdown, TaxLine
from kiosk_app.ocpi.pricing.crosscheck import POLICIES, CrossCheck, cross_check
from kiosk_app.ocpi.pricing.describe import (
    PriceLine,
    PriceSummary,
    describe,
    describe_text,
    explain_hold,
)
from kiosk_app.ocpi.pricing.errors import CdrError, PricingInputError, TariffError
from kiosk_app.ocpi.pricing.hold import Hold, hold_amount
from kiosk_app.ocpi.pricing.model import Cdr, ChargingPeriod, Session, Tariff
from kiosk_app.ocpi.pricing.money import (
    MINOR_UNITS,
    ROUNDING_MODES,
    Price,
    PriceShape,
    minor_units,
    to_minor,
)
from kiosk_app.ocpi.pricing.parse import parse_cdr, parse_price, parse_session, parse_tariff
from kiosk_app.ocpi.pricing.price import LiveCost, latest_stop, live_cost, price_cdr
from kiosk_app.ocpi.pricing.texts import LANGUAGES

__all__ = [
    "LANGUAGES",
    "MINOR_UNITS",
    "POLICIES",
    "ROUNDING_MODES",
    "Amount",
    "Cdr",
    "CdrError",
    "ChargingPeriod",
    "CrossCheck",
    "Hold",
    "LiveCost",
    "Payable",
    "PayableLine",
    "Price",
    "PriceBreakdown",
    "PriceLine",
    "PriceShape",
    "PriceSummary",
    "PricingInputError",
    "Session",
    "Tariff",
    "TariffError",
    "TaxLine",
    "cross_check",
    "describe",
    "describe_text",
    "explain_hold",
    "hold_amount",
    "latest_stop",
    "live_cost",
    "minor_units",
    "parse_cdr",
    "parse_price",
    "parse_session",
    "parse_tariff",
    "price_cdr",
    "to_minor",
]
