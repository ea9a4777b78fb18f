"""AFIR price display: a structured summary of a tariff and its text in de/en/sv/ja."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kiosk_app.ocpi.pricing.hold import Hold
from kiosk_app.ocpi.pricing.model import (
    DAYS_OF_WEEK,
    Dimension,
    PriceComponent,
    Restrictions,
    Tariff,
    TaxIncluded,
)
from kiosk_app.ocpi.pricing.money import minor_units
from kiosk_app.ocpi.pricing.texts import DAY_NAMES, LANGUAGES, NUMBER_STYLE, TEXTS

# AFIR order: per kWh, per minute, per session, parking.
ORDER = (Dimension.ENERGY, Dimension.TIME, Dimension.FLAT, Dimension.PARKING_TIME)
UNITS = {
    Dimension.ENERGY: "kWh",
    Dimension.TIME: "min",
    Dimension.FLAT: "session",
    Dimension.PARKING_TIME: "min",
}
SIXTY = Decimal(60)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class PriceLine:
    """One price of a tariff as a driver sees it: ``price`` per ``unit`` (kWh, min, session),
    including tax when ``includes_tax``; ``conditions`` are the element's restrictions."""

    dimension: str
    price: Decimal
    unit: str
    includes_tax: bool
    vat: Decimal | None
    step_size: int
    conditions: tuple[tuple[str, object], ...]


@dataclass(frozen=True, slots=True)
class PriceSummary:
    """Structured AFIR price information of one tariff."""

    tariff_id: str
    currency: str
    language: str
    lines: tuple[PriceLine, ...]
    includes_tax: bool
    vat_rates: tuple[Decimal, ...]
    parking_grace_minutes: int | None
    varies_by_time_of_day: bool
    varies_by_weekday: bool
    min_price: Decimal | None
    max_price: Decimal | None
    alt_text: str | None
    alt_url: str | None


