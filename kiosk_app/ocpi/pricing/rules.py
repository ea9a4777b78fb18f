"""Tariff restrictions compiled for matching, and the choice of the element per dimension.

A tariff is compiled once per Tariff object (cached by identity): per dimension, the elements
offering it in list order, each with its restrictions as a :class:`Rule`. :func:`select` returns
the first whose rule matches the conditions at the start of a piece of a charging period.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kiosk_app.ocpi.pricing.model import (
    Dimension,
    PriceComponent,
    ReservationRestriction,
    Restrictions,
    Tariff,
)
from kiosk_app.ocpi.pricing.timeline import US

# How a piece of a period relates to reservations.
CHARGING, RESERVED, EXPIRED = 0, 1, 2


# eq=False: candidates are dictionary keys by identity (fast), one object per component.
@dataclass(frozen=True, slots=True, eq=False)
class Candidate:
    """An element offering a component of one dimension, in tariff order."""

    element: int
    rule: Rule | None
    component: PriceComponent


@dataclass(frozen=True, slots=True)
class CompiledTariff:
    """What the engine needs of a tariff, computed once per Tariff object."""

    by_dimension: dict[Dimension, tuple[Candidate, ...]]
    expired_flat: tuple[Candidate, ...]
    expired_time: tuple[Candidate, ...]
    minutes_of_day: frozenset[int]
    uses_local_time: bool
    durations: frozenset[int]
    kwh_thresholds: tuple[Decimal, ...]


_CACHE: weakref.WeakKeyDictionary[Tariff, CompiledTariff] = weakref.WeakKeyDictionary()


def compile_tariff(tariff: Tariff) -> CompiledTariff:
    cached = _CACHE.get(tariff)
    if cached is not None:
        return cached
    by_dimension: dict[Dimension, list[Candidate]] = {d: [] for d in Dimension}
    minutes: set[int] = set()
    durations: set[int] = set()
    thresholds: set[Decimal] = set()
    uses_local = False
    for number, element in enumerate(tariff.elements):
        r = element.restrictions
        rule = None if r is None else _rule_of(r)
        if r is not None:
            uses_local = uses_local or r.uses_local_time
            minutes.update(m for m in (r.start_time, r.end_time) if m is not None)
            durations.update(d for d in (r.min_duration, r.max_duration) if d is not None)
            thresholds.update(k for k in (r.min_kwh, r.max_kwh) if k is not None)
        for component in element.price_components:
            candidate = Candidate(number, rule, component)
            by_dimension[component.type].append(candidate)

    def expired_first(dimension: Dimension) -> tuple[Candidate, ...]:
        # An expired reservation is priced by RESERVATION_EXPIRES elements before RESERVATION
        # ones (mod_tariffs, ReservationRestrictionType note).
        items = by_dimension[dimension]
        expires = ReservationRestriction.RESERVATION_EXPIRES
        return tuple(
            [c for c in items if c.rule and c.rule.reservation is expires]
            + [c for c in items if not (c.rule and c.rule.reservation is expires)]
        )

    compiled = CompiledTariff(
        by_dimension={d: tuple(c) for d, c in by_dimension.items()},
        expired_flat=expired_first(Dimension.FLAT),
        expired_time=expired_first(Dimension.TIME),
        minutes_of_day=frozenset(minutes),
        uses_local_time=uses_local,
        durations=frozenset(durations),
        kwh_thresholds=tuple(sorted(thresholds)),
    )
    _CACHE[tariff] = compiled
    return compiled


@dataclass(slots=True)
class Piece:
    """The conditions at the start of a piece of a charging period."""

    local: dt.datetime | None
    duration_us: int
    kwh_before: Decimal
    min_power: Decimal | None
    max_power: Decimal | None
    min_current: Decimal | None
    max_current: Decimal | None
    reservation: int


@dataclass(frozen=True, slots=True)
class Rule:
    """A TariffRestrictions compiled for matching: only the groups that are set, normalised
    (time window in minutes with the end of day as 1440, durations in µs)."""

    reservation: ReservationRestriction | None
    window: tuple[int, int] | None
    dates: tuple[dt.date | None, dt.date | None] | None
    days: frozenset[int] | None
    durations: tuple[int | None, int | None] | None
    kwh: tuple[Decimal | None, Decimal | None] | None
    power: tuple[Decimal | None, Decimal | None] | None
    current: tuple[Decimal | None, Decimal | None] | None


def _pair(low: object, high: object) -> tuple | None:
    return None if low is None and high is None else (low, high)


def _rule_of(r: Restrictions) -> Rule:
    window = None
    if r.start_time is not None or r.end_time is not None:
        start = r.start_time or 0
        end = r.end_time or 1440
        window = None if start == end or (start, end) == (0, 1440) else (start, end)
    seconds = _pair(r.min_duration, r.max_duration)
    return Rule(
        reservation=r.reservation,
        window=window,
        dates=_pair(r.start_date, r.end_date),
        days=r.day_of_week,
        durations=None
        if seconds is None
        else tuple(None if value is None else value * US for value in seconds),
        kwh=_pair(r.min_kwh, r.max_kwh),
        power=_pair(r.min_power, r.max_power),
        current=_pair(r.min_current, r.max_current),
    )


def _within(bounds: tuple, low_value: object, high_value: object) -> bool:
    """min inclusive, max exclusive; an unknown value matches no bound."""
    low, high = bounds
    if low is not None and (low_value is None or low_value < low):
        return False
    return high is None or (high_value is not None and high_value < high)


def matches(rule: Rule | None, piece: Piece) -> bool:
    if rule is None:
        return piece.reservation == CHARGING
    if rule.reservation is None:
        if piece.reservation != CHARGING:
            return False
    elif piece.reservation == CHARGING or (
        rule.reservation is ReservationRestriction.RESERVATION_EXPIRES
        and piece.reservation != EXPIRED
    ):
        return False
    local = piece.local
    if rule.window is not None:
        start, end = rule.window
        minute = local.hour * 60 + local.minute
        if not (start <= minute < end if start < end else minute >= start or minute < end):
            return False
    if rule.dates is not None:
        first, after = rule.dates
        day = local.date()
        if (first is not None and day < first) or (after is not None and day >= after):
            return False
    if rule.days is not None and local.weekday() not in rule.days:
        return False
    if rule.durations is not None and not _within(
        rule.durations, piece.duration_us, piece.duration_us
    ):
        return False
    if rule.kwh is not None and not _within(rule.kwh, piece.kwh_before, piece.kwh_before):
        return False
    if rule.power is not None and not _within(rule.power, piece.min_power, piece.max_power):
        return False
    return rule.current is None or _within(rule.current, piece.min_current, piece.max_current)


def select(candidates: Sequence[Candidate], piece: Piece, verdicts: dict) -> Candidate | None:
    for candidate in candidates:
        verdict = verdicts.get(candidate.element)
        if verdict is None:
            verdict = verdicts[candidate.element] = matches(candidate.rule, piece)
        if verdict:
            return candidate
    return None
