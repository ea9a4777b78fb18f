"""The terminal's end-of-day: intent first, performed once by the worker driving the terminal,
the totals stored; a closing interrupted by a dead worker is reported, never silently lost."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kiosk_app.charging import closing
from kiosk_app.charging.service import NotServed
from kiosk_app.charging.worker import Worker
from kiosk_app.models.reconciliation import TerminalClosing

from .doubles import charge_once


def rows(engine) -> list[TerminalClosing]:  # type: ignore[no-untyped-def]
    with engine.database.session() as session:
        return list(session.scalars(sa.select(TerminalClosing).order_by(TerminalClosing.id)))


def test_the_worker_runs_a_requested_end_of_day_once(engine):
    settle = lambda ref, state: engine.runner.drain()  # noqa: E731
    charge_once(engine.service, "kiosk-1", "EVSE-1", settle, total="3.20")
    closing_id = engine.service.end_of_day("kiosk-1", "alice")
    (pending,) = rows(engine)
    assert (pending.id, pending.status, pending.requested_by) == (closing_id, "pending", "alice")

    worker = Worker(engine.runner, ["kiosk-1", "kiosk-2"], engine.config.charging)
    worker.run_once()
    worker.run_once()
    (done,) = rows(engine)
    assert (done.status, done.total_minor, done.count, done.currency) == ("done", 320, 1, "EUR")
    assert done.closed_at is not None and done.claimed_by == "w1"
    assert engine.terminal.calls.count("end_of_day") == 1
    # the next closing reports only what was booked since
    engine.service.end_of_day("kiosk-1", "alice")
    worker.run_once()
    assert rows(engine)[1].total_minor == 0


def test_a_closing_left_running_by_a_dead_worker_is_reported_failed(engine):
    engine.service.end_of_day("kiosk-1", "alice")
    with engine.database.session() as session:
        session.execute(sa.update(TerminalClosing).values(status="running", claimed_by="dead"))
        session.commit()
    assert closing.fail_interrupted(engine.database, "kiosk-1", "w1") == 1
    (failed,) = rows(engine)
    assert failed.status == "failed" and "interrupted" in failed.error
    assert "end_of_day" not in engine.terminal.calls


def test_an_unknown_kiosk_has_no_end_of_day(engine):
    with pytest.raises(NotServed):
        engine.service.end_of_day("nope", "alice")
    assert rows(engine) == []
