"""Due timers: claimed one at a time (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
workers never fire the same timer), fired as a `TimerFired` event in the same commit that
deletes the timer row."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from kiosk_app.charging import codec
from kiosk_app.charging import events as ev
from kiosk_app.charging.runner import Runner, Targets, is_write_conflict
from kiosk_app.charging.states import TimerKind, TxState
from kiosk_app.models.charging import ChargingTimer, ChargingTransaction

log = logging.getLogger(__name__)


def fire_due(runner: Runner, limit: int = 100) -> int:
    """Fire up to `limit` due timers; the number fired."""
    fired = 0
    targets: Targets = set()
    while fired < limit:
        now = runner.clock()
        if not _any_due(runner, now):  # the common case, every worker round: no write lock
            break
        with runner.database.session() as session:
            query = (
                sa.select(ChargingTimer)
                .where(ChargingTimer.due_at <= now)
                .order_by(ChargingTimer.due_at, ChargingTimer.id)
                .limit(1)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            timer = session.scalar(query)
            if timer is None:
                break
            row = session.get(ChargingTransaction, timer.transaction_id)
            assert row is not None
            # The due time comes from the snapshot: it is what the machine compares.
            due = codec.load(TxState, row.snapshot).timer_due(TimerKind(timer.kind))
            try:
                if due is None or due > now:
                    session.delete(timer)  # a row the machine no longer knows: stale
                else:
                    _, new = runner.apply_in(
                        session, row.reference, ev.TimerFired(TimerKind(timer.kind), due)
                    )
                    targets |= new
                session.commit()
            except (StaleDataError, sa.exc.DBAPIError) as exc:
                if not is_write_conflict(exc):
                    raise
                session.rollback()
                continue  # the transaction moved on meanwhile; look again
        fired += 1
    if targets:
        runner.on_intent(targets)
    return fired


_ANY_DUE = sa.select(ChargingTimer.id).where(ChargingTimer.due_at <= sa.bindparam("now")).limit(1)


def _any_due(runner: Runner, now: datetime) -> bool:
    with runner.database.read_connection() as connection:
        return connection.execute(_ANY_DUE, {"now": now}).first() is not None
