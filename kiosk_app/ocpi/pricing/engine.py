"""The pricing core: split charging periods at restriction boundaries, pick the tariff element
per dimension, add up billed volumes per price component, apply step_size once per session,
then price, tax and limit the totals.

Volumes are accumulated per price component and multiplied by the price once at the end, which
is exact with ``Decimal`` and keeps the per-period work to additions.
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, Decimal

from kiosk_app.ocpi.pricing.breakdown import (
    CATEGORIES,
    HUNDRED,
    Amount,
    PriceBreakdown,
    TaxLine,
    payable,
)
from kiosk_app.ocpi.pricing.errors import CdrError
from kiosk_app.ocpi.pricing.model import (
    ChargingPeriod,
    Dimension,
    PriceLimit,
    Tariff,
)
from kiosk_app.ocpi.pricing.money import DEFAULT_ROUNDING, ZERO, PriceShape
from kiosk_app.ocpi.pricing.rules import (
    CHARGING,
    EXPIRED,
    RESERVED,
    Candidate,
    CompiledTariff,
    Piece,
    compile_tariff,
    select,
)
from kiosk_app.ocpi.pricing.timeline import US, local_boundaries, to_us

HOUR_US = 3600 * US
ONE = Decimal(1)
THOUSAND = Decimal(1000)
SECONDS_PER_HOUR = Decimal(3600)

RESERVATION_DIMENSION = "RESERVATION_TIME"

# Billing groups: where a component's cost is reported, and which volumes step_size rounds.
ENERGY, TIME, PARKING, FIXED, RESERVATION_TIME, RESERVATION_FLAT = range(6)
_GROUP_CATEGORY = {
    ENERGY: "energy",
    TIME: "time",
    PARKING: "parking",
    FIXED: "fixed",
    RESERVATION_TIME: "reservation",
    RESERVATION_FLAT: "reservation",
}


# Amounts carry 12 decimals internally: far below the 4 of OCPI and the minor units paid, and
# fixed-point, so that every sum of parts is exact.
INTERNAL = Decimal("1e-12")
# Volumes are compared with step sizes at micro-unit precision (µs, µWh): quotients such as
# 600 s / 3600 s carry noise in the 28th digit that must not round a whole step up.
MICRO = Decimal("0.000001")


def _ceil_to(value: Decimal, step: Decimal) -> Decimal:
    return (value.quantize(MICRO) / step).to_integral_value(rounding=ROUND_CEILING) * step


def _limit(total: Amount, low: PriceLimit | None, high: PriceLimit | None) -> Amount:
    """Apply min_price/max_price; excl and incl limits each apply (mod_tariffs notes). A limit
    given without incl scales incl in the same proportion as excl."""
    excl, incl = total.excl, total.incl
    new_excl, new_incl = excl, incl
    for limit, clamp in ((low, max), (high, min)):
        if limit is None:
            continue
        new_excl = clamp(new_excl, limit.excl)
        if limit.incl is not None:
            new_incl = clamp(new_incl, limit.incl)
        elif excl:
            new_incl = clamp(new_incl, (incl * limit.excl / excl).quantize(INTERNAL))
        else:
            new_incl = clamp(new_incl, limit.excl)
    if (new_excl, new_incl) == (excl, incl):
        return total
    if not excl or not incl:
        rate = total.lines[0].rate if len(total.lines) == 1 else None
        return Amount((TaxLine(rate, new_excl, new_incl - new_excl),))
    # Scale each rate's share; the last line takes the remainder so the sums are exact.
    excl_factor, incl_factor = new_excl / excl, new_incl / incl
    lines = []
    excl_left, incl_left = new_excl, new_incl
    for position, line in enumerate(total.lines):
        last = position == len(total.lines) - 1
        line_excl = excl_left if last else (line.excl * excl_factor).quantize(INTERNAL)
        line_incl = incl_left if last else (line.incl * incl_factor).quantize(INTERNAL)
        excl_left, incl_left = excl_left - line_excl, incl_left - line_incl
        lines.append(TaxLine(line.rate, line_excl, line_incl - line_excl))
    return Amount(tuple(lines))


def _amount(basis: Decimal, rate: Decimal | None, includes_tax: bool) -> TaxLine:
    basis = basis.quantize(INTERNAL)
    if rate is None or not rate:
        return TaxLine(rate, basis, ZERO)
    if includes_tax:
        excl = (basis / (1 + rate / HUNDRED)).quantize(INTERNAL)
        return TaxLine(rate, excl, basis - excl)
    return TaxLine(rate, basis, (basis * rate / HUNDRED).quantize(INTERNAL))


Key = tuple[int, Candidate]


class _Usage:
    """Accumulates billed volumes per price component while walking the periods."""

    def __init__(self) -> None:
        self.volumes: dict[Key, Decimal] = {}
        self.groups: dict[Key, int] = {}
        self.last: dict[int, Key] = {}
        self.flat_done = {CHARGING: False, RESERVED: False}

    def add(self, tariff: int, candidate: Candidate, group: int, volume: Decimal) -> None:
        key = (tariff, candidate)
        previous = self.volumes.get(key)
        if previous is None:
            self.volumes[key] = volume
            self.groups[key] = group
        else:
            self.volumes[key] = previous + volume
        self.last[group] = key

    def group_total(self, group: int) -> Decimal:
        return sum((v for k, v in self.volumes.items() if self.groups[k] == group), ZERO)

    def round_up(self, group: int, unit: Decimal) -> None:
        """step_size once per session on the group's total, with the step of the last
        component used; the extra volume is billed at that component's price."""
        key = self.last.get(group)
        if key is None:
            return
        step = key[1].component.step_size
        if step <= 0:
            return
        total = self.group_total(group)
        extra = _ceil_to(total * unit, Decimal(step)) / unit - total
        if extra:
            self.volumes[key] += extra


