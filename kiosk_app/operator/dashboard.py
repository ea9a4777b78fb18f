"""The dashboard's figures: what needs attention first, then revenue, energy, sessions,
declines and failed starts per day and per kiosk, and bar charts of them drawn as SVG
geometry on the server (the template only places the shapes: no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk_app.models.charging import ChargingTransaction, TerminalLease
from kiosk_app.models.operator import as_utc
from kiosk_app.operator.queries import day_bounds
from receipts import money

DAYS = 14
HOLD_AGE = timedelta(days=1)
STALE_STATES = ("CAPTURE_FAILED", "NEEDS_ATTENTION")
FAILED_START = ("start_rejected", "start_failed", "start_timeout", "no_plugin")


@dataclass(frozen=True)
class Attention:
    kind: str  # old_hold | failed_capture | cdr_mismatch | refund_due | terminal_offline
    text: str
    reference: str | None = None  # the transaction, when there is one


@dataclass
class Figures:
    """One day or one kiosk: counts and sums."""

    revenue_minor: int = 0
    energy_kwh: Decimal = Decimal(0)
    sessions: int = 0
    paid: int = 0  # payments the terminal answered (approved or declined)
    declined: int = 0
    failed_starts: int = 0

    @property
    def decline_rate(self) -> Decimal | None:
        """Declines per answered payment, in per cent; None without payments."""
        if not self.paid:
            return None
        return (Decimal(100) * self.declined / self.paid).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    bars: list[Bar]
    width: int
    height: int
    bar_width: int
    baseline: int


@dataclass
class Dashboard:
    attention: list[Attention]
    days: dict[date, Figures] = field(default_factory=dict)
    kiosks: dict[str, Figures] = field(default_factory=dict)
    currency: str = "EUR"
    has_data: bool = False


def needs_attention(session: Session, kiosks: list[str], now: datetime) -> list[Attention]:
    """What an operator should look at first, most urgent kinds first."""
    t = ChargingTransaction
    items = []
    open_hold = t.held_minor - t.captured_minor - t.released_minor
    old_holds = sa.select(t).where(open_hold > 0, t.created_at < now - HOLD_AGE)
    for row in session.scalars(old_holds.order_by(t.created_at)):
        text = f"Hold open for over a day ({row.state}) at {row.kiosk_id}"
        items.append(Attention("old_hold", text, row.reference))
    stuck = sa.select(t).where(t.state.in_(STALE_STATES))
    for row in session.scalars(stuck.order_by(t.created_at)):
        text = f"{row.state} at {row.kiosk_id}, EVSE {row.evse_uid}"
        items.append(Attention("failed_capture", text, row.reference))
    mismatches = sa.select(t).where(t.cross_check == "mismatch", t.needs_review)
    for row in session.scalars(mismatches.order_by(t.created_at)):
        text = f"CDR total differs from our tariff at {row.kiosk_id}"
        items.append(Attention("cdr_mismatch", text, row.reference))
    refunds = sa.select(t).where(t.refund_due_minor > 0)
    for row in session.scalars(refunds.order_by(t.updated_at)):
        due = money.to_major(row.refund_due_minor, row.currency)
        text = f"Refund of {due} {row.currency} due after a credit CDR at {row.kiosk_id}"
        items.append(Attention("refund_due", text, row.reference))
    leases = {lease.kiosk_id: lease for lease in session.scalars(sa.select(TerminalLease))}
    for kiosk in kiosks:
        lease = leases.get(kiosk)
        if lease is None or as_utc(lease.expires_at) < now:
            text = f"Terminal of {kiosk}: no worker drives it (no fresh lease)"
            items.append(Attention("terminal_offline", text))
    return items


def figures(
    session: Session, last_day: date, timezone: str, kiosks: list[str], now: datetime
) -> Dashboard:
    """The `DAYS` local days up to `last_day`, per day and per kiosk."""
    first_day = last_day - timedelta(days=DAYS - 1)
    start, end = day_bounds(first_day, last_day, timezone)
    board = Dashboard(needs_attention(session, kiosks, now))
    board.days = {first_day + timedelta(days=i): Figures() for i in range(DAYS)}
    board.kiosks = {k: Figures() for k in kiosks}
    zone = ZoneInfo(timezone)
    t = ChargingTransaction
    for row in session.scalars(sa.select(t).where(t.created_at >= start, t.created_at < end)):
        board.has_data = True
        board.currency = row.currency
        day = as_utc(row.created_at).astimezone(zone).date()
        for bucket in (board.days[day], board.kiosks.setdefault(row.kiosk_id, Figures())):
            _count(bucket, row)
    return board


def _count(bucket: Figures, row: ChargingTransaction) -> None:
    snapshot = row.snapshot
    # Net: what credit CDRs give back to the card after the capture is not revenue, whether
    # the operator has refunded it yet or not (it counts on the charge's day).
    given_back = sum(refund["amount_minor"] for refund in snapshot.get("refunds") or ())
    bucket.revenue_minor += row.captured_minor - given_back
    bucket.energy_kwh += Decimal(str(snapshot.get("kwh") or 0))
    bucket.sessions += bool(row.ocpi_session_id)
    approved = row.held_minor > 0
    declined = row.state == "DECLINED"
    bucket.paid += approved or declined
    bucket.declined += declined
    failure = snapshot.get("failure") or ""
    bucket.failed_starts += any(failure.startswith(f) for f in FAILED_START)


def bar_chart(title: str, unit: str, values: list[tuple[str, Decimal]]) -> Chart:
    """Bars scaled to the largest value; labels under, values above each bar."""
    bar_width, gap, top, plot, bottom = 28, 12, 20, 120, 36
    largest = max((v for _, v in values), default=Decimal(0)) or Decimal(1)
    bars = []
    for i, (label, value) in enumerate(values):
        height = int(plot * value / largest)
        x = gap + i * (bar_width + gap)
        bars.append(Bar(x, top + plot - height, height, label, _short(value)))
    width = gap + len(values) * (bar_width + gap)
    return Chart(title, unit, bars, width, top + plot + bottom, bar_width, top + plot)


def charts(board: Dashboard) -> list[Chart]:
    """The dashboard's charts: one bar per day of the window."""

    def series(pick) -> list[tuple[str, Decimal]]:  # type: ignore[no-untyped-def]
        return [(d.strftime("%d.%m"), Decimal(pick(f))) for d, f in board.days.items()]

    return [
        bar_chart(
            "Revenue per day",
            board.currency,
            series(lambda f: money.to_major(f.revenue_minor, board.currency)),
        ),
        bar_chart("Energy per day", "kWh", series(lambda f: f.energy_kwh)),
        bar_chart("Sessions per day", "sessions", series(lambda f: f.sessions)),
        bar_chart("Declined payments per day", "declines", series(lambda f: f.declined)),
        bar_chart("Failed starts per day", "failed starts", series(lambda f: f.failed_starts)),
    ]


def _short(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:.1f}"
