"""A credit CDR after the capture, end to end: the CPO simulator POSTs it over real HTTP after
the receipt was issued, the engine owes the credited amount back, an admin records the refund
made at the acquirer through the back office (CSRF, audited), the worker issues the credit note,
and the driver finds it behind the same receipt link (PDF text read back with poppler)."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal

import requests
from argon2 import PasswordHasher

from kiosk_app.charging.states import State
from kiosk_app.models.operator import OperatorAudit, OperatorUser

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _charged(stack) -> str:  # type: ignore[no-untyped-def]
    reference = stack.service.select_evse("kiosk-1", "EVSE-1", "en")
    stack.service.pay(reference)
    stack.wait_for(reference, lambda tx: tx.kwh > 0)
    stack.service.stop(reference)
    tx = stack.settled(reference)
    assert tx.state == State.RECEIPT_ISSUED and tx.captured_minor > 0
    return reference


def _admin_client(app):  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as session:
        hashed = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
        session.add(OperatorUser(username="alice", password_hash=hashed, role="admin"))
        session.commit()
    client = app.test_client()
    token = _token(client, "/operator/login")
    login = {"csrf_token": token, "username": "alice", "password": PASSWORD}
    assert client.post("/operator/login", data=login).status_code == 302
    return client


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def _pdf_text(data: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "credit-note.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_a_credit_cdr_after_the_capture_is_refunded_with_a_credit_note(stack, tmp_path):
    reference = _charged(stack)
    tx = stack.tx(reference)
    captured, link = tx.captured_minor, tx.receipt_link

    credit_id = stack.cpo.credit(tx.cdr_id, share=Decimal("0.5"))
    stack.cpo.credit(tx.cdr_id, share=Decimal("0.5"))  # the CPO pushes it again
    tx = stack.wait_for(reference, lambda tx: tx.refund_due_minor > 0)
    (credit,) = tx.credits
    assert (credit.cdr_id, credit.original_cdr_id) == (credit_id, tx.cdr_id)
    credited = credit.credited_minor
    assert abs(2 * credited - captured) <= 1  # half of the CDR, to the cent
    (refund,) = tx.refunds
    assert (refund.credit_cdr_id, refund.amount_minor) == (credit_id, credited)
    # the sale itself stands: captured once, the terminal's journal agrees
    assert (tx.state, tx.captured_minor) == (State.RECEIPT_ISSUED, captured)
    assert stack.journal(tx.reservation.receipt_no).captured_minor == captured

    client = _admin_client(stack.app)
    listing = client.get("/operator/refunds").get_data(as_text=True)
    assert reference[:8] in listing and tx.reservation.terminal_id in listing
    url = f"/operator/transactions/{reference}/record-refund"
    amount = f"{Decimal(credited) / 100:.2f}"
    form = {
        "csrf_token": _token(client, url),
        "amount": amount,
        "acquirer_reference": "PORTAL-REF-1",
        "confirmed": "y",
    }
    assert client.post(url, data=form).status_code == 302

    tx = stack.wait_for(reference, lambda tx: bool(tx.refund_payments[0].credit_note_number))
    assert (tx.refunded_minor, tx.refund_due_minor) == (credited, 0)
    note_number = tx.refund_payments[0].credit_note_number
    with stack.app.extensions["kiosk.db"].session() as session:
        (entry,) = session.query(OperatorAudit).filter_by(action="transaction.record_refund")
        assert (entry.target_id, entry.details["amount_minor"]) == (reference, credited)
    events = [e.kind for e in stack.service.timeline(reference)]
    assert {"OperatorRecordRefund", "CreditNoteIssued"} <= set(events)

    page = requests.get(link, timeout=5)
    assert page.status_code == 200 and note_number in page.text
    pdf = requests.get(f"{link}/credit-notes/{note_number}.pdf", timeout=5)
    assert pdf.status_code == 200
    text = _pdf_text(pdf.content, tmp_path)
    assert "Credit note" in text and tx.receipt_number in text
    assert f"EUR -{amount}" in text and "19%" in text