def _default_tariff(tariffs: Sequence[Tariff], start: dt.datetime) -> int:
    for index, tariff in enumerate(tariffs):
        if tariff.is_active(start):
            return index
    return 0


def price_periods(
    tariffs: Sequence[Tariff],
    start: dt.datetime,
    end: dt.datetime,
    periods: Sequence[ChargingPeriod],
    currency: str,
    tz: dt.tzinfo | str,
    shape: PriceShape | None = None,
    rounding: str = DEFAULT_ROUNDING,
) -> PriceBreakdown:
    """Price charging periods between ``start`` and ``end`` with ``tariffs`` (the first one
    valid at ``start`` unless a period names its ``tariff_id``), in the location's zone ``tz``."""
    if not tariffs:
        raise CdrError("tariffs", "no tariff to price with")
    zone = zoneinfo.ZoneInfo(tz) if isinstance(tz, str) else tz
    for index, tariff in enumerate(tariffs):
        if tariff.currency != currency:
            raise CdrError(
                f"tariffs[{index}].currency",
                f"{tariff.currency} differs from the CDR currency {currency}",
            )
    compiled = [compile_tariff(tariff) for tariff in tariffs]
    by_id = {tariff.id: index for index, tariff in reversed(list(enumerate(tariffs)))}
    default = _default_tariff(tariffs, start)
    warnings: list[str] = []
    if not tariffs[default].is_active(start):
        warnings.append(f"no tariff is valid at the session start; priced with {tariffs[0].id}")

    start_us, end_us = to_us(start), to_us(end)
    starts = [to_us(p.start) for p in periods]
    first_us = min([start_us, *starts])
    last_us = max([end_us, *starts])
    boundaries: set[int] = set()
    if any(c.uses_local_time for c in compiled):
        minutes = frozenset().union(*(c.minutes_of_day for c in compiled))
        boundaries.update(local_boundaries(first_us, last_us, zone, minutes))
    for c in compiled:
        boundaries.update(start_us + seconds * US for seconds in c.durations)
    cuts = sorted(boundaries)
    reserved = [RESERVATION_DIMENSION in p.dimensions for p in periods]
    has_charging = not all(reserved)
    piece = Piece(None, 0, ZERO, None, None, None, None, CHARGING)
    usage = _Usage()
    kwh = ZERO
    total_parking = ZERO
    for number, period in enumerate(periods):
        p_start = starts[number]
        p_end = starts[number + 1] if number + 1 < len(periods) else end_us
        if p_start < start_us or p_start > end_us:
            warnings.append(f"charging_periods[{number}] starts outside the session")
        if p_end < p_start:
            warnings.append(f"charging_periods[{number}] ends before it starts")
            p_end = p_start
        tariff_index = default
        if period.tariff_id is not None:
            tariff_index = by_id.get(period.tariff_id, default)
            if period.tariff_id not in by_id:
                warnings.append(
                    f"charging_periods[{number}].tariff_id {period.tariff_id} is unknown; "
                    f"priced with {tariffs[default].id}"
                )
        dims = period.dimensions
        energy = dims.get("ENERGY", ZERO)
        total_parking += dims.get("PARKING_TIME", ZERO)
        reservation = CHARGING
        if reserved[number]:
            reservation = RESERVED if has_charging else EXPIRED
        _set_conditions(piece, dims, energy, p_end - p_start, reservation)
        kwh = _price_period(
            usage,
            tariff_index,
            compiled[tariff_index],
            piece,
            period,
            p_start,
            p_end,
            start_us,
            kwh,
            energy,
            cuts,
            zone,
        )
    if not periods:
        _price_flat_only(usage, default, compiled[default], start_us, zone)

    usage.round_up(ENERGY, THOUSAND)
    usage.round_up(RESERVATION_TIME, SECONDS_PER_HOUR)
    if usage.last.get(PARKING) is not None and usage.group_total(PARKING):
        usage.round_up(PARKING, SECONDS_PER_HOUR)
    else:
        usage.round_up(TIME, SECONDS_PER_HOUR)

    return _breakdown(
        usage,
        tariffs,
        default,
        currency,
        shape,
        rounding,
        kwh,
        start_us,
        end_us,
        total_parking,
        warnings,
    )