def _conditions(r: Restrictions | None) -> tuple[tuple[str, object], ...]:
    if r is None:
        return ()
    items: list[tuple[str, object]] = []
    if r.start_time is not None or r.end_time is not None:
        start = r.start_time or 0
        end = r.end_time if r.end_time not in (None, 0) else 1440
        items.append(
            ("hours", (f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"))
        )
    if r.day_of_week is not None:
        items.append(("days", tuple(DAYS_OF_WEEK[d] for d in sorted(r.day_of_week))))
    if r.start_date is not None or r.end_date is not None:
        items.append(("dates", (r.start_date, r.end_date)))
    for key, value in (
        ("from_kwh", r.min_kwh),
        ("until_kwh", r.max_kwh),
        ("from_power", r.min_power),
        ("below_power", r.max_power),
        ("from_current", r.min_current),
        ("below_current", r.max_current),
    ):
        if value:
            items.append((key, value))
    if r.min_duration:
        items.append(("from_min", r.min_duration // 60))
    if r.max_duration is not None:
        items.append(("until_min", r.max_duration // 60))
    return tuple(items)


def _display_price(tariff: Tariff, component: PriceComponent) -> tuple[Decimal, bool]:
    price = component.price
    if component.type in (Dimension.TIME, Dimension.PARKING_TIME):
        price = price / SIXTY
    if tariff.tax_included in (TaxIncluded.YES, TaxIncluded.NOT_APPLICABLE):
        return price, True
    if component.vat is None:
        return price, False
    return price * (1 + component.vat / HUNDRED), True


def _alt_text(tariff: Tariff, lang: str) -> str | None:
    for text in tariff.tariff_alt_text:
        if text.language.lower().split("-")[0] == lang:
            return text.text
    return None


def _grace_minutes(price: Decimal, r: Restrictions | None) -> int | None:
    """Free parking at the start of a session, from the first parking element: a free one
    limited by ``max_duration``, or a paid one starting at ``min_duration``; 0 when parking is
    paid from the start (durations count from the session start, mod_tariffs)."""
    if not price:
        return r.max_duration // 60 if r and r.max_duration and not r.min_duration else None
    return r.min_duration // 60 if r and r.min_duration else 0


def describe(tariff: Tariff, lang: str) -> PriceSummary:
    """The structured price summary of ``tariff`` for a driver speaking ``lang``."""
    lines = []
    grace = None
    for dimension in ORDER:
        for element in tariff.elements:
            r = element.restrictions
            if r is not None and r.reservation is not None:
                continue
            for component in element.price_components:
                if component.type is not dimension:
                    continue
                price, includes_tax = _display_price(tariff, component)
                conditions = _conditions(r)
                if dimension is Dimension.PARKING_TIME and grace is None:
                    grace = _grace_minutes(price, r)
                lines.append(
                    PriceLine(
                        dimension.value,
                        price,
                        UNITS[dimension],
                        includes_tax,
                        component.vat,
                        component.step_size,
                        conditions,
                    )
                )
    keys = {key for line in lines for key, _ in line.conditions}

    def limit(value: object) -> Decimal | None:
        if value is None:
            return None
        return value.incl if value.incl is not None else value.excl

    return PriceSummary(
        tariff_id=tariff.id,
        currency=tariff.currency,
        language=lang,
        lines=tuple(lines),
        includes_tax=all(line.includes_tax for line in lines),
        vat_rates=tuple(sorted({line.vat for line in lines if line.vat is not None})),
        parking_grace_minutes=grace,
        varies_by_time_of_day="hours" in keys,
        varies_by_weekday="days" in keys,
        min_price=limit(tariff.min_price),
        max_price=limit(tariff.max_price),
        alt_text=_alt_text(tariff, lang),
        alt_url=tariff.tariff_alt_url,
    )


def format_money(amount: Decimal, currency: str, lang: str) -> str:
    """``amount`` with the currency's minor units (up to 4 decimals when a unit price needs
    them) in the language's number style, followed by the currency code."""
    minor = minor_units(currency)
    value = amount.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    if value.as_tuple().exponent > -minor:
        value = value.quantize(Decimal(1).scaleb(-minor))
    text = f"{value:f}"
    return f"{text.replace('.', NUMBER_STYLE[lang])} {currency}"


def _number(value: Decimal, lang: str) -> str:
    return f"{value.normalize():f}".replace(".", NUMBER_STYLE[lang])


def _condition_text(key: str, value: object, lang: str) -> str:
    words = TEXTS[lang]
    if key == "hours":
        start, end = value
        return words["hours"].format(start=start, end=end)
    if key == "days":
        names = DAY_NAMES[lang]
        return words["days"].format(days=", ".join(names[DAYS_OF_WEEK.index(d)] for d in value))
    if key == "dates":
        start, end = value
        return words["dates"].format(start=start or "", end=end or "")
    if key in ("from_min", "until_min"):
        return words[key].format(minutes=value)
    unit = {"kwh": "kwh", "power": "kw", "current": "amps"}[key.rsplit("_", 1)[1]]
    return words[key].format(**{unit: _number(value, lang)})


def describe_text(tariff: Tariff, lang: str) -> str:
    """The driver's price text in ``lang`` (de, en, sv, ja); the tariff's ``tariff_alt_text``
    in that language wins when present."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")
    summary = describe(tariff, lang)
    if summary.alt_text:
        return summary.alt_text
    words = TEXTS[lang]
    out = []
    for line in summary.lines:
        money = format_money(line.price, summary.currency, lang)
        unit = {"kWh": "per_kwh", "min": "per_min", "session": "per_session"}[line.unit]
        price = words[unit].format(price=money) if line.price else words["free"]
        conditions = [_condition_text(k, v, lang) for k, v in line.conditions]
        suffix = f" ({', '.join(conditions)})" if conditions else ""
        out.append(f"{words[line.dimension]}: {price}{suffix}")
    if not any(line.price for line in summary.lines) and not summary.min_price:
        out = [words["free"]]
    for key, value in (("min_price", summary.min_price), ("max_price", summary.max_price)):
        if value is not None:
            out.append(words[key].format(price=format_money(value, summary.currency, lang)))
    if summary.vat_rates and summary.includes_tax:
        rates = ", ".join(f"{_number(rate, lang)} %" for rate in summary.vat_rates)
        out.append(words["incl_tax"].format(rates=rates))
    elif summary.includes_tax:
        out.append(words["tax_included"])
    else:
        out.append(words["no_tax_info"])
    return "\n".join(out)


def explain_hold(hold: Hold, lang: str) -> str:
    """The sentence shown before the card tap explaining the hold amount."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")
    amount = format_money(hold.amount, hold.currency, lang)
    return TEXTS[lang][f"hold_{hold.reason}"].format(amount=amount)
