"""Strict parsers from OCPI JSON (2.1.1, 2.2.1, 2.3.0) to the pricing objects.

Strict about content (types, ranges, enums, formats), tolerant of unknown fields as OCPI
requires. Every error is a one-line :class:`TariffError`/:class:`CdrError` naming the JSON path.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kiosk_app.ocpi.pricing.errors import CdrError, PricingInputError, TariffError
from kiosk_app.ocpi.pricing.model import (
    DAYS_OF_WEEK,
    Cdr,
    ChargingPeriod,
    Dimension,
    DisplayText,
    PriceComponent,
    PriceLimit,
    ReservationRestriction,
    Restrictions,
    Session,
    Tariff,
    TariffElement,
    TariffType,
    TaxIncluded,
)
from kiosk_app.ocpi.pricing.money import Price, PriceShape, TaxAmount

VERSIONS = ("2.1.1", "2.2.1", "2.3.0")
CDR_TOTAL_PRICES = (
    "total_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_fixed_cost",
    "total_reservation_cost",
)
CDR_TOTAL_VOLUMES = ("total_energy", "total_time", "total_parking_time")

_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_DATE_RE = re.compile(r"[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")

Err = type[PricingInputError]


def _join(prefix: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{prefix}[{name}]"
    return f"{prefix}.{name}" if prefix else name


# A JSON path, built lazily: a string, or (parent reader, field, list index) resolved only when
# an error message needs it, which keeps the parsing of valid documents fast.
JsonPath = str | tuple["_Reader", str, int]


def _resolve(path: JsonPath) -> str:
    if isinstance(path, str):
        return path
    parent, name, index = path
    return _join(parent.at(name), index)


class _Reader:
    """Reads typed fields from one JSON object, raising errors with the object's path."""

    __slots__ = ("_path", "data", "error")

    def __init__(self, data: object, path: JsonPath, error: Err) -> None:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise error(_resolve(path), f"expected an object, got {_kind(data)}")
        self.data = data
        self._path = path
        self.error = error

    @property
    def path(self) -> str:
        return _resolve(self._path)

    def at(self, name: str | int) -> str:
        return _join(self.path, name)

    def fail(self, name: str, problem: str) -> PricingInputError:
        return self.error(self.at(name), problem)

    def get(self, name: str, required: bool = False) -> Any:
        value = self.data.get(name)
        if value is None and required:
            raise self.fail(name, "missing required field")
        return value

    def string(self, name: str, required: bool = False, max_len: int | None = None) -> str | None:
        value = self.get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(name, f"expected a string, got {_kind(value)}")
        if max_len is not None and len(value) > max_len:
            raise self.fail(name, f"longer than {max_len} characters")
        return value

    def number(
        self, name: str, required: bool = False, minimum: Decimal | None = None, what: str = "value"
    ) -> Decimal | None:
        value = self.get(name, required)
        if value is None:
            return None
        number = _as_decimal(value)
        if number is None:
            to_decimal(value, self.at(name), self.error)
        if minimum is not None and number < minimum:
            raise self.fail(name, f"negative {what} {number}")
        return number

    def integer(self, name: str, required: bool = False) -> int | None:
        value = self.get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise self.fail(name, f"expected an integer, got {value!r}")
        if value < 0:
            raise self.fail(name, f"negative value {value}")
        return value

    def datetime(self, name: str, required: bool = False) -> dt.datetime | None:
        value = self.string(name, required)
        if value is None:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return parse_datetime(value, self.at(name), self.error)
        return _utc(parsed)

    def enum(self, name: str, values: type, required: bool = False) -> Any:
        value = self.string(name, required)
        if value is None:
            return None
        try:
            return values(value)
        except ValueError:
            allowed = ", ".join(v.value for v in values)
            raise self.fail(name, f"unknown value {value!r} (expected {allowed})") from None

    def array(self, name: str, required: bool = False, non_empty: bool = False) -> list[Any]:
        value = self.get(name, required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(name, f"expected a list, got {_kind(value)}")
        if non_empty and not value:
            raise self.fail(name, "must not be empty")
        return value


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _as_decimal(value: object) -> Decimal | None:
    """Fast path of :func:`to_decimal`: None when the value needs its error message."""
    kind = type(value)
    if kind is Decimal:
        return value if value.is_finite() else None
    if kind is int:
        return Decimal(value)
    if kind is float and math.isfinite(value):
        return Decimal(repr(value))
    return None


def to_decimal(value: object, path: str, error: Err = TariffError) -> Decimal:
    """A JSON number as ``Decimal`` (floats via their shortest repr, so 0.1 stays 0.1)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise error(path, f"expected a number, got {_kind(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise error(path, f"not a finite number: {value}")
        return Decimal(repr(value))
    number = Decimal(value)
    if not number.is_finite():
        raise error(path, f"not a finite number: {value}")
    return number


def parse_datetime(value: str, path: str, error: Err = TariffError) -> dt.datetime:
    """An RFC 3339 DateTime as an aware UTC datetime (no offset given: UTC, as OCPI says)."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise error(path, f"malformed date-time {value!r}") from None
    return _utc(parsed)


def _utc(parsed: dt.datetime) -> dt.datetime:
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _time_of_day(reader: _Reader, name: str) -> int | None:
    value = reader.string(name)
    if value is None:
        return None
    match = _TIME_RE.fullmatch(value)
    if match is None:
        raise reader.fail(name, f"malformed time {value!r} (expected HH:MM, 00:00-23:59)")
    return int(match[1]) * 60 + int(match[2])


def _date(reader: _Reader, name: str) -> dt.date | None:
    value = reader.string(name)
    if value is None:
        return None
    try:
        if _DATE_RE.fullmatch(value) is None:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise reader.fail(name, f"malformed date {value!r} (expected YYYY-MM-DD)") from None


def _ordered(
    reader: _Reader, low_name: str, low: Any, high_name: str, high: Any, strict: bool = False
) -> None:
    if low is None or high is None:
        return
    if high < low or (strict and high == low):
        raise reader.fail(high_name, f"{high} is before {low_name} {low}")


def _restrictions(data: object, path: JsonPath) -> Restrictions:
    r = _Reader(data, path, TariffError)
    days = None
    if r.get("day_of_week") is not None:
        names = r.array("day_of_week")
        for index, day in enumerate(names):
            if day not in DAYS_OF_WEEK:
                raise TariffError(_join(r.at("day_of_week"), index), f"unknown day {day!r}")
        days = frozenset(DAYS_OF_WEEK.index(day) for day in names)
    values = {
        "start_time": _time_of_day(r, "start_time"),
        "end_time": _time_of_day(r, "end_time"),
        "start_date": _date(r, "start_date"),
        "end_date": _date(r, "end_date"),
        "min_duration": r.integer("min_duration"),
        "max_duration": r.integer("max_duration"),
        "day_of_week": days,
        "reservation": r.enum("reservation", ReservationRestriction),
    }
    for quantity in ("kwh", "current", "power"):
        for bound in ("min", "max"):
            name = f"{bound}_{quantity}"
            values[name] = r.number(name, minimum=Decimal(0))
    _ordered(r, "start_date", values["start_date"], "end_date", values["end_date"], strict=True)
    for quantity in ("kwh", "current", "power", "duration"):
        low, high = f"min_{quantity}", f"max_{quantity}"
        _ordered(r, low, values[low], high, values[high])
    return Restrictions(**values)


def _component(data: object, path: JsonPath) -> PriceComponent:
    r = _Reader(data, path, TariffError)
    dimension = r.enum("type", Dimension, required=True)
    price = r.number("price", required=True, minimum=Decimal(0), what="price")
    vat = r.number("vat", minimum=Decimal(0), what="vat")
    if vat is not None and vat > 100:
        raise r.fail("vat", f"vat {vat} % is over 100 %")
    step_size = r.integer("step_size", required=True)
    return PriceComponent(type=dimension, price=price, step_size=step_size, vat=vat)


def _element(data: object, path: JsonPath) -> TariffElement:
    r = _Reader(data, path, TariffError)
    components = tuple(
        _component(item, (r, "price_components", index))
        for index, item in enumerate(r.array("price_components", required=True, non_empty=True))
    )
    raw = r.get("restrictions")
    restrictions = None if raw is None else _restrictions(raw, r.at("restrictions"))
    return TariffElement(price_components=components, restrictions=restrictions)


def _price_limit(r: _Reader, name: str) -> PriceLimit | None:
    price = parse_price(r.get(name), r.at(name), TariffError) if r.get(name) is not None else None
    if price is None:
        return None
    for label, value in (("excl", price.excl), ("incl", price.incl)):
        if value is not None and value < 0:
            raise r.fail(name, f"negative {label} amount {value}")
    return PriceLimit(excl=price.excl, incl=price.incl)


def parse_price(data: object, path: str, error: Err = CdrError) -> Price:
    """An OCPI Price: 2.2.1 ``{excl_vat, incl_vat?}``, 2.3.0 ``{before_taxes, taxes[]}`` or
    PriceLimit ``{before_taxes, after_taxes?}``, or a 2.1.1 plain number."""
    if not isinstance(data, Mapping):
        number = to_decimal(data, path, error)
        return Price(excl=number, incl=number, shape=PriceShape.NUMBER)
    r = _Reader(data, path, error)
    if "excl_vat" in data:
        return Price(r.number("excl_vat", required=True), r.number("incl_vat"), PriceShape.V221)
    if "before_taxes" not in data:
        raise error(path, "expected excl_vat (2.2.1) or before_taxes (2.3.0)")
    before = r.number("before_taxes", required=True)
    if "after_taxes" in data:
        return Price(before, r.number("after_taxes"), PriceShape.V230)
    taxes = []
    for index, item in enumerate(r.array("taxes")):
        t = _Reader(item, (r, "taxes", index), error)
        taxes.append(
            TaxAmount(
                t.string("name") or "", t.number("amount", required=True), t.number("percentage")
            )
        )
    incl = before + sum((t.amount for t in taxes), Decimal(0))
    return Price(before, incl, PriceShape.V230, tuple(taxes))


def detect_tariff_version(data: Mapping[str, Any]) -> str:
    """The OCPI version a Tariff document looks like (2.2.1 when nothing tells)."""
    limits = [data.get(name) for name in ("min_price", "max_price")]
    if (
        "tax_included" in data
        or "preauthorize_amount" in data
        or any(isinstance(limit, Mapping) and "before_taxes" in limit for limit in limits)
    ):
        return "2.3.0"
    return "2.2.1"


def parse_tariff(data: object, version: str | None = None, path: str = "") -> Tariff:
    """A validated :class:`Tariff` from an OCPI Tariff JSON object.

    Raises :class:`TariffError` naming the field, e.g.
    ``elements[2].price_components[0].price: negative price -0.1``.
    """
    r = _Reader(data, path, TariffError)
    if version is None:
        version = detect_tariff_version(r.data)
    elif version not in VERSIONS:
        raise TariffError(path, f"unsupported OCPI version {version!r}")
    currency = r.string("currency", required=True)
    if _CURRENCY_RE.fullmatch(currency) is None:
        raise r.fail("currency", f"not an ISO 4217 code: {currency!r}")
    tariff_id = r.string("id", required=True, max_len=36)
    elements = tuple(
        _element(item, (r, "elements", index))
        for index, item in enumerate(r.array("elements", required=True, non_empty=True))
    )
    alt_texts = []
    for index, item in enumerate(r.array("tariff_alt_text")):
        t = _Reader(item, (r, "tariff_alt_text", index), TariffError)
        alt_texts.append(
            DisplayText(t.string("language", required=True), t.string("text", required=True))
        )
    min_price, max_price = _price_limit(r, "min_price"), _price_limit(r, "max_price")
    if min_price and max_price and max_price.excl < min_price.excl:
        raise r.fail("max_price", f"{max_price.excl} is below min_price {min_price.excl}")
    preauthorize = r.get("preauthorize_amount")
    if isinstance(preauthorize, Mapping):
        preauthorize = parse_price(preauthorize, r.at("preauthorize_amount"), TariffError)
        preauthorize = preauthorize.after_taxes
    elif preauthorize is not None:
        preauthorize = r.number("preauthorize_amount", minimum=Decimal(0), what="amount")
    start, end = r.datetime("start_date_time"), r.datetime("end_date_time")
    _ordered(r, "start_date_time", start, "end_date_time", end, strict=True)
    return Tariff(
        id=tariff_id,
        currency=currency,
        elements=elements,
        version=version,
        country_code=r.string("country_code"),
        party_id=r.string("party_id"),
        type=r.enum("type", TariffType),
        tariff_alt_text=tuple(alt_texts),
        tariff_alt_url=r.string("tariff_alt_url"),
        min_price=min_price,
        max_price=max_price,
        preauthorize_amount=preauthorize,
        tax_included=r.enum("tax_included", TaxIncluded),
        start_date_time=start,
        end_date_time=end,
        last_updated=r.datetime("last_updated"),
    )


# Session dimensions whose volume may be negative (current and energy flowing back).
_SIGNED_DIMENSIONS = frozenset({"CURRENT", "ENERGY_EXPORT", "ENERGY_IMPORT"})


def _dimension(dim: object, p: _Reader, number: int) -> tuple[str, Decimal]:
    """A CdrDimension as (type, volume). Valid input takes the fast path; anything else goes
    through the reader, which raises the error naming the field."""
    if type(dim) is dict:
        kind, volume = dim.get("type"), _as_decimal(dim.get("volume"))
        if type(kind) is str and volume is not None and (volume >= 0 or kind in _SIGNED_DIMENSIONS):
            return kind, volume
    d = _Reader(dim, (p, "dimensions", number), CdrError)
    d.string("type", required=True)
    volume = d.number("volume", required=True)
    raise d.fail("volume", f"negative volume {volume}")


def _periods(r: _Reader) -> tuple[ChargingPeriod, ...]:
    periods = []
    for index, item in enumerate(r.array("charging_periods")):
        p = _Reader(item, (r, "charging_periods", index), CdrError)
        dimensions: dict[str, Decimal] = {}
        for number, dim in enumerate(p.array("dimensions")):
            kind, volume = _dimension(dim, p, number)
            previous = dimensions.get(kind)
            dimensions[kind] = volume if previous is None else previous + volume
        periods.append(
            ChargingPeriod(
                p.datetime("start_date_time", required=True), dimensions, p.string("tariff_id")
            )
        )
    return tuple(periods)


def _currency(r: _Reader) -> str:
    currency = r.string("currency", required=True)
    if _CURRENCY_RE.fullmatch(currency) is None:
        raise r.fail("currency", f"not an ISO 4217 code: {currency!r}")
    return currency


def parse_cdr(data: object, version: str | None = None) -> Cdr:
    """A :class:`Cdr` from an OCPI CDR JSON object (full or partial; 2.1.1 ``stop_date_time``
    accepted). Embedded tariffs are parsed with :func:`parse_tariff`; the CPO's ``total_*``
    fields are kept in ``totals`` for cross-checking, never used as input."""
    r = _Reader(data, "", CdrError)
    start = r.datetime("start_date_time", required=True)
    end_name = "stop_date_time" if "end_date_time" not in r.data else "end_date_time"
    end = r.datetime(end_name, required=True)
    if end < start:
        raise r.fail(end_name, f"{end.isoformat()} is before start_date_time")
    tariffs = tuple(
        parse_tariff(item, version, _join("tariffs", index))
        for index, item in enumerate(r.array("tariffs"))
    )
    totals: dict[str, Price | Decimal] = {}
    for name in CDR_TOTAL_PRICES:
        if r.get(name) is not None:
            totals[name] = parse_price(r.get(name), name)
    for name in CDR_TOTAL_VOLUMES:
        if r.get(name) is not None:
            totals[name] = r.number(name)
    shape = totals["total_cost"].shape if "total_cost" in totals else None
    return Cdr(
        start=start,
        end=end,
        currency=_currency(r),
        charging_periods=_periods(r),
        id=r.string("id"),
        tariffs=tariffs,
        totals=totals,
        price_shape=shape,
    )


def parse_session(data: object) -> Session:
    """A :class:`Session` from an OCPI Session JSON object (2.1.1 ``start_datetime`` too)."""
    r = _Reader(data, "", CdrError)
    start_name = "start_datetime" if "start_date_time" not in r.data else "start_date_time"
    end_name = "end_datetime" if "end_date_time" not in r.data else "end_date_time"
    total = r.get("total_cost")
    return Session(
        start=r.datetime(start_name, required=True),
        currency=_currency(r),
        kwh=r.number("kwh", required=True, minimum=Decimal(0), what="energy"),
        charging_periods=_periods(r),
        end=r.datetime(end_name),
        last_updated=r.datetime("last_updated"),
        id=r.string("id"),
        status=r.string("status"),
        total_cost=None if total is None else parse_price(total, "total_cost"),
    )
