"""Reconciliation and dashboard: the end-of-day asked for in the UI and run by the worker
through the terminal port, a planted difference found with its transactions, the closing
report PDF, and the dashboard's figures and needs-attention list."""

from __future__ import annotations

import dataclasses
import subprocess
from decimal import Decimal

import pytest
import sqlalchemy as sa
from charging.doubles import cdr
from operator_helpers import audit_entries, csrf_token

from kiosk_app.charging.worker import Worker
from kiosk_app.models.reconciliation import TerminalClosing

DAY = "2026-11-21"  # the engine's test clock: 2026-11-21 12:00 UTC


def run_end_of_day(app, client, backoffice, kiosk: str = "kiosk-1"):  # type: ignore[no-untyped-def]
    url = f"/operator/reconciliation/end-of-day/{kiosk}"
    assert "Run the end-of-day of" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    worker = Worker(backoffice.runner, ["kiosk-1", "kiosk-2"], app.config["KIOSK"].charging)
    worker.run_once()  # the worker that holds the terminal's lease performs it
    return response


def closings(app) -> list[TerminalClosing]:  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as session:
        return list(session.scalars(sa.select(TerminalClosing).order_by(TerminalClosing.id)))


def test_an_end_of_day_matching_our_captures_shows_no_difference(app, admin_client, backoffice):
    first = backoffice.charge("EVSE-1", total="3.20")
    second = backoffice.charge("EVSE-3", total="7.00")
    run_end_of_day(app, admin_client, backoffice)
    (closing,) = closings(app)
    assert (closing.status, closing.total_minor, closing.count) == ("done", 1020, 2)
    assert closing.brand_totals == {"Girocard": {"count": 2, "total_minor": 1020}}
    assert closing.requested_by == "alice"
    assert "end_of_day" in backoffice.terminal.calls
    (entry,) = audit_entries(app, "terminal.end_of_day")
    assert (entry.target_type, entry.target_id) == ("kiosk", "kiosk-1")
    assert entry.details == {"closing_id": closing.id}

    page = admin_client.get(f"/operator/reconciliation?day={DAY}").get_data(as_text=True)
    section = page[page.index("Kiosk kiosk-1") : page.index("Kiosk kiosk-2")]
    assert "2, 10.20 EUR" in section  # our captures
    assert section.count("10.20 EUR") >= 3  # ours, the terminal's, the CDRs'
    assert "No differences." in section
    assert first not in section and second not in section


def test_a_planted_terminal_difference_is_listed_with_its_transactions(
    app, admin_client, backoffice, tmp_path
):
    first = backoffice.charge("EVSE-1", total="3.20")
    second = backoffice.charge("EVSE-3", total="7.00")
    backoffice.terminal.eod_extra_minor = 500  # the terminal booked 5.00 more than we did
    run_end_of_day(app, admin_client, backoffice)
    page = admin_client.get(f"/operator/reconciliation?day={DAY}").get_data(as_text=True)
    assert (
        "Our captures differ from the terminal&#39;s end-of-day total (terminal): -5.00 EUR" in page
    )
    assert f"Transaction {first}" in page and f"Transaction {second}" in page

    report = admin_client.get(f"/operator/reconciliation/report.pdf?day={DAY}")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    assert admin_client.get(f"/operator/reconciliation/report.pdf?day={DAY}").data == report.data
    path = tmp_path / "closing.pdf"
    path.write_bytes(report.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert f"Daily closing report {DAY}" in text
    assert "Difference (terminal)" in text and "-5.00 EUR" in text
    assert first in text and second in text


def test_a_capture_differing_from_its_cdr_is_listed(app, admin_client, backoffice):
    # this installation captures its own tariff's price; the CPO's CDR says 0.50 more
    cfg = backoffice.service.config
    charging = dataclasses.replace(cfg.charging, capture_policy="ours")
    backoffice.service.config = dataclasses.replace(cfg, charging=charging)
    backoffice.pricing.cdr_price = 250
    ref = backoffice.charging("EVSE-7")
    backoffice.service.stop(ref)
    backoffice.settle()
    backoffice.service.on_session(ref, "S-EVSE-7", "COMPLETED", Decimal(6), Decimal("3.00"))
    backoffice.service.on_cdr(cdr(ref, "3.00", cdr_id="CDR-7"))
    backoffice.settle()
    assert backoffice.runner.load(ref).captured_minor == 250
    page = admin_client.get(f"/operator/reconciliation?day={DAY}").get_data(as_text=True)
    assert "Captured amount differs from the CDR total (cpo): -0.50 EUR" in page
    assert f"Transaction {ref}" in page
    # and the dashboard lists the flagged mismatch first thing
    board = admin_client.get(f"/operator/?until={DAY}").get_data(as_text=True)
    assert "CDR total differs from our tariff at kiosk-1" in board


def test_a_failed_end_of_day_is_shown(app, admin_client, backoffice):
    backoffice.terminal.script = ["noanswer"]
    run_end_of_day(app, admin_client, backoffice)
    (closing,) = closings(app)
    assert closing.status == "failed" and "T4 expired" in closing.error
    page = admin_client.get(f"/operator/reconciliation?day={DAY}").get_data(as_text=True)
    assert "failed (NoAnswer: T4 expired)" in page


def test_an_unknown_kiosk_has_no_end_of_day(admin_client, backoffice):
    assert admin_client.get("/operator/reconciliation/end-of-day/nope").status_code == 404


@pytest.mark.parametrize("query", ["?day=yesterday", "?day=2026-13-01"])
def test_a_bad_day_is_refused(admin_client, query):
    response = admin_client.get("/operator/reconciliation" + query)
    assert response.status_code == 400
    assert "must be a date like 2026-11-21" in response.get_data(as_text=True)


def test_the_dashboard_charts_and_lists_what_needs_attention(app, admin_client, backoffice):
    backoffice.charge("EVSE-1", total="3.20")
    backoffice.charge("EVSE-3", total="7.00")
    backoffice.terminal.script = ["decline"]
    refused = backoffice.service.select_evse("kiosk-1", "EVSE-8", "en")
    backoffice.service.pay(refused)
    backoffice.settle()
    old_hold = backoffice.charging("EVSE-2")
    backoffice.clock.advance(2 * 24 * 3600)

    page = admin_client.get(f"/operator/?until={DAY}").get_data(as_text=True)
    attention = page[page.index("Needs attention") : page.index('id="figures-heading"')]
    assert f"/operator/transactions/{old_hold}" in attention
    assert "Hold open for over a day (CHARGING) at kiosk-1" in attention
    assert "Terminal of kiosk-1: no worker drives it" in attention
    assert page.count("<svg") == 5
    assert "Revenue per day (EUR)" in page and "<title>21.11: 10.2 EUR</title>" in page
    # per kiosk: 10.20 EUR, 3 sessions, 1 decline out of 4 answered payments
    row = page[page.index('<th scope="row">kiosk-1</th>') :].split("</tr>")[0]
    assert "10.20 EUR" in row and "<td>3</td>" in row and "25.0 % of 4" in row
