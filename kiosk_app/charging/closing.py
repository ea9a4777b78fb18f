"""Terminal end-of-day (ZVT 06 50): intent, act, record, as for a transaction's effects.

An operator's request is stored first (`TerminalClosing`, `pending`); the worker that drives
the kiosk's terminal claims it (pending → running, one atomic UPDATE: one winner), asks the
terminal outside any database transaction, and stores the totals (`done`) or the failure
(`failed`). A closing left `running` by a dead worker is marked failed by `run_pending` of
the next owner: the terminal may or may not have closed, so the operator sees it and asks again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from kiosk_app.charging.ports import EndOfDayTotals, Terminal
from kiosk_app.db import Database
from kiosk_app.models.reconciliation import TerminalClosing

log = logging.getLogger(__name__)


def request(database: Database, kiosk_id: str, operator: str, now: datetime) -> int:
    """Record an operator's end-of-day request for `kiosk_id`; the new closing's id."""
    with database.session() as session:
        closing = TerminalClosing(
            kiosk_id=kiosk_id,
            status="pending",
            requested_by=operator[:80],
            requested_at=now,
            currency="",
            total_minor=0,
            count=0,
            brand_totals={},
            raw_result={},
            error="",
        )
        session.add(closing)
        session.commit()
        return closing.id


_OLDEST_PENDING = (
    sa.select(TerminalClosing.id)
    .where(
        TerminalClosing.kiosk_id == sa.bindparam("kiosk_id"), TerminalClosing.status == "pending"
    )
    .order_by(TerminalClosing.id)
    .limit(1)
)


def run_pending(
    database: Database,
    kiosk_id: str,
    terminal: Terminal,
    owner: str,
    clock: Callable[[], datetime],
) -> bool:
    """Perform the oldest pending closing of `kiosk_id`; False when there is none."""
    with database.read_connection() as connection:  # asked between every two payments
        closing_id = connection.execute(_OLDEST_PENDING, {"kiosk_id": kiosk_id}).scalar()
    if closing_id is None:
        return False
    with database.session() as session:
        claimed = session.execute(
            sa.update(TerminalClosing)
            .where(TerminalClosing.id == closing_id, TerminalClosing.status == "pending")
            .values(status="running", claimed_by=owner)
        )
        session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return True  # another worker got it; look again
    try:
        totals = terminal.end_of_day()
    except Exception as exc:  # recorded for the operator, who may ask again
        log.warning("end-of-day of %s failed: %s", kiosk_id, type(exc).__name__)
        _record(database, closing_id, None, f"{type(exc).__name__}: {exc}"[:255], clock())
    else:
        _record(database, closing_id, totals, "", clock())
    return True


def fail_interrupted(database: Database, kiosk_id: str, owner: str) -> int:
    """Closings another (dead) worker left running: their outcome is unknown, say so."""
    with database.session() as session:
        result = session.execute(
            sa.update(TerminalClosing)
            .where(
                TerminalClosing.kiosk_id == kiosk_id,
                TerminalClosing.status == "running",
                TerminalClosing.claimed_by != owner,
            )
            .values(status="failed", error="interrupted: the worker stopped during the closing")
        )
        session.commit()
        return result.rowcount  # type: ignore[attr-defined,no-any-return]


def _record(
    database: Database,
    closing_id: int,
    totals: EndOfDayTotals | None,
    error: str,
    now: datetime,
) -> None:
    with database.session() as session:
        closing = session.get(TerminalClosing, closing_id)
        assert closing is not None
        if totals is None:
            closing.status, closing.error = "failed", error
        else:
            closing.status = "done"
            closing.closed_at = totals.closed_at or now
            closing.currency = totals.currency
            closing.total_minor = totals.total_minor
            closing.count = totals.count
            closing.brand_totals = {
                b.brand: {"count": b.count, "total_minor": b.total_minor} for b in totals.brands
            }
            closing.raw_result = dict(totals.raw)
        session.commit()
