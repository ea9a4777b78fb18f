"""A CPO push and what the engine makes of it are committed together: one commit per push, and
an engine step that fails leaves the push stored and the transaction as it was."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from kiosk_app.charging.states import State, TxState
from kiosk_app.models.charging import ChargingEvent, ChargingTransaction
from kiosk_app.models.ocpi import OcpiSession
from kiosk_app.ocpi.simulator.server import Scenario

from .live import Stack, running_stack

# One simulated second per real second: after its PENDING Session the simulator stays silent for
# a minute, so the Sessions the test pushes itself are all the receiver hears meanwhile.
QUIET = Scenario(speed=1, ticks=60, tick_minutes=1)


class CommitsPerRequest:
    """WSGI middleware: how many database commits the app made while serving each request."""

    def __init__(self, app: Any) -> None:
        self.app, self.wsgi_app = app, app.wsgi_app
        self.engine = app.extensions["kiosk.db"].engine
        self.served: list[tuple[str, str, int]] = []  # (method, path, commits)
        self._local = threading.local()
        sa.event.listen(self.engine, "commit", self._commit)
        app.wsgi_app = self

    def _commit(self, _connection: Any) -> None:
        if hasattr(self._local, "commits"):
            self._local.commits += 1

    def __call__(self, environ: dict, start_response: Any) -> Any:
        self._local.commits = 0
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
            self.served.append((method, path, self._local.commits))
            del self._local.commits

    def close(self) -> None:
        sa.event.remove(self.engine, "commit", self._commit)
        self.app.wsgi_app = self.wsgi_app


@pytest.fixture
def commits(stack: Stack) -> Iterator[CommitsPerRequest]:
    counter = CommitsPerRequest(stack.app)
    yield counter
    counter.close()


def test_every_push_of_a_charge_is_one_commit(stack, commits):
    reference = stack.service.select_evse("kiosk-1", "EVSE-1", "de")
    stack.service.pay(reference)
    stack.wait_for(reference, lambda tx: tx.kwh > 0)
    stack.service.stop(reference)
    assert stack.settled(reference).state == State.RECEIPT_ISSUED

    pushes = [(m, p, n) for m, p, n in commits.served if m in ("POST", "PUT", "PATCH")]
    kinds = {(method, path.split("/")[4]) for method, path, _ in pushes}
    assert kinds >= {
        ("POST", "commands"),
        ("PUT", "sessions"),
        ("PATCH", "sessions"),
        ("POST", "cdrs"),
    }
    assert [n for _, _, n in pushes] == [1] * len(pushes), pushes


def _pending(stack: Stack, reference: str) -> TxState:
    """`reference` paid for, its START accepted and the CPO's PENDING Session recorded."""
    stack.service.pay(reference)
    return stack.wait_for(reference, lambda tx: tx.session_status == "PENDING")


def _push_session(stack: Stack, session_id: str, patch: dict[str, Any]) -> dict[str, Any]:
    """PATCH our receiver as the simulated CPO does, with its credentials."""
    cpo = stack.cpo
    registration = cpo.registration
    token = base64.b64encode(registration.token_for_them.encode()).decode()
    url = f"{registration.endpoints['sessions']}/{cpo.park.country_code}/{cpo.park.party_id}"
    answer = stack.app.test_client().patch(
        f"{url.removeprefix(stack.url)}/{session_id}",
        json=patch,
        headers={"Authorization": f"Token {token}"},
    )
    assert answer.status_code == 200
    return answer.get_json()


def _events_of(stack: Stack, reference: str) -> list[str]:
    with stack.app.extensions["kiosk.db"].session() as session:
        return list(
            session.scalars(
                sa.select(ChargingEvent.kind)
                .join(ChargingTransaction)
                .where(ChargingTransaction.reference == reference)
                .order_by(ChargingEvent.seq)
            )
        )


def _stored_kwh(stack: Stack, session_id: str) -> Any:
    with stack.app.extensions["kiosk.db"].session() as session:
        doc = session.scalar(sa.select(OcpiSession.doc).where(OcpiSession.session_id == session_id))
    return doc["kwh"]


def _active(kwh: float, stamp: str) -> dict[str, Any]:
    """A Session PATCH without total_cost: the engine prices it with our tariff engine."""
    return {
        "status": "ACTIVE",
        "kwh": kwh,
        "charging_periods": [
            {"start_date_time": stamp, "dimensions": [{"type": "ENERGY", "volume": kwh}]}
        ],
        "last_updated": stamp,
    }


def test_a_session_push_without_total_cost_is_priced_from_the_push(config):
    with running_stack(config, scenario=QUIET) as stack:
        reference = stack.service.select_evse("kiosk-1", "EVSE-1", "de")
        tx = _pending(stack, reference)

        _push_session(stack, tx.session_id, _active(10.0, tx.session_start.isoformat()))

        priced = stack.tx(reference)
        assert (priced.state, priced.kwh) == (State.CHARGING, 10)
        # The simulator's EVSE-1 tariff, VAT included: 0.49 EUR/kWh and 0.50 EUR per session.
        assert priced.session_cost_minor == 540


def test_an_engine_step_that_fails_leaves_the_push_stored_and_the_transaction_untouched(
    config, monkeypatch, caplog
):
    with running_stack(config, scenario=QUIET) as stack:
        reference = stack.service.select_evse("kiosk-1", "EVSE-1", "de")
        tx = _pending(stack, reference)
        before = _events_of(stack, reference)

        runner = stack.service.runner
        record = runner.apply_in
        pushing = threading.current_thread()

        def records_then_fails(*args: Any, **kwargs: Any) -> Any:
            applied = record(*args, **kwargs)  # the engine's writes, then a failure
            if threading.current_thread() is pushing:
                raise RuntimeError("engine step failed after writing")
            return applied

        monkeypatch.setattr(runner, "apply_in", records_then_fails)
        _push_session(stack, tx.session_id, _active(7.5, tx.session_start.isoformat()))

        assert _stored_kwh(stack, tx.session_id) == 7.5  # the push is kept
        assert _events_of(stack, reference) == before  # the engine's step is not
        assert stack.tx(reference) == tx
        assert "engine step failed after writing" in caplog.text

        monkeypatch.undo()  # the CPO's next push is recorded as usual
        _push_session(stack, tx.session_id, _active(8.0, tx.session_start.isoformat()))
        assert (stack.tx(reference).state, stack.tx(reference).kwh) == (State.CHARGING, 8)
        after = _events_of(stack, reference)
        assert after[: len(before)] == before and "SessionUpdated" in after[len(before) :]


def test_the_engine_step_of_a_push_takes_no_second_connection(config):
    """The push holds a pooled connection (on SQLite, and the write lock) until it commits. Had
    its engine step asked the pool for another, to read the tariffs, it could wait for good:
    the threads queued behind that lock may hold all the others."""
    with running_stack(config, scenario=QUIET) as stack:
        reference = stack.service.select_evse("kiosk-1", "EVSE-1", "de")
        tx = _pending(stack, reference)
        pool = stack.app.extensions["kiosk.db"].engine.pool
        pushing, checkouts = threading.current_thread(), []

        def checkout(*_args: Any) -> None:
            if threading.current_thread() is pushing:
                checkouts.append(1)

        sa.event.listen(pool, "checkout", checkout)
        try:
            _push_session(stack, tx.session_id, _active(10.0, tx.session_start.isoformat()))
        finally:
            sa.event.remove(pool, "checkout", checkout)

        assert len(checkouts) == 1
        priced = stack.tx(reference)
        assert (priced.state, priced.session_cost_minor) == (State.CHARGING, 540)
