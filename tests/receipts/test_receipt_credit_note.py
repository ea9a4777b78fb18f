"""Credit notes: money given back after a sale, as a corrective receipt that references the
original number, with negative lines spread over the original's and VAT per the profile. Read
back from the PDF with poppler, and served through the driver's one receipt link."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kiosk_app import db, receipting
from receipts import pdf
from receipts.model import Customer, InvalidReceipt, Kind, credit_note_of, with_customer
from receipts.sample import sample_receipt
from receipts.vat import breakdown

HTML = {"Accept": "text/html"}
REFUNDED = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("code", ["DE", "SE", "EU", "JP"])
@pytest.mark.parametrize("amount", [1, 333, 471, None])  # None: the whole receipt
def test_the_lines_add_up_to_the_credited_amount_at_the_original_rates(code, amount) -> None:
    original = sample_receipt(code, "en")
    amount = original.total if amount is None else amount
    note = credit_note_of(original, amount, REFUNDED)
    assert note.kind is Kind.CREDIT_NOTE and note.original_number == "K1-000042"
    assert note.total == sum(line.amount for line in note.lines) == -amount
    assert all(line.amount < 0 for line in note.lines)
    assert {line.vat_rate for line in note.lines} == {v.rate for v in original.vat}
    assert note.vat == breakdown((line.vat_rate, line.amount) for line in note.lines)
    assert note.payment.amount == -amount and note.payment.paid_at == REFUNDED
    assert note.metering is None
    if amount == original.total:  # a full credit mirrors the original, like a cancellation
        assert [line.amount for line in note.lines] == [-line.amount for line in original.lines]
        assert [v.vat for v in note.vat] == [-v.vat for v in original.vat]


def test_more_than_was_not_yet_credited_is_refused() -> None:
    original = sample_receipt("DE", "de")
    with pytest.raises(InvalidReceipt, match=r"^amount: .* at most the 1884"):
        credit_note_of(original, original.total + 1, REFUNDED)
    with pytest.raises(InvalidReceipt, match=r"^amount: .* at most the 884"):
        credit_note_of(original, 885, REFUNDED, credited_before=1000)
    with pytest.raises(InvalidReceipt, match=r"^amount"):
        credit_note_of(original, 0, REFUNDED)
    note = credit_note_of(original, 100, REFUNDED)
    with pytest.raises(InvalidReceipt, match="only a receipt can be credited"):
        credit_note_of(note, 1, REFUNDED)
    with pytest.raises(InvalidReceipt, match="negative price lines only"):
        dataclasses.replace(note, lines=original.lines, vat=())


@pytest.mark.parametrize(
    ("code", "language", "title", "label", "total", "vat_row"),
    [
        ("DE", "de", "Rechnungskorrektur", "Korrektur zu Rechnung", "-4,71 EUR",
         ("19 %", "-3,96 EUR", "-0,75 EUR", "-4,71 EUR")),
        ("SE", "sv", "Kreditnota", "Korrigerar faktura", "-38,97 SEK",
         ("25 %", "-31,18 SEK", "-7,79 SEK", "-38,97 SEK")),
        ("JP", "ja", "適格返還請求書", "返還対象", "-333円", ("10%", "-303円", "-30円", "-333円")),
    ],
)  # fmt: skip
def test_the_pdf_references_the_original_with_negative_amounts_and_vat(
    code, language, title, label, total, vat_row, link, pdf_text, line_with
) -> None:
    note = sample_receipt(code, language, kind=Kind.CREDIT_NOTE)
    content = pdf_text(pdf.render(note, link))
    assert title in content
    assert "K1-000042" in line_with(content, label)
    assert total in content
    row = line_with(content, vat_row[0])
    positions = [row.index(value, row.index(vat_row[0]) + 1) for value in vat_row[1:]]
    assert positions == sorted(positions)  # net, VAT, gross in their columns
    assert "**** 0119" in content


def _issue(app, draft):  # type: ignore[no-untyped-def]
    with app.app_context():
        session = db.session()
        issued = receipting.issue(session, draft, app.config["KIOSK"])
        session.commit()
        return issued


def test_the_driver_finds_the_credit_notes_behind_the_receipt_link(app, client, pdf_text) -> None:
    issued = _issue(app, dataclasses.replace(sample_receipt("DE", "en"), number=0))
    path = "/r/" + issued.token
    assert "Credit notes" not in client.get(path, headers=HTML).get_data(as_text=True)
    with app.app_context():
        session = db.session()
        first = receipting.credit_note(session, issued.record, 500, REFUNDED, app.config["KIOSK"])
        second = receipting.credit_note(session, issued.record, 84, REFUNDED, app.config["KIOSK"])
        with pytest.raises(receipting.ReceiptRefused, match="at most the 1300"):
            receipting.credit_note(session, issued.record, 1301, REFUNDED, app.config["KIOSK"])
        session.commit()
        numbers = [first.receipt.receipt_number, second.receipt.receipt_number]
        assert numbers == ["K1-000002", "K1-000003"]
        assert receipting.verify_journal(session) == {"K1": []}
        # the original stays in force: corrected, not cancelled
        assert receipting.current_receipt(session, issued.record.transaction_reference).id == (
            issued.record.id
        )

    page = client.get(path, headers=HTML).get_data(as_text=True)
    assert "Credit notes" in page and "K1-000002" in page and "EUR -5.00" in page
    assert f"{path}/credit-notes/K1-000003.pdf" in page
    response = client.get(f"{path}/credit-notes/K1-000002.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Credit note" in text and "Corrects invoice" in text and "K1-000001" in text
    assert "EUR -5.00" in text
    # only the receipt's own credit notes, and only behind its link
    assert client.get(f"{path}/credit-notes/K1-000001.pdf").status_code == 404
    assert client.get("/r/" + "x" * 32 + "/credit-notes/K1-000002.pdf").status_code == 404


def test_a_credit_note_for_a_full_invoice_repeats_its_customer(link, pdf_text) -> None:
    original = with_customer(
        sample_receipt("DE", "de", energy=Decimal("450.000")), Customer("Beispiel AG", ("Hof 5",))
    )
    note = credit_note_of(original, 500, REFUNDED)  # 5.00 EUR: a small amount by itself
    content = pdf_text(pdf.render(note, link))
    assert "§ 14 Abs. 4 UStG" in content
    assert "Beispiel AG" in content and "Hof 5" in content
