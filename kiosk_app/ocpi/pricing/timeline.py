"""Instants where a tariff restriction can change its verdict, in a location's time zone.

Restrictions on time of day, date and weekday are local wall-clock time. Around DST changes a
wall-clock time may occur twice (autumn) or never (spring); both UTC readings of each candidate
and the transition instants themselves are boundaries, so every piece of a charging period
between two boundaries has one verdict, evaluated at its start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

US = 1_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)


def to_us(instant: dt.datetime) -> int:
    """Microseconds since the Unix epoch, exactly."""
    return (instant - _EPOCH) // _ONE_US


def from_us(us: int) -> dt.datetime:
    """The aware UTC datetime of ``us`` microseconds since the epoch."""
    return _EPOCH + dt.timedelta(microseconds=us)


def _offset(us: int, tz: dt.tzinfo) -> dt.timedelta | None:
    return dt.datetime.fromtimestamp(us // US, tz).utcoffset()


def _transition(low: int, high: int, tz: dt.tzinfo) -> int:
    """The first whole second in (low, high] with the offset of ``high``."""
    target = _offset(high, tz)
    lo, hi = low // US, high // US
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(mid * US, tz) == target:
            hi = mid
        else:
            lo = mid
    return hi * US


def local_boundaries(
    start_us: int, end_us: int, tz: dt.tzinfo, minutes_of_day: Iterable[int]
) -> list[int]:
    """Sorted UTC instants (µs) in [start, end] where local time passes one of
    ``minutes_of_day`` (local midnight always included) or the UTC offset changes.

    On a day whose offset changes (at most once a day), each wall time is taken with both
    folds and the transition instant is added."""
    minutes = sorted(set(minutes_of_day) | {0})
    first = dt.datetime.fromtimestamp(start_us // US, tz).date() - dt.timedelta(days=1)
    count = (dt.datetime.fromtimestamp(end_us // US, tz).date() - first).days + 2
    days = [first + dt.timedelta(days=n) for n in range(count + 1)]
    midnights = [to_us(dt.datetime(d.year, d.month, d.day, tzinfo=tz)) for d in days]
    offsets = [_offset(us, tz) for us in midnights]
    candidates: set[int] = set()
    for index, day in enumerate(days[:-1]):
        changes = offsets[index] != offsets[index + 1]
        for minute in minutes:
            wall = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz)
            candidates.add(to_us(wall))
            if changes:
                candidates.add(to_us(wall.replace(fold=1)))
        if changes:
            candidates.add(_transition(midnights[index], midnights[index + 1], tz))
    return sorted(us for us in candidates if start_us <= us <= end_us)
