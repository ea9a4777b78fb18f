"""The daily reconciliation per kiosk (terminal): our captures against the terminal's
end-of-day totals and against the CPO's CDR totals, with the transactions behind every
difference. Read-only.

Our side is what the engine booked: the transactions whose capture succeeded on that local
day (the `Captured` event). The terminal's side is the end-of-day closings stored that day
(`TerminalClosing`, from ZVT 06 50). The CPO's side is the CDR total the engine recorded on
each of those transactions (the OCPI module's own CDR store is not consulted here).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk_app.models.charging import ChargingEvent, ChargingTransaction
from kiosk_app.models.reconciliation import TerminalClosing
from kiosk_app.operator.queries import day_bounds


@dataclass(frozen=True)
class Capture:
    reference: str
    evse_uid: str
    brand: str
    last4: str
    captured_minor: int
    cdr_total_minor: int | None
    captured_at: datetime


@dataclass(frozen=True)
class BrandLine:
    brand: str
    our_count: int
    our_total_minor: int
    terminal_count: int | None  # None: no closing reported this brand (or no closing at all)
    terminal_total_minor: int | None


@dataclass(frozen=True)
class Difference:
    against: str  # "terminal" | "cpo"
    what: str
    amount_minor: int  # ours − theirs
    references: tuple[str, ...]  # the transactions behind it


@dataclass
class KioskDay:
    kiosk_id: str
    currency: str = "EUR"
    captures: list[Capture] = field(default_factory=list)
    closings: list[TerminalClosing] = field(default_factory=list)
    brands: list[BrandLine] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def our_total_minor(self) -> int:
        return sum(c.captured_minor for c in self.captures)

    @property
    def done_closings(self) -> list[TerminalClosing]:
        return [c for c in self.closings if c.status == "done"]

    @property
    def terminal_total_minor(self) -> int | None:
        done = self.done_closings
        return sum(c.total_minor for c in done) if done else None

    @property
    def cdr_total_minor(self) -> int:
        return sum(c.cdr_total_minor or 0 for c in self.captures)


def reconcile(session: Session, day: date, timezone: str, kiosks: list[str]) -> list[KioskDay]:
    """Per kiosk (configured ones first, then any other with data), the day's comparison."""
    start, end = day_bounds(day, day, timezone)
    result: dict[str, KioskDay] = {k: KioskDay(k) for k in kiosks}
    for row, at in session.execute(
        sa.select(ChargingTransaction, ChargingEvent.created_at)
        .join(ChargingEvent, ChargingEvent.transaction_id == ChargingTransaction.id)
        .where(
            ChargingEvent.category == "event",
            ChargingEvent.kind == "Captured",
            ChargingEvent.created_at >= start,
            ChargingEvent.created_at < end,
        )
        .order_by(ChargingEvent.created_at, ChargingTransaction.id)
    ):
        kiosk = result.setdefault(row.kiosk_id, KioskDay(row.kiosk_id))
        kiosk.currency = row.currency
        kiosk.captures.append(
            Capture(
                row.reference,
                row.evse_uid,
                row.card_brand,
                row.card_last4,
                row.captured_minor,
                _cpo_total(row.snapshot),
                at,
            )
        )
    for closing in session.scalars(
        sa.select(TerminalClosing)
        .where(
            sa.or_(
                sa.and_(TerminalClosing.closed_at >= start, TerminalClosing.closed_at < end),
                sa.and_(
                    TerminalClosing.closed_at.is_(None),
                    TerminalClosing.requested_at >= start,
                    TerminalClosing.requested_at < end,
                ),
            )
        )
        .order_by(TerminalClosing.id)
    ):
        result.setdefault(closing.kiosk_id, KioskDay(closing.kiosk_id)).closings.append(closing)
    for kiosk in result.values():
        _compare(kiosk)
    return list(result.values())


def _compare(kiosk: KioskDay) -> None:
    ours: dict[str, list[Capture]] = defaultdict(list)
    for capture in kiosk.captures:
        ours[capture.brand].append(capture)
    theirs: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for closing in kiosk.done_closings:
        for brand, line in closing.brand_totals.items():
            count, total = theirs[brand]
            theirs[brand] = (count + int(line["count"]), total + int(line["total_minor"]))
    closed = bool(kiosk.done_closings)
    for brand in sorted(set(ours) | set(theirs)):
        captures = ours.get(brand, [])
        reported = theirs.get(brand) if closed else None
        kiosk.brands.append(
            BrandLine(
                brand or "(unknown)",
                len(captures),
                sum(c.captured_minor for c in captures),
                reported[0] if reported else (0 if closed else None),
                reported[1] if reported else (0 if closed else None),
            )
        )
    terminal_total = kiosk.terminal_total_minor
    if terminal_total is not None and terminal_total != kiosk.our_total_minor:
        differing = {
            line.brand
            for line in kiosk.brands
            if (line.our_count, line.our_total_minor)
            != (line.terminal_count, line.terminal_total_minor)
        }
        # a difference in the overall total only (e.g. a booking the terminal lists under no
        # brand) implicates every capture of the day
        behind = [c for c in kiosk.captures if (c.brand or "(unknown)") in differing]
        kiosk.differences.append(
            Difference(
                "terminal",
                "Our captures differ from the terminal's end-of-day total",
                kiosk.our_total_minor - terminal_total,
                tuple(c.reference for c in (behind or kiosk.captures)),
            )
        )
    for capture in kiosk.captures:
        if capture.cdr_total_minor is None:
            kiosk.differences.append(
                Difference(
                    "cpo",
                    "Captured without a CDR",
                    capture.captured_minor,
                    (capture.reference,),
                )
            )
        elif capture.cdr_total_minor != capture.captured_minor:
            kiosk.differences.append(
                Difference(
                    "cpo",
                    "Captured amount differs from the CDR total",
                    capture.captured_minor - capture.cdr_total_minor,
                    (capture.reference,),
                )
            )


def _cpo_total(snapshot: dict[str, Any]) -> int | None:
    """What the CPO billed for the capture: the CDR total, less what its credit CDRs took off
    the capture before it was sent (a credit after the capture is a refund, made at the
    acquirer, which the terminal never sees)."""
    total = snapshot.get("cdr_total_minor")
    if total is None:
        return None
    return total - sum(c.get("deducted_minor", 0) for c in snapshot.get("credits", []))
