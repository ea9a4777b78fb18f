"""Refunds in the back office: the list of refunds due, the transaction's credits and refunds,
and the admin action that records a refund made at the acquirer (confirmed, CSRF, audited)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from operator_helpers import audit_entries, csrf_token

from kiosk_app.charging.ports import RemoteCdr
from kiosk_app.charging.timers import fire_due


def credited(backoffice, amount: str = "1.20", evse: str = "EVSE-1") -> str:  # type: ignore[no-untyped-def]
    """A charge of 3.20 captured with its receipt, then the CPO's credit CDR of `amount`."""
    ref = backoffice.charge(evse, total="3.20")
    credit = RemoteCdr(ref, f"CR-{ref}", -Decimal(amount), Decimal(0), True, f"CDR-{ref}")
    backoffice.service.on_cdr(credit)
    backoffice.service.on_cdr(credit)  # the CPO pushes it twice
    backoffice.settle()
    return ref


def record(client, ref: str, confirmed: bool = True, **fields):  # type: ignore[no-untyped-def]
    url = f"/operator/transactions/{ref}/record-refund"
    data = {"csrf_token": csrf_token(client, url), **fields}
    if confirmed:
        data["confirmed"] = "y"
    return client.post(url, data=data)


def test_the_refunds_due_are_listed_with_what_the_acquirer_needs(viewer_client, backoffice):
    ref = credited(backoffice)
    backoffice.charge("EVSE-2")  # nothing due on this one
    tx = backoffice.runner.load(ref)
    assert tx.refund_due_minor == 120 and len(tx.refunds) == 1
    page = viewer_client.get("/operator/refunds").get_data(as_text=True)
    assert "1 transactions with a refund due" in page
    assert ref[:8] in page and "1.20 EUR" in page and "3.20 EUR" in page
    card = tx.reservation
    for fact in (card.terminal_id, str(card.receipt_no), str(card.trace_no), tx.receipt_number):
        assert fact in page
    detail = viewer_client.get(f"/operator/transactions/{ref}").get_data(as_text=True)
    assert "Credits and refunds" in detail and f"CR-{ref}" in detail
    assert "Record a refund" not in detail  # a viewer sees no action
    board = viewer_client.get("/operator/").get_data(as_text=True)
    attention = board[board.index("Needs attention") : board.index('id="figures-heading"')]
    assert "Refund of 1.20 EUR due after a credit CDR at kiosk-1" in attention
    assert f"/operator/transactions/{ref}" in attention


def test_the_dashboard_revenue_is_net_of_credits(viewer_client, backoffice):  # type: ignore[no-untyped-def]
    credited(backoffice, amount="1.20")
    backoffice.charge("EVSE-2", total="3.20")
    day = backoffice.clock().date().isoformat()
    page = viewer_client.get(f"/operator/?until={day}").get_data(as_text=True)
    row = re.search(r'<th scope="row">kiosk-1</th><td>([^<]*)</td>', page)
    assert row is not None and row.group(1) == "5.20 EUR"  # 3.20 - 1.20 + 3.20


def test_recording_a_refund_books_it_issues_the_credit_note_and_is_audited(
    app, admin_client, backoffice
):
    ref = credited(backoffice)
    page = admin_client.get(f"/operator/transactions/{ref}").get_data(as_text=True)
    assert "Record a refund" in page
    confirm = admin_client.get(f"/operator/transactions/{ref}/record-refund")
    assert confirm.status_code == 200 and "due 1.20 EUR" in confirm.get_data(as_text=True)

    response = record(admin_client, ref, amount="1.00", acquirer_reference="RF-778")
    assert response.status_code == 302
    backoffice.settle()
    tx = backoffice.runner.load(ref)
    (payment,) = tx.refund_payments
    assert (payment.amount_minor, payment.acquirer_reference, payment.operator) == (
        100,
        "RF-778",
        "alice",
    )
    assert payment.credit_note_number == "CN-0-100"
    assert (tx.refunded_minor, tx.refund_due_minor, tx.captured_minor) == (100, 20, 320)
    (entry,) = audit_entries(app, "transaction.record_refund")
    assert (entry.actor_name, entry.target_id) == ("alice", ref)
    assert entry.details == {
        "amount_minor": 100,
        "currency": "EUR",
        "acquirer_reference": "RF-778",
        "refund_due_after": 20,
    }
    timeline = backoffice.service.timeline(ref)
    assert any(e.kind == "OperatorRecordRefund" and e.actor == "alice" for e in timeline)

    # the rest, then nothing is due any more
    assert record(admin_client, ref, amount="0.20", acquirer_reference="RF-779").status_code == 302
    assert backoffice.runner.load(ref).refund_due_minor == 0
    listing = admin_client.get("/operator/refunds").get_data(as_text=True)
    assert "No refund is due" in listing


