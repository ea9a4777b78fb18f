"""The back office's money pages in Chromium, on transactions the real engine made: filter,
open a timeline, release a hold, export CSV, a planted reconciliation difference, and
axe-core on every page (no serious or critical violation)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from operator_helpers import PASSWORD, issue_receipt
from playwright.sync_api import Page, expect

from kiosk_app.charging.ports import RemoteCdr
from kiosk_app.charging.worker import Worker
from kiosk_app.operator import access

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def seeded(app, backoffice) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as session:
        cli = access.Actor.command_line()
        access.create_user(session, "alice", PASSWORD, "admin", cli)
        session.commit()
    settled = backoffice.charge("EVSE-1", total="3.20")
    other = backoffice.charge("EVSE-3", total="7.00")
    live = backoffice.charging("EVSE-2")
    return {
        "settled": settled,
        "other": other,
        "live": live,
        "receipt_id": issue_receipt(app, settled),
    }


def log_in(page: Page) -> None:
    page.goto("/operator/login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()


def test_filter_open_the_timeline_and_release_a_hold(
    page: Page, seeded, backoffice, console_errors
):
    log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Transactions").click()
    page.get_by_label("State").select_option("CHARGING")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"state=CHARGING"))
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    rows.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(str(seeded["live"]))
    timeline = page.get_by_role("table", name="Everything that happened, oldest first")
    expect(timeline).to_contain_text("PreauthApproved")
    expect(timeline).to_contain_text("Karte bitte")
    expect(timeline).to_contain_text("SessionUpdated")

    page.get_by_role("link", name="Release the hold").click()
    expect(page.get_by_role("heading", level=1, name="Release the hold?")).to_be_visible()
    page.get_by_role("button", name="Release the hold").click()
    expect(page.get_by_role("status")).to_contain_text("State CHARGING → RELEASING")
    backoffice.settle()
    page.reload()
    expect(page.get_by_text("state RELEASED")).to_be_visible()
    assert console_errors == []


def test_export_receipts_as_csv(page: Page, seeded, tmp_path):
    log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Receipts").click()
    export = page.get_by_role("form", name="Export for accounting")
    export.get_by_label("From (local date)").fill("2026-01-01")
    export.get_by_label("To (local date)").fill("2027-12-31")
    export.get_by_label("Format").select_option("csv")
    with page.expect_download() as info:
        export.get_by_role("button", name="Export").click()
    target = tmp_path / "export.csv"
    info.value.save_as(target)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("series,number,receipt_number,kind,")
    assert ",K1-000001,receipt," in text


def test_reconciliation_shows_a_planted_difference(page: Page, app, seeded, backoffice):
    backoffice.terminal.eod_extra_minor = 500
    log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reconciliation").click()
    page.get_by_role("link", name="Run the end-of-day of kiosk-1").click()
    page.get_by_role("button", name="Run the end-of-day").click()
    expect(page.get_by_role("status")).to_contain_text("End-of-day requested for kiosk-1")
    Worker(backoffice.runner, ["kiosk-1", "kiosk-2"], app.config["KIOSK"].charging).run_once()
    page.reload()
    kiosk = page.get_by_role("region", name="Kiosk kiosk-1")
    expect(kiosk.locator("dd").nth(1)).to_have_text("15.20 EUR")
    expect(kiosk.locator(".difference")).to_have_text(
        "Our captures differ from the terminal's end-of-day total (terminal): -5.00 EUR"
    )
    expect(kiosk.get_by_role("link", name=f"Transaction {seeded['settled']}")).to_be_visible()
    expect(kiosk.get_by_role("link", name=f"Transaction {seeded['other']}")).to_be_visible()


def test_every_back_office_page_passes_axe(page: Page, app, seeded, check_accessibility):
    log_in(page)
    real = {"ref": seeded["live"], "receipt_id": seeded["receipt_id"], "kiosk_id": "kiosk-1"}
    not_html = {
        "operator.receipt_pdf",
        "operator.receipts_export",
        "operator.reconciliation_report",
    }
    visited = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/operator/") or "GET" not in rule.methods:
            continue
        if rule.endpoint in not_html | {"operator.static", "operator.login"}:
            continue
        if not set(rule.arguments) <= set(real):
            continue  # the account pages: tests/browser/test_operator_browser.py
        url = rule.build({k: real[k] for k in rule.arguments}, append_unknown=False)[1]
        if rule.endpoint == "operator.transaction_reissue_link":
            url = url.replace(str(seeded["live"]), str(seeded["settled"]))
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        check_accessibility(page)
        visited.append(rule.endpoint)
    assert len(visited) >= 14
    # a settled transaction with its receipt, filters refused, a reissued link, the dashboard
    page.goto(f"/operator/transactions/{seeded['settled']}")
    check_accessibility(page)
    assert page.goto("/operator/transactions?last4=12").status == 400
    check_accessibility(page)
    page.goto(f"/operator/transactions/{seeded['settled']}/reissue-link")
    page.get_by_role("button", name="Reissue the link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("New link for receipt")
    check_accessibility(page)
    page.goto("/operator/?until=2026-11-21")
    expect(page.locator("svg.chart")).to_have_count(5)
    check_accessibility(page)


def test_record_a_refund_from_the_refunds_due_list(
    page: Page, app, seeded, backoffice, check_accessibility
):
    ref = str(seeded["settled"])
    credit = RemoteCdr(ref, f"CR-{ref}", Decimal("-1.20"), Decimal(0), True, f"CDR-{ref}")
    backoffice.service.on_cdr(credit)
    log_in(page)
    page.get_by_role("link", name="Refunds").click()
    expect(page.get_by_role("heading", level=1, name="Refunds due")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name=re.compile(ref[:8])).click()
    expect(page.get_by_role("heading", name="Credits and refunds")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Record a refund").click()
    page.get_by_label("Amount refunded").fill("1.50")
    page.get_by_label("Acquirer's refund reference").fill("RF-42")
    page.get_by_role("button", name="Record the refund").click()
    expect(page.locator("#confirmed-error")).to_contain_text("Confirm")
    check_accessibility(page)
    page.get_by_label("I refunded this amount to the card at the acquirer.").check()
    page.get_by_role("button", name="Record the refund").click()
    expect(page.locator("#amount-error")).to_contain_text("at most the 1.20 EUR due")
    check_accessibility(page)
    page.get_by_label("Amount refunded").fill("1.20")
    page.get_by_role("button", name="Record the refund").click()
    expect(page.get_by_text("Refund of 1.20 EUR recorded")).to_be_visible()
    backoffice.settle()
    tx = backoffice.runner.load(ref)
    assert (tx.refunded_minor, tx.refund_due_minor) == (120, 0)
    assert tx.refund_payments[0].acquirer_reference == "RF-42"