def _set_conditions(
    piece: Piece, dims: Mapping[str, Decimal], energy: Decimal, duration_us: int, reservation: int
) -> None:
    """The period-wide conditions: power (reported, else average), current, reservation."""
    low, high = dims.get("MIN_POWER"), dims.get("MAX_POWER")
    if low is None and high is None and energy and duration_us > 0:
        low = high = energy * HOUR_US / duration_us
    piece.min_power = low if low is not None else high
    piece.max_power = high if high is not None else low
    low, high = dims.get("MIN_CURRENT"), dims.get("MAX_CURRENT")
    piece.min_current = low if low is not None else high
    piece.max_current = high if high is not None else low
    piece.reservation = reservation


def _price_period(
    usage: _Usage,
    tariff: int,
    compiled: CompiledTariff,
    piece: Piece,
    period: ChargingPeriod,
    p_start: int,
    p_end: int,
    session_start: int,
    kwh: Decimal,
    energy: Decimal,
    cuts: list[int],
    zone: dt.tzinfo,
) -> Decimal:
    """Price one period, split at the boundaries inside it; returns the energy after it."""
    dims = period.dimensions
    # Split points as (fraction of the period, start µs, kWh consumed at that point).
    points: list[tuple[Decimal, int, Decimal]] = [(ZERO, p_start, kwh)]
    low, high = bisect.bisect_right(cuts, p_start), bisect.bisect_left(cuts, p_end)
    duration = p_end - p_start
    for cut in cuts[low:high]:
        fraction = Decimal(cut - p_start) / duration
        points.append((fraction, cut, kwh + energy * fraction))
    if energy > 0:
        for threshold in compiled.kwh_thresholds:
            if kwh < threshold < kwh + energy:
                fraction = (threshold - kwh) / energy
                points.append((fraction, p_start + int(duration * fraction), threshold))
    if len(points) == 1:
        piece.local = (
            dt.datetime.fromtimestamp(p_start // US, zone) if compiled.uses_local_time else None
        )
        piece.duration_us = p_start - session_start
        piece.kwh_before = kwh
        _price_piece(usage, tariff, compiled, piece, energy, dims)
        return kwh + energy
    if len(points) > 2:
        points.sort()
    points.append((ONE, p_end, kwh + energy))
    volumes = {name: dims.get(name, ZERO) for name in ("TIME", "PARKING_TIME", "RESERVATION_TIME")}
    used = dict.fromkeys(volumes, ZERO)
    last = len(points) - 2
    for index in range(last + 1):
        fraction, at, kwh_at = points[index]
        next_fraction, _, next_kwh = points[index + 1]
        if index == last:
            shares = {name: volumes[name] - used[name] for name in volumes}
        else:
            shares = {name: volumes[name] * (next_fraction - fraction) for name in volumes}
            for name in volumes:
                used[name] += shares[name]
        piece.local = (
            dt.datetime.fromtimestamp(at // US, zone) if compiled.uses_local_time else None
        )
        piece.duration_us = at - session_start
        piece.kwh_before = kwh_at
        _price_piece(usage, tariff, compiled, piece, next_kwh - kwh_at, shares)
    return kwh + energy


_TIMED = ((Dimension.TIME, TIME, "TIME"), (Dimension.PARKING_TIME, PARKING, "PARKING_TIME"))


def _price_piece(
    usage: _Usage,
    tariff: int,
    compiled: CompiledTariff,
    piece: Piece,
    energy: Decimal,
    shares: Mapping[str, Decimal],
) -> None:
    verdicts: dict[int, bool] = {}
    by_dimension = compiled.by_dimension
    if piece.reservation != CHARGING:
        expired = piece.reservation == EXPIRED
        if not usage.flat_done[RESERVED]:
            flat = select(
                compiled.expired_flat if expired else by_dimension[Dimension.FLAT], piece, verdicts
            )
            if flat is not None:
                usage.add(tariff, flat, RESERVATION_FLAT, ONE)
                usage.flat_done[RESERVED] = True
        volume = shares.get("RESERVATION_TIME", ZERO)
        if volume:
            chosen = select(
                compiled.expired_time if expired else by_dimension[Dimension.TIME], piece, verdicts
            )
            if chosen is not None:
                usage.add(tariff, chosen, RESERVATION_TIME, volume)
        return
    if not usage.flat_done[CHARGING]:
        flat = select(by_dimension[Dimension.FLAT], piece, verdicts)
        if flat is not None:
            usage.add(tariff, flat, FIXED, ONE)
            usage.flat_done[CHARGING] = True
    if energy:
        chosen = select(by_dimension[Dimension.ENERGY], piece, verdicts)
        if chosen is not None:
            usage.add(tariff, chosen, ENERGY, energy)
    for dimension, group, name in _TIMED:
        volume = shares.get(name)
        if volume:
            chosen = select(by_dimension[dimension], piece, verdicts)
            if chosen is not None:
                usage.add(tariff, chosen, group, volume)


def _price_flat_only(
    usage: _Usage, tariff: int, compiled: CompiledTariff, start_us: int, zone: dt.tzinfo
) -> None:
    piece = Piece(
        local=dt.datetime.fromtimestamp(start_us // US, zone),
        duration_us=0,
        kwh_before=ZERO,
        min_power=None,
        max_power=None,
        min_current=None,
        max_current=None,
        reservation=CHARGING,
    )
    _price_piece(usage, tariff, compiled, piece, ZERO, {})


def _breakdown(
    usage: _Usage,
    tariffs: Sequence[Tariff],
    default: int,
    currency: str,
    shape: PriceShape | None,
    rounding: str,
    kwh: Decimal,
    start_us: int,
    end_us: int,
    total_parking: Decimal,
    warnings: list[str],
) -> PriceBreakdown:
    sums: dict[str, dict[Decimal | None, Decimal]] = {}
    for key, volume in usage.volumes.items():
        tariff = tariffs[key[0]]
        component = key[1].component
        includes_tax = tariff.prices_include_tax
        rates = sums.setdefault(_GROUP_CATEGORY[usage.groups[key]], {})
        slot = (component.vat, includes_tax)
        rates[slot] = rates.get(slot, ZERO) + volume * component.price
    categories = {}
    for category in CATEGORIES:
        lines = [
            _amount(basis, rate, incl) for (rate, incl), basis in sums.get(category, {}).items()
        ]
        categories[category] = Amount(()) + Amount(tuple(lines))
    subtotal = Amount(())
    for amount in categories.values():
        subtotal = subtotal + amount
    tariff = tariffs[default]
    total = _limit(subtotal, tariff.min_price, tariff.max_price)
    adjustment = Amount(())
    if total is not subtotal:
        excl_change = total.excl - subtotal.excl
        adjustment = Amount((TaxLine(None, excl_change, total.incl - subtotal.incl - excl_change),))
    return PriceBreakdown(
        currency=currency,
        shape=shape or tariff.price_shape,
        energy=categories["energy"],
        time=categories["time"],
        parking=categories["parking"],
        fixed=categories["fixed"],
        reservation=categories["reservation"],
        limit_adjustment=adjustment,
        total=total,
        total_energy=kwh,
        total_time=Decimal(end_us - start_us) / HOUR_US,
        total_parking_time=total_parking,
        payable=payable(total, currency, rounding),
        warnings=tuple(warnings),
    )
