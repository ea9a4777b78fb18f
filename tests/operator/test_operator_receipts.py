"""Receipts in the back office: search, PDF, cancellation, and the accounting export, which
is the very text `kiosk receipts export` writes."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import subprocess
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from operator_helpers import audit_entries, csrf_token, issue_receipt

from kiosk_app import receipt_export, receipting
from kiosk_app.models.receipts import ReceiptRecord
from receipts.model import ChargePoint, Kind
from receipts.sample import sample_receipt


def local_today(app) -> date:  # type: ignore[no-untyped-def]
    """Today in the operator's time zone: receipts are issued now, days are local."""
    return datetime.now(ZoneInfo(app.config["KIOSK"].operator.timezone)).date()


@pytest.fixture
def stored(app, backoffice) -> dict[str, int]:  # type: ignore[no-untyped-def]
    first = backoffice.charge("EVSE-1")
    second = backoffice.charge("EVSE-3")
    other_evse = ChargePoint("DE*ABC*E0007", ("Hauptstr. 1",))
    return {
        "first": issue_receipt(app, first),
        "second": issue_receipt(app, second, charge_point=other_evse),
    }


def numbers(client, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    page = client.get("/operator/receipts" + query)
    assert page.status_code == 200, query
    return re.findall(r'receipts/\d+">(K1-\d{6})</a>', page.get_data(as_text=True))


def test_receipts_are_found_by_number_date_evse_amount_and_card(app, viewer_client, stored):
    assert numbers(viewer_client, "") == ["K1-000002", "K1-000001"]
    assert numbers(viewer_client, "?number=K1-000001") == ["K1-000001"]
    assert numbers(viewer_client, "?number=2") == ["K1-000002"]
    assert numbers(viewer_client, "?number=K9-1") == []
    assert numbers(viewer_client, "?evse=DE*ABC*E0007") == ["K1-000002"]
    assert numbers(viewer_client, "?last4=0119") == ["K1-000002", "K1-000001"]
    assert numbers(viewer_client, "?last4=9999") == []
    assert numbers(viewer_client, "?amount=18.84") == ["K1-000002", "K1-000001"]
    assert numbers(viewer_client, "?amount=1.00") == []
    today = local_today(app).isoformat()
    assert len(numbers(viewer_client, f"?since={today}&until={today}")) == 2


def test_the_pdf_is_the_stored_receipt(viewer_client, app, stored, tmp_path):
    response = viewer_client.get(f"/operator/receipts/{stored['first']}/receipt.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    path = tmp_path / "r.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "K1-000001" in text
    assert audit_entries(app, "receipt.view_pdf")[0].target_id == str(stored["first"])


def test_an_admin_issues_a_cancellation_once(app, admin_client, stored):
    url = f"/operator/receipts/{stored['first']}/cancel"
    assert "cannot be\nundone" in admin_client.get(url).get_data(as_text=True)
    response = admin_client.post(url, data={"csrf_token": csrf_token(admin_client, url)})
    assert response.status_code == 302
    page = admin_client.get(response.location).get_data(as_text=True)
    assert "Cancellation receipt issued for K1-000001." in page
    assert "cancellation" in page and "receipt K1-000001" in page
    (entry,) = audit_entries(app, "receipt.cancel")
    assert entry.target_id == str(stored["first"]) and entry.details["cancellation"] == "K1-000003"
    again = admin_client.post(url, data={"csrf_token": csrf_token(admin_client, "/operator/")})
    assert again.status_code == 409
    assert len(audit_entries(app, "receipt.cancel")) == 1


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_export_is_the_cli_export(app, admin_client, stored, fmt):
    today = local_today(app)
    query = f"?export-since={today}&export-until={today}&export-format={fmt}"
    response = admin_client.get("/operator/receipts/export" + query)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(f".{fmt}")
    with app.extensions["kiosk.db"].session() as session:
        expected = receipt_export.export(
            session, today, today, app.config["KIOSK"].operator.timezone, fmt
        )
    assert response.get_data(as_text=True) == expected
    rows = list(csv.DictReader(io.StringIO(expected))) if fmt == "csv" else json.loads(expected)
    assert [r["receipt_number"] for r in rows] == ["K1-000001", "K1-000002"]
    (entry,) = audit_entries(app, "receipt.export")
    assert entry.details["format"] == fmt


def test_a_bad_export_range_is_refused_with_the_field_named(admin_client):
    response = admin_client.get(
        "/operator/receipts/export?export-since=2026-11-02&export-until=2026-11-01"
    )
    assert response.status_code == 400
    assert "The end date must not be before the start date." in response.get_data(as_text=True)


def test_a_voucher_cannot_be_cancelled(app, admin_client, backoffice):
    ref = backoffice.charging()
    draft = sample_receipt("DE", "en")
    voucher = dataclasses.replace(
        draft, kind=Kind.NOTHING_CHARGED, transaction_reference=ref, lines=(), vat=(), metering=None
    )
    with app.extensions["kiosk.db"].session() as session:
        record_id = receipting.issue(session, voucher, app.config["KIOSK"]).record.id
        session.commit()
    detail = admin_client.get(f"/operator/receipts/{record_id}").get_data(as_text=True)
    assert "Issue a cancellation receipt" not in detail
    url = f"/operator/receipts/{record_id}/cancel"
    response = admin_client.post(url, data={"csrf_token": csrf_token(admin_client, "/operator/")})
    assert response.status_code == 409
    assert "it is a voucher" in response.get_data(as_text=True)
    assert audit_entries(app, "receipt.cancel") == []
    with app.extensions["kiosk.db"].session() as session, pytest.raises(receipting.ReceiptRefused):
        receipting.cancel(session, session.get(ReceiptRecord, record_id), app.config["KIOSK"])
