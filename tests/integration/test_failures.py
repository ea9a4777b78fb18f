"""Everything that goes wrong, end to end on the real simulators: the driver is never charged
for what did not happen, every hold ends captured or released, the terminal's own journal
agrees with our books."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kiosk_app.charging.runner import EvseBusy
from kiosk_app.charging.states import FINAL, State
from kiosk_app.models.receipts import ReceiptRecord


def _commands(stack, name):
    return [path for method, path, _ in stack.cpo.received if path.endswith(f"/commands/{name}")]


def _receipts(stack, reference):
    with stack.app.extensions["kiosk.db"].session() as session:
        return session.scalars(
            sa.select(ReceiptRecord).where(ReceiptRecord.transaction_reference == reference)
        ).all()


def _released(stack, reference, failure):
    # The voucher is issued once the hold is released.
    tx = stack.wait_for(reference, lambda tx: tx.state in FINAL and bool(tx.voucher_number))
    assert (tx.state, tx.failure) == (State.RELEASED, failure)
    assert tx.captured_minor == 0 and tx.released_minor == tx.held_minor > 0
    assert stack.journal(tx.reservation.receipt_no).state == "released"
    (voucher,) = _receipts(stack, reference)
    assert (voucher.kind, voucher.total_minor) == ("nothing_charged", 0)
    assert tx.voucher_number
    return tx


def _charged(stack, reference):
    tx = stack.settled(reference)
    assert tx.state == State.RECEIPT_ISSUED, tx
    entry = stack.journal(tx.reservation.receipt_no)
    assert (entry.state, entry.captured_minor) == ("captured", tx.captured_minor)
    (receipt,) = _receipts(stack, reference)
    assert receipt.total_minor == tx.captured_minor > 0
    return tx


def _pay(stack):
    reference = stack.service.select_evse("kiosk-1", "EVSE-1", "en")
    stack.service.pay(reference)
    return reference


def test_declined(stack):
    stack.terminal.push_scenario("insufficient_funds")
    reference = _pay(stack)
    tx = stack.settled(reference)
    assert (tx.state, tx.failure) == (State.DECLINED, "declined.INSUFFICIENT_FUNDS")
    assert tx.held_minor == 0 and stack.terminal.journal.entries == {}
    assert _commands(stack, "START_SESSION") == []


def test_customer_abort_on_the_terminal(stack):
    stack.terminal.push_scenario("customer_abort")
    reference = _pay(stack)
    tx = stack.settled(reference)
    assert (tx.state, tx.failure) == (State.ABORTED, "declined.CUSTOMER_ABORT_OR_TIMEOUT")
    assert tx.held_minor == 0 and stack.terminal.journal.entries == {}


@pytest.mark.parametrize("terminal_speed", [0.5])
def test_driver_cancels_at_the_kiosk_while_the_terminal_waits_for_the_card(stack):
    reference = _pay(stack)
    stack.wait_for(reference, lambda tx: "terminal.insert_card" in _lines(stack, reference))
    stack.service.cancel(reference)
    tx = stack.settled(reference)
    assert (tx.state, tx.failure) == (State.ABORTED, "declined.CUSTOMER_ABORT_OR_TIMEOUT")
    assert "06 B0" in stack.terminal.received
    assert stack.terminal.journal.entries == {}


def _lines(stack, reference):
    return [line.key for line in stack.service.status(reference).lines]


def test_start_rejected(stack):
    stack.cpo.configure(command_response="REJECTED")
    _released(stack, _pay(stack), "start_rejected.REJECTED")


def test_evse_occupied(stack):
    stack.cpo.configure(command_result="EVSE_OCCUPIED")
    _released(stack, _pay(stack), "start_rejected.EVSE_OCCUPIED")


def test_evse_in_use_cannot_be_selected(stack):
    reference = _pay(stack)
    stack.wait_state(reference, State.CHARGING)
    try:
        stack.service.select_evse("kiosk-1", "EVSE-1", "en")
    except EvseBusy:
        pass
    else:
        raise AssertionError("a second driver could select an EVSE in use")
    stack.service.stop(reference)
    _charged(stack, reference)


def test_command_result_never_arrives(stack):
    stack.cpo.configure(command_result=None, command_timeout_s=1)
    _released(stack, _pay(stack), "start_timeout")


def test_car_never_plugged_in(stack):
    stack.cpo.configure(car_plugged_in=False)
    _released(stack, _pay(stack), "no_plugin")


def test_session_invalid(stack):
    stack.cpo.configure(session_invalid=True)
    _released(stack, _pay(stack), "session_invalid")


def test_cdr_never_arrives(stack):
    stack.cpo.configure(send_cdr=False)
    reference = _pay(stack)
    stack.wait_for(reference, lambda tx: tx.kwh > 0)
    stack.service.stop(reference)
    tx = _charged(stack, reference)
    assert "cdr_missing" in tx.review_flags
    assert tx.cdr_id is None and tx.captured_minor == tx.session_cost_minor


def test_duplicate_cdr(stack):
    stack.cpo.configure(duplicate_cdr=True)
    reference = _pay(stack)
    stack.wait_for(reference, lambda tx: tx.kwh > 0)
    stack.service.stop(reference)
    tx = _charged(stack, reference)
    assert tx.captures == 1


def test_capture_link_lost_then_captured_on_retry(stack):
    reference = _pay(stack)
    stack.wait_for(reference, lambda tx: tx.kwh > 0)
    stack.cutter.cut_on = b"\x06\x24"  # Book Total: the link drops as the capture goes out
    stack.service.stop(reference)
    tx = _charged(stack, reference)
    assert stack.cutter.cuts == 1
    assert tx.captures == 1 and not tx.uncertain


def test_terminal_disconnected_during_authorisation(stack):
    stack.terminal.push_scenario("disconnect")
    reference = _pay(stack)
    tx = stack.settled(reference)
    assert tx.state == State.DECLINED and tx.held_minor == 0
    assert all(e.state != "open" for e in stack.terminal.journal.entries.values())
    # The terminal is usable again for the next driver.
    stack.wait_state(_pay(stack), State.CHARGING)


def test_cpo_answers_500_to_stop_session(stack):
    stack.cpo.configure(ticks=10_000)  # the car charges until the session is stopped
    reference = _pay(stack)
    stack.wait_for(reference, lambda tx: tx.kwh > 0)
    stack.cpo.configure(http_500=1)
    stack.service.stop(reference)
    _charged(stack, reference)
    stops = [
        e.details
        for e in stack.service.timeline(reference)
        if e.category == "event"
        and e.kind == "CommandResponded"
        and e.details.get("command") == "STOP_SESSION"
    ]
    assert [bool(s.get("error")) for s in stops] == [True, False]


def test_a_credit_cdr_during_the_capture_becomes_a_refund_due(stack):
    # The simulator credits the whole CDR right after it: the capture is already on its way
    # to the terminal, so the credit cannot lower it; once captured it is owed back.
    stack.cpo.configure(credit_cdr=True)
    reference = _pay(stack)
    stack.wait_for(reference, lambda tx: tx.kwh > 0)
    stack.service.stop(reference)
    tx = stack.wait_for(reference, lambda tx: bool(tx.refunds) and tx.state in FINAL)
    (credit,) = tx.credits
    assert (credit.original_cdr_id, credit.total_minor) == (tx.cdr_id, -tx.captured_minor)
    assert [(r.credit_cdr_id, r.amount_minor) for r in tx.refunds] == [
        (credit.cdr_id, tx.captured_minor)
    ]
    assert {"credit_cdr", "refund_due"} <= set(tx.review_flags)
    _charged(stack, reference)
