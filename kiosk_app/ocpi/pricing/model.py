"""Typed OCPI objects the pricing engine works on (Tariff, CDR, Session), version-neutral.

Built by :mod:`kiosk_app.ocpi.pricing.parse` from OCPI 2.1.1, 2.2.1 and 2.3.0 JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from kiosk_app.ocpi.pricing.money import Price, PriceShape


class Dimension(StrEnum):
    """TariffDimensionType."""

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class TaxIncluded(StrEnum):
    """2.3.0 TaxIncluded: whether PriceComponent prices include taxes."""

    YES = "YES"
    NO = "NO"
    NOT_APPLICABLE = "N/A"


class TariffType(StrEnum):
    """TariffType: which sessions a tariff applies to (omitted: all)."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class ReservationRestriction(StrEnum):
    """ReservationRestrictionType."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


DAYS_OF_WEEK = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


@dataclass(frozen=True, slots=True)
class PriceComponent:
    """Price per unit of one dimension; ``vat`` None means no VAT given (not 0 %)."""

    type: Dimension
    price: Decimal
    step_size: int
    vat: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Restrictions:
    """TariffRestrictions; times of day in minutes after local midnight, weekdays 0 = Monday.

    ``end_time`` 0 with a ``start_time`` means the end of the day; ``end_time`` before
    ``start_time`` wraps past midnight.
    """

    start_time: int | None = None
    end_time: int | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    day_of_week: frozenset[int] | None = None
    reservation: ReservationRestriction | None = None

    @property
    def uses_local_time(self) -> bool:
        """Whether matching needs the local wall-clock time."""
        return (
            self.start_time is not None
            or self.end_time is not None
            or self.start_date is not None
            or self.end_date is not None
            or self.day_of_week is not None
        )


@dataclass(frozen=True, slots=True)
class TariffElement:
    """Price components active while the restrictions match."""

    price_components: tuple[PriceComponent, ...]
    restrictions: Restrictions | None = None


@dataclass(frozen=True, slots=True)
class PriceLimit:
    """A ``min_price``/``max_price``: the limit excluding taxes, and including them if given."""

    excl: Decimal
    incl: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DisplayText:
    """A text in one language (ISO 639-1)."""

    language: str
    text: str


# eq=False: a Tariff is compared and hashed by identity, so the engine can cache its compiled
# form per object (see engine.compile_tariff).
@dataclass(frozen=True, eq=False)
class Tariff:
    """An OCPI Tariff of any supported version."""

    id: str
    currency: str
    elements: tuple[TariffElement, ...]
    version: str
    country_code: str | None = None
    party_id: str | None = None
    type: TariffType | None = None
    tariff_alt_text: tuple[DisplayText, ...] = ()
    tariff_alt_url: str | None = None
    min_price: PriceLimit | None = None
    max_price: PriceLimit | None = None
    preauthorize_amount: Decimal | None = None
    tax_included: TaxIncluded | None = None
    start_date_time: dt.datetime | None = None
    end_date_time: dt.datetime | None = None
    last_updated: dt.datetime | None = None

    @property
    def prices_include_tax(self) -> bool:
        """Whether component prices already include taxes (2.3.0 ``tax_included`` YES)."""
        return self.tax_included is TaxIncluded.YES

    @property
    def price_shape(self) -> PriceShape:
        """The Price shape of this tariff's OCPI version."""
        return {"2.3.0": PriceShape.V230, "2.1.1": PriceShape.NUMBER}.get(
            self.version, PriceShape.V221
        )

    def is_active(self, at: dt.datetime) -> bool:
        """Whether ``at`` lies within ``start_date_time`` (incl.) .. ``end_date_time`` (excl.)."""
        if self.start_date_time is not None and at < self.start_date_time:
            return False
        return self.end_date_time is None or at < self.end_date_time


@dataclass(frozen=True, slots=True)
class ChargingPeriod:
    """A charging period: its start and its dimension volumes (kWh, hours, kW, A)."""

    start: dt.datetime
    dimensions: Mapping[str, Decimal]
    tariff_id: str | None = None


@dataclass(frozen=True)
class Cdr:
    """The pricing-relevant part of a CDR; ``totals`` are the CPO's own ``total_*`` fields."""

    start: dt.datetime
    end: dt.datetime
    currency: str
    charging_periods: tuple[ChargingPeriod, ...]
    id: str | None = None
    tariffs: tuple[Tariff, ...] = ()
    totals: Mapping[str, Price | Decimal] = field(default_factory=dict)
    price_shape: PriceShape | None = None


@dataclass(frozen=True)
class Session:
    """The pricing-relevant part of a (running) Session."""

    start: dt.datetime
    currency: str
    kwh: Decimal
    charging_periods: tuple[ChargingPeriod, ...] = ()
    end: dt.datetime | None = None
    last_updated: dt.datetime | None = None
    id: str | None = None
    status: str | None = None
    total_cost: Price | None = None