@pytest.mark.parametrize(
    "fields, confirmed, field, message",
    [
        ({"amount": "1.21", "acquirer_reference": "RF-1"}, True, "amount", "at most the 1.20 EUR"),
        ({"amount": "0", "acquirer_reference": "RF-1"}, True, "amount", "more than 0"),
        ({"amount": "-1", "acquirer_reference": "RF-1"}, True, "amount", "like 12.50"),
        ({"amount": "abc", "acquirer_reference": "RF-1"}, True, "amount", "like 12.50"),
        ({"amount": "1.00", "acquirer_reference": ""}, True, "acquirer_reference", "required"),
        ({"amount": "1.00", "acquirer_reference": "RF-1"}, False, "confirmed", "Confirm"),
    ],
)
def test_a_bad_refund_is_refused_naming_the_field(
    app, admin_client, backoffice, fields, confirmed, field, message
):
    ref = credited(backoffice)
    response = record(admin_client, ref, confirmed, **fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in body and message in body
    assert backoffice.runner.load(ref).refund_payments == ()
    assert audit_entries(app, "transaction.record_refund") == []


def test_the_same_acquirer_reference_is_not_recorded_twice(app, admin_client, backoffice):
    ref = credited(backoffice)
    assert record(admin_client, ref, amount="0.50", acquirer_reference="RF-1").status_code == 302
    again = record(admin_client, ref, amount="0.50", acquirer_reference="RF-1")
    assert again.status_code == 400 and "recorded already" in again.get_data(as_text=True)
    assert backoffice.runner.load(ref).refunded_minor == 50
    assert len(audit_entries(app, "transaction.record_refund")) == 1


def test_nothing_can_be_refunded_without_a_credit(admin_client, backoffice):
    ref = backoffice.charge()
    page = admin_client.get(f"/operator/transactions/{ref}/record-refund").get_data(as_text=True)
    assert "Nothing is due" in page
    response = record(admin_client, ref, amount="1.00", acquirer_reference="RF-1")
    assert response.status_code == 400 and "at most the 0.00 EUR" in response.get_data(as_text=True)
    assert backoffice.runner.load(ref).refund_payments == ()


def test_recording_a_refund_needs_the_csrf_token(app, admin_client, backoffice):
    ref = credited(backoffice)
    response = admin_client.post(
        f"/operator/transactions/{ref}/record-refund",
        data={"amount": "1.00", "acquirer_reference": "RF-1", "confirmed": "y"},
    )
    assert response.status_code == 400
    assert backoffice.runner.load(ref).refund_payments == ()
    assert audit_entries(app, "transaction.record_refund") == []


def test_a_credit_before_the_capture_lowers_it_and_owes_nothing(app, admin_client, backoffice):
    # the terminal refuses the first capture; the CPO's credit CDR arrives before the retry
    ref = backoffice.charging("EVSE-4")
    backoffice.terminal.script = ["decline"]
    backoffice.service.stop(ref)
    backoffice.settle()
    backoffice.service.on_session(ref, "S-EVSE-4", "COMPLETED", Decimal(5), Decimal("3.20"))
    backoffice.service.on_cdr(RemoteCdr(ref, "CDR-4", Decimal("3.20"), Decimal("5")))
    backoffice.settle()
    assert backoffice.runner.load(ref).state.value == "CAPTURE_FAILED"
    backoffice.service.on_cdr(RemoteCdr(ref, "CR-4", Decimal("-1.20"), Decimal(0), True, "CDR-4"))
    backoffice.clock.advance(3600)  # the capture's retry is due
    fire_due(backoffice.runner)
    backoffice.settle()
    tx = backoffice.runner.load(ref)
    assert (tx.state.value, tx.captured_minor, tx.refunds) == ("RECEIPT_ISSUED", 200, ())
    assert tx.credits[0].deducted_minor == 120 and tx.refund_due_minor == 0
    (hold,) = backoffice.terminal.journal.values()
    assert (hold.status, hold.captured_minor) == ("captured", 200)
    # the CPO billed 3.20 less its 1.20 credit: our capture agrees with it
    page = admin_client.get("/operator/reconciliation?day=2026-11-21").get_data(as_text=True)
    assert "Captured amount differs from the CDR total" not in page
