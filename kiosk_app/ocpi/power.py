"""The charging power now, read from a Session's `charging_periods` (shown on the kiosk).

OCPI 2.2.1 lets a CPO report the power in a `POWER` dimension (kW) of the newest charging
period; many send only `ENERGY` (OCPI 2.1.1 has no `POWER` dimension at all). Then the power is
the energy of the newest *closed* period (one followed by another) over its length: both come
from the CPO's own period timestamps, so no clock of ours and no earlier push is involved, and
the figure is the same whether the Session was pushed, patched or pulled again after a restart.
See docs/kiosk.md ("Live power").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

# Only a session that is charging has a power; afterwards the last figure would mislead.
LIVE_STATUSES = frozenset({"ACTIVE"})
# Watt resolution; the screen rounds further (formatting.power).
_PLACES = Decimal("0.001")


def live_power_kw(status: str, periods: Sequence[Mapping[str, Any]]) -> Decimal | None:
    """The power in kW of an `ACTIVE` Session with checked `periods` (datetimes and Decimals),
    or None when the CPO's data does not tell it."""
    if status not in LIVE_STATUSES or not periods:
        return None
    ordered = sorted(periods, key=lambda period: period["start_date_time"])
    reported = _volume(ordered[-1], "POWER")
    if reported is not None:
        return max(reported, Decimal(0)).quantize(_PLACES)
    if len(ordered) < 2:
        return None
    closed, following = ordered[-2], ordered[-1]
    energy = _volume(closed, "ENERGY")
    seconds = (following["start_date_time"] - closed["start_date_time"]).total_seconds()
    if energy is None or seconds <= 0:
        return None
    return max(energy * 3600 / Decimal(str(seconds)), Decimal(0)).quantize(_PLACES)


def _volume(period: Mapping[str, Any], kind: str) -> Decimal | None:
    """The period's volume of dimension `kind`; a repeated dimension counts once (the last)."""
    volumes = [d["volume"] for d in period.get("dimensions", ()) if d["type"] == kind]
    return volumes[-1] if volumes else None
