"""Pay → charge → stop → CDR → capture → receipt, on the real simulators and transports."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa

from kiosk_app.charging.states import State
from kiosk_app.models.receipts import ReceiptRecord
from kiosk_app.ocpi import events


@pytest.mark.parametrize("terminal_link", ["tcp://127.0.0.1:0", "pty"])
def test_pay_charge_stop_receipt(stack):
    reference = stack.service.select_evse("kiosk-1", "EVSE-1", "de")
    stack.service.pay(reference)
    charging = stack.wait_state(reference, State.CHARGING)
    assert charging.held_minor == 5000
    stack.wait_for(reference, lambda tx: tx.kwh > 0)
    stack.service.stop(reference)
    tx = stack.settled(reference)

    assert tx.state == State.RECEIPT_ISSUED
    assert tx.cross_check == "match"
    assert 0 < tx.captured_minor == tx.cdr_total_minor <= tx.held_minor
    assert tx.captured_minor + tx.released_minor == tx.held_minor
    entry = stack.journal(tx.reservation.receipt_no)
    assert (entry.state, entry.captured_minor, entry.reference) == (
        "captured",
        tx.captured_minor,
        reference,
    )
    with stack.app.extensions["kiosk.db"].session() as session:
        record = session.scalar(
            sa.select(ReceiptRecord).where(ReceiptRecord.transaction_reference == reference)
        )
        assert record.total_minor == tx.captured_minor == tx.receipt_total_minor
        assert '"ocmf"' in record.content and "OCMF|" in record.content
    page = requests.get(tx.receipt_link, timeout=5)
    assert page.status_code == 200
    view = stack.service.status(reference)
    assert view.receipt_link == tx.receipt_link and view.card_last4.isdigit()

    # Issuing again (a retried intent) gives the same receipt under a fresh link.
    again = stack.engine.ports.receipts.issue_receipt(tx)
    assert (again.number, again.total_minor) == (tx.receipt_number, tx.captured_minor)
    assert again.link != tx.receipt_link
    assert requests.get(again.link, timeout=5).status_code == 200
    assert requests.get(tx.receipt_link, timeout=5).status_code == 404
    with stack.app.extensions["kiosk.db"].session() as session:
        count = session.scalar(
            sa.select(sa.func.count()).where(ReceiptRecord.transaction_reference == reference)
        )
    assert count == 1


def test_pushes_for_unknown_transactions_are_ignored(stack, caplog):
    reference = stack.service.select_evse("kiosk-1", "EVSE-1", "de")
    pushes = [
        events.CommandResultReceived("FEEDFACE" * 4, "START_SESSION", "ACCEPTED", None),
        events.CommandResultReceived(reference.upper(), "START_SESSION", "BOGUS", None),
    ]
    with stack.app.extensions["kiosk.db"].session() as session:
        events.commit_and_publish(session, pushes)
    assert "for unknown transaction feedface" in caplog.text
    assert "not understood" in caplog.text
    assert stack.tx(reference).state == State.SELECTED
