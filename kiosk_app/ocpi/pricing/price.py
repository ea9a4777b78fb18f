"""Pricing of a finished CDR and of a running Session (cost now, and projected)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kiosk_app.ocpi.pricing.breakdown import PriceBreakdown
from kiosk_app.ocpi.pricing.engine import HOUR_US, price_periods
from kiosk_app.ocpi.pricing.errors import CdrError
from kiosk_app.ocpi.pricing.model import Cdr, ChargingPeriod, Session, Tariff
from kiosk_app.ocpi.pricing.money import DEFAULT_ROUNDING, ZERO
from kiosk_app.ocpi.pricing.timeline import to_us


def price_cdr(
    tariffs: Sequence[Tariff] | Tariff,
    cdr: Cdr,
    tz: dt.tzinfo | str,
    rounding: str = DEFAULT_ROUNDING,
) -> PriceBreakdown:
    """Price ``cdr`` with ``tariffs`` (the CDR's own ``tariffs`` when empty) in the location's
    time zone ``tz``. The CDR's ``total_*`` fields are never used as input. The breakdown is in
    the CDR's Price shape (the tariff's version's shape when the CDR has no ``total_cost``)."""
    if isinstance(tariffs, Tariff):
        tariffs = (tariffs,)
    return price_periods(
        tuple(tariffs) or cdr.tariffs,
        cdr.start,
        cdr.end,
        cdr.charging_periods,
        cdr.currency,
        tz,
        cdr.price_shape,
        rounding,
    )


@dataclass(frozen=True)
class LiveCost:
    """Cost of a running session if it stopped at ``until``, and projected to ``at``."""

    until: dt.datetime
    now: PriceBreakdown
    at: dt.datetime | None = None
    projected: PriceBreakdown | None = None
    power_kw: Decimal | None = None

    @property
    def cost_now(self) -> Decimal:
        """Payable amount (incl. tax, minor-unit rounded) if the session stopped now."""
        return self.now.payable.amount

    @property
    def projected_cost(self) -> Decimal | None:
        """Payable amount at ``at`` charging with ``power_kw``; None without a projection."""
        return None if self.projected is None else self.projected.payable.amount


def _session_periods(session: Session, until: dt.datetime) -> list[ChargingPeriod]:
    """The session's periods, or one period covering it when the CPO sent none; energy the
    periods do not account for yet (``kwh`` is ahead of them) is added to the last one."""
    periods = list(session.charging_periods)
    if not periods:
        hours = Decimal(max(to_us(until) - to_us(session.start), 0)) / HOUR_US
        return [ChargingPeriod(session.start, {"ENERGY": session.kwh, "TIME": hours})]
    counted = sum((p.dimensions.get("ENERGY", ZERO) for p in periods), ZERO)
    if session.kwh > counted:
        last = periods[-1]
        dims = dict(last.dimensions)
        dims["ENERGY"] = dims.get("ENERGY", ZERO) + session.kwh - counted
        periods[-1] = ChargingPeriod(last.start, dims, last.tariff_id)
    return periods


def live_cost(
    session: Session,
    tariff: Tariff,
    tz: dt.tzinfo | str,
    at: dt.datetime | None = None,
    power_kw: Decimal | None = None,
    now: dt.datetime | None = None,
    rounding: str = DEFAULT_ROUNDING,
) -> LiveCost:
    """Cost of ``session`` so far (up to ``now``, else its end or last update), and, with
    ``at``, the cost at that future time if it keeps charging at ``power_kw`` (default: its
    average power so far). The engine compares the projection with the hold."""
    until = now or session.end or session.last_updated or session.start
    if until < session.start:
        raise CdrError("last_updated", "is before start_date_time")
    periods = _session_periods(session, until)
    current = price_periods(
        (tariff,),
        session.start,
        until,
        periods,
        session.currency,
        tz,
        session.total_cost.shape if session.total_cost else None,
        rounding,
    )
    if at is None:
        return LiveCost(until=until, now=current)
    if at < until:
        raise CdrError("at", f"{at.isoformat()} is before the session's last data")
    hours = Decimal(to_us(at) - to_us(until)) / HOUR_US
    if power_kw is None:
        elapsed = Decimal(to_us(until) - to_us(session.start)) / HOUR_US
        power_kw = session.kwh / elapsed if elapsed else ZERO
    ahead = ChargingPeriod(until, {"ENERGY": power_kw * hours, "TIME": hours})
    projected = price_periods(
        (tariff,),
        session.start,
        at,
        [*periods, ahead],
        session.currency,
        tz,
        current.shape,
        rounding,
    )
    return LiveCost(until=until, now=current, at=at, projected=projected, power_kw=power_kw)


def latest_stop(
    session: Session,
    tariff: Tariff,
    tz: dt.tzinfo | str,
    limit: Decimal,
    power_kw: Decimal | None = None,
    now: dt.datetime | None = None,
    horizon: dt.timedelta = dt.timedelta(hours=24),
    resolution: dt.timedelta = dt.timedelta(minutes=1),
) -> dt.datetime:
    """The latest time, to ``resolution``, at which the projected payable amount (see
    :func:`live_cost`) still fits ``limit`` (e.g. the hold): the time the engine must stop the
    session by. The session's last data time when the cost so far reaches the limit already;
    that time plus ``horizon`` when the limit is never reached within it. Found by bisection,
    as step_size can make the cost jump; keep a margin."""
    current = live_cost(session, tariff, tz, now=now)
    start = current.until
    if current.cost_now > limit:
        return start

    def fits(steps: int) -> bool:
        at = start + resolution * steps
        projected = live_cost(session, tariff, tz, at=at, power_kw=power_kw, now=now)
        return projected.projected_cost <= limit

    low, high = 0, horizon // resolution
    if fits(high):
        return start + resolution * high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return start + resolution * low
