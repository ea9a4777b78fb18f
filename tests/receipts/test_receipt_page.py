"""The public receipt page: the receipt, its PDF and meter data, 404s and the rate limit."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from kiosk_app import create_app, db, receipting
from kiosk_app.config import ReceiptsConfig
from kiosk_app.models.receipts import ReceiptRecord
from kiosk_app.receipt_page import RateLimiter
from receipts import ocmf, pdf, transparency
from receipts.model import Kind
from receipts.sample import SAMPLE_OCMF, sample_receipt

HTML = {"Accept": "text/html"}


def _issue(app, draft=None, clock=None):  # type: ignore[no-untyped-def]
    draft = draft or dataclasses.replace(sample_receipt("DE", "en"), number=0)
    with app.app_context():
        session = db.session()
        kwargs = {"clock": clock} if clock else {}
        issued = receipting.issue(session, draft, app.config["KIOSK"], **kwargs)
        session.commit()
        return issued


def _path(issued: receipting.Issued) -> str:
    return "/r/" + issued.token


def test_the_page_shows_the_receipt_and_the_signature_check(app, client) -> None:
    issued = _issue(app)
    response = client.get(_path(issued), headers=HTML)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "K1-000001" in body and "EUR 18.84" in body and "**** 0119" in body
    assert 'data-status="valid"' in body
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert 'name="viewport"' in body


def test_pdf_download_is_the_receipt_with_its_link(app, client) -> None:
    issued = _issue(app)
    response = client.get(_path(issued) + "/receipt.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == pdf.render(issued.receipt, issued.link)


def test_ocmf_download_is_a_verifiable_transparenzsoftware_file(app, client) -> None:
    issued = _issue(app)
    response = client.get(_path(issued) + "/ocmf.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    (value,) = transparency.read(response.data)
    assert value.ocmf == SAMPLE_OCMF
    assert ocmf.check(value.ocmf, value.public_key).valid


def test_a_tampered_signature_is_shown_as_invalid(app, client) -> None:
    receipt = dataclasses.replace(sample_receipt("DE", "de"), number=0)
    forged = receipt.metering.ocmf[0].replace('"RV":1257.012', '"RV":1207.012')
    draft = dataclasses.replace(
        receipt, metering=dataclasses.replace(receipt.metering, ocmf=(forged,))
    )
    body = client.get(_path(_issue(app, draft)), headers=HTML).get_data(as_text=True)
    assert 'data-status="invalid"' in body and "UNGÜLTIG" in body


def test_a_voucher_has_no_meter_data(app, client) -> None:
    voucher = dataclasses.replace(sample_receipt("DE", "de", kind=Kind.NOTHING_CHARGED), number=0)
    issued = _issue(app, voucher)
    assert client.get(_path(issued), headers=HTML).status_code == 200
    assert client.get(_path(issued) + "/ocmf.xml").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/r/" + "A" * 32,  # well-formed, unknown
        "/r/short",  # malformed
        "/r/" + "!" * 32,
        "/r/" + "A" * 33,
        "/r/" + "A" * 32 + "/receipt.pdf",
        "/r/" + "A" * 32 + "/ocmf.xml",
    ],
)
def test_unknown_or_malformed_tokens_get_a_plain_404(client, path) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "404 Not Found\n"


def test_an_expired_link_gets_the_same_404(app, client) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=91)
    issued = _issue(app, clock=lambda: long_ago)
    response = client.get(_path(issued), headers=HTML)
    assert response.status_code == 404
    assert response.get_data(as_text=True) == "404 Not Found\n"


def test_lookups_are_rate_limited_per_client(config) -> None:
    config = dataclasses.replace(config, receipts=ReceiptsConfig(lookups_per_minute=5))
    app = create_app(config)
    client = app.test_client()
    statuses = [
        client.get(
            f"/r/{i:032d}", headers=HTML, environ_base={"REMOTE_ADDR": "10.0.0.1"}
        ).status_code
        for i in range(7)
    ]
    assert statuses == [404] * 5 + [429] * 2
    other = client.get("/r/" + "B" * 32, headers=HTML, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 404
    app.extensions["kiosk.db"].dispose()


def test_the_limit_window_slides() -> None:
    limiter = RateLimiter(2, window=60)
    assert [limiter.allow("a", now=t) for t in (0, 1, 2)] == [True, True, False]
    assert limiter.allow("a", now=60.5) is True  # the hit at 0 has left the window
    assert limiter.allow("a", now=60.6) is False


def _full_invoice_draft():  # type: ignore[no-untyped-def]
    return dataclasses.replace(sample_receipt("DE", "de", energy=Decimal("450.000")), number=0)


def test_a_driver_adds_name_and_address_to_a_full_invoice(app, client, pdf_text) -> None:
    issued = _issue(app, _full_invoice_draft())
    body = client.get(_path(issued), headers=HTML).get_data(as_text=True)
    assert 'action="/r/' + issued.token + '/customer"' in body

    bad = client.post(_path(issued) + "/customer", data={"name": "", "address": "x"}, headers=HTML)
    assert bad.status_code == 400 and "Bitte Name und Anschrift angeben" in bad.get_data(True)

    response = client.post(
        _path(issued) + "/customer",
        data={"name": "Beispiel AG", "address": "Hauptstraße 5\r\n\r\n80331 München\r\n"},
        headers=HTML,
    )
    assert response.status_code == 303
    new_path = response.headers["Location"]
    assert new_path.startswith("/r/") and new_path != _path(issued)
    assert client.get(_path(issued), headers=HTML).status_code == 404  # the link moved

    page = client.get(new_path, headers=HTML).get_data(as_text=True)
    assert "Beispiel AG" in page and "Ersetzt Rechnung" in page and "K1-000001" in page
    assert 'action="' not in page  # no second form
    text = pdf_text(client.get(new_path + "/receipt.pdf").data)
    assert "K1-000003" in text and "Beispiel AG" in text and "80331 München" in text
    assert "Ersetzt Rechnung" in text and "____" not in text
    with app.app_context():
        session = db.session()
        assert receipting.verify_journal(session) == {"K1": []}
        kinds = [receipting.receipt_of(r).kind.value for r in session.scalars(
            sa.select(ReceiptRecord).order_by(ReceiptRecord.number))]  # fmt: skip
        assert kinds == ["receipt", "cancellation", "receipt"]


def test_a_small_amount_receipt_takes_no_customer_details(app, client) -> None:
    issued = _issue(app)
    assert 'action="' not in client.get(_path(issued), headers=HTML).get_data(as_text=True)
    response = client.post(_path(issued) + "/customer", data={"name": "A", "address": "B"})
    assert response.status_code == 404
