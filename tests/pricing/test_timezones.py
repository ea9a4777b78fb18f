"""Time-of-day, date and weekday restrictions in local time across midnight and both DST
changes, in Europe/Berlin and Europe/Stockholm (both change at 01:00 UTC: last Sunday of March
02:00 CET -> 03:00 CEST, last Sunday of October 03:00 CEST -> 02:00 CET)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk_app.ocpi.pricing import price_cdr

from .builders import cdr, component, tariff

ZONES = ["Europe/Berlin", "Europe/Stockholm"]
A, B = Decimal(10), Decimal(1)  # price per hour inside / outside the restricted window


def windowed(start: str, end: str, **extra: object):
    return tariff(
        {
            "price_components": [component("TIME", A)],
            "restrictions": {"start_time": start, "end_time": end, **extra},
        },
        {"price_components": [component("TIME", B)]},
    )


def hours_at(total: Decimal, hours: int) -> tuple[Decimal, Decimal]:
    """Split a total cost into (hours at A, hours at B) for a session of ``hours``."""
    inside = (total - hours * B) / (A - B)
    return inside, hours - inside


def one_period(start: str, end: str, hours: str):
    return cdr(start, end, (start, {"TIME": hours}))


WINDOWS = {
    # (session start, end, hours, window start, window end, hours in the window)
    # 21:00-07:00 local (CET, UTC+1); night window 22:00-06:00 wraps past midnight: 8 h.
    "wraps past midnight": (
        "2026-01-09T20:00:00Z",
        "2026-01-10T06:00:00Z",
        10,
        "22:00",
        "06:00",
        8,
    ),
    # 19:00-02:00 local; window 20:00-00:00, end 00:00 being the end of the day: 4 h.
    "ends at midnight": ("2026-01-09T18:00:00Z", "2026-01-10T01:00:00Z", 7, "20:00", "00:00", 4),
    # 2026-03-29, 00:00 CET to 05:00 CEST. Window 01:00-04:00 local covers 00:00-01:00 UTC
    # (01:00-02:00 CET) and 01:00-02:00 UTC (03:00-04:00 CEST): 2 h of 4.
    "spring forward": ("2026-03-28T23:00:00Z", "2026-03-29T03:00:00Z", 4, "01:00", "04:00", 2),
    # 02:30 does not exist on 2026-03-29: the window starts when the clock jumps to 03:00 CEST
    # (01:00 UTC) and lasts until 06:00 CEST (04:00 UTC): 3 h of 4.
    "starts in the gap": ("2026-03-29T00:00:00Z", "2026-03-29T04:00:00Z", 4, "02:30", "06:00", 3),
    # 2026-10-25: 02:00-03:00 local happens twice, 00:00-01:00 UTC (CEST) and 01:00-02:00 UTC
    # (CET); 01:00 CEST to 04:00 CET: 2 h of 4.
    "fall back twice": ("2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z", 4, "02:00", "03:00", 2),
}


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("case", WINDOWS, ids=str)
def test_time_window_in_local_time(zone: str, case: str) -> None:
    start, end, hours, window_start, window_end, inside = WINDOWS[case]
    session = one_period(start, end, str(hours))
    total = price_cdr([windowed(window_start, window_end)], session, zone).total.excl
    assert hours_at(total, hours) == (inside, hours - inside)


@pytest.mark.parametrize("zone", ZONES)
def test_fall_back_with_hourly_periods(zone) -> None:
    periods = [
        ("2026-10-24T23:00:00Z", {"TIME": 1}),
        ("2026-10-25T00:00:00Z", {"TIME": 1}),
        ("2026-10-25T01:00:00Z", {"TIME": 1}),
        ("2026-10-25T02:00:00Z", {"TIME": 1}),
    ]
    session = cdr("2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z", *periods)
    total = price_cdr([windowed("02:00", "03:00")], session, zone).total.excl
    assert hours_at(total, 4) == (2, 2)


@pytest.mark.parametrize("zone", ZONES)
def test_weekday_changes_at_local_midnight(zone) -> None:
    # Saturday 2026-06-06 22:00 UTC is Sunday 00:00 CEST: the weekend window starts there.
    weekend = tariff(
        {"price_components": [component("TIME", A)], "restrictions": {"day_of_week": ["SUNDAY"]}},
        {"price_components": [component("TIME", B)]},
    )
    session = one_period("2026-06-06T20:00:00Z", "2026-06-07T00:00:00Z", "4")
    total = price_cdr([weekend], session, zone).total.excl
    assert hours_at(total, 4) == (2, 2)


@pytest.mark.parametrize("zone", ZONES)
def test_end_date_is_exclusive_local_date(zone) -> None:
    promo = tariff(
        {
            "price_components": [component("TIME", A)],
            "restrictions": {"start_date": "2026-12-24", "end_date": "2026-12-25"},
        },
        {"price_components": [component("TIME", B)]},
    )
    # 22:00 CET on the 24th to 02:00 CET on the 25th: 2 h on the 24th.
    session = one_period("2026-12-24T21:00:00Z", "2026-12-25T01:00:00Z", "4")
    total = price_cdr([promo], session, zone).total.excl
    assert hours_at(total, 4) == (2, 2)


def test_same_session_differs_between_utc_and_local_zone() -> None:
    # 21:00-05:00 UTC is 22:00-06:00 in Berlin: 7 h of the night window in UTC, 8 h locally.
    session = one_period("2026-01-09T21:00:00Z", "2026-01-10T05:00:00Z", "8")
    night = windowed("22:00", "06:00")
    assert hours_at(price_cdr([night], session, "UTC").total.excl, 8) == (7, 1)
    assert hours_at(price_cdr([night], session, "Europe/Berlin").total.excl, 8) == (8, 0)


SIXTY = Decimal(60)


def minutes_in_window(start: dt.datetime, minutes: int, zone: str, window: tuple[int, int]) -> int:
    """Brute force: the minutes whose local wall time lies in the window."""
    tz = zoneinfo.ZoneInfo(zone)
    low, high = window
    count = 0
    for n in range(minutes):
        local = (start + dt.timedelta(minutes=n)).astimezone(tz)
        minute = local.hour * 60 + local.minute
        count += (low <= minute < high) if low < high else (minute >= low or minute < high)
    return count


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(
        ["Europe/Berlin", "Europe/Stockholm", "America/New_York", "Australia/Lord_Howe"]
    ),
    st.sampled_from(
        [
            dt.date(2026, 3, 28),
            dt.date(2026, 10, 24),
            dt.date(2026, 3, 7),
            dt.date(2026, 10, 3),
            dt.date(2026, 7, 1),
        ]
    ),
    st.integers(min_value=0, max_value=48 * 60 - 1),
    st.integers(min_value=1, max_value=30 * 60),
    st.integers(min_value=0, max_value=95),
    st.integers(min_value=0, max_value=95),
)
def test_window_minutes_match_a_minute_by_minute_count(zone, day, offset, minutes, low, high):
    if low == high:
        high = (high + 1) % 96
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(minutes=offset)
    window = (low * 15, high * 15 or 1440)
    priced = tariff(
        {
            "price_components": [component("TIME", SIXTY, step_size=0)],
            "restrictions": {
                "start_time": f"{window[0] // 60:02d}:{window[0] % 60:02d}",
                "end_time": f"{high * 15 // 60:02d}:{high * 15 % 60:02d}",
            },
        },
    )
    end = start + dt.timedelta(minutes=minutes)
    session = cdr(
        start.isoformat(), end.isoformat(), (start.isoformat(), {"TIME": Decimal(minutes) / SIXTY})
    )
    total = price_cdr([priced], session, zone).total.excl
    expected = minutes_in_window(start, minutes, zone, window)
    assert abs(total - expected) < Decimal("1e-9")
