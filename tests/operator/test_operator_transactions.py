"""Transactions in the back office: search, the detail page, and the admin actions, each
confirmed, audited and performed by the real engine (scripted terminal and CPO)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from charging.doubles import cdr
from operator_helpers import audit_entries, csrf_token, issue_receipt, issue_receipt_with_token

from kiosk_app import receipting
from kiosk_app.charging.states import State
from kiosk_app.models.charging import ChargingTransaction


def post(client, url: str, **data):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def state_of(app, ref: str) -> str:  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as session:
        return session.query(ChargingTransaction).filter_by(reference=ref).one().state


def test_the_list_filters_by_every_field(app, admin_client, backoffice):
    first = backoffice.charge("EVSE-1", total="3.20")
    second = backoffice.charge("EVSE-3", total="7.00")
    live = backoffice.charging("EVSE-2")

    def refs(query: str) -> set[str]:
        page = admin_client.get("/operator/transactions" + query)
        assert page.status_code == 200, query
        found = re.findall(r"/operator/transactions/([0-9a-f]{32})\"", page.get_data(as_text=True))
        return set(found)

    assert refs("") == {first, second, live}
    assert refs("?evse=EVSE-3") == {second}
    assert refs("?state=CHARGING") == {live}
    assert refs("?amount=7.00") == {second}
    assert refs("?amount=7,00&kiosk=kiosk-1") == {second}
    assert refs("?last4=4321") == {first, second, live}
    assert refs("?last4=0000") == set()
    assert refs("?kiosk=kiosk-2") == set()
    assert refs("?since=2026-11-21&until=2026-11-21") == {first, second, live}
    assert refs("?since=2026-11-22") == set()
    code = backoffice.service.status(first).session_code
    assert refs(f"?code={code.lower()}") == {first}
    assert "past the end" in admin_client.get("/operator/transactions?page=2").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?last4=12", "Give exactly four digits."),
        ("?amount=12.345", "Give an amount like 12.50."),
        ("?since=2026-11-22&until=2026-11-21", "The end date must not be before the start date."),
        ("?since=yesterday", "Not a valid date value."),
        ("?evse=%3Cscript%3E", "Use letters, digits"),
    ],
)
def test_bad_filters_are_named_and_refused(admin_client, query, message):
    page = admin_client.get("/operator/transactions" + query)
    assert page.status_code == 400
    assert message in page.get_data(as_text=True)


def test_the_detail_shows_money_timeline_cross_check_and_receipts(app, viewer_client, backoffice):
    ref = backoffice.charge(total="3.20")
    issue_receipt(app, ref)
    page = viewer_client.get(f"/operator/transactions/{ref}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "RECEIPT_ISSUED" in text
    for shown in ("Held", "Captured", "Released", "3.20 EUR", "match", f"CDR-{ref}"):
        assert shown in text, shown
    # the timeline: terminal prompt, OCPI command and pushes, receipt, in order
    kinds = [
        "TerminalStatus",
        "PreauthApproved",
        "StartSession",
        "CommandResponded",
        "SessionUpdated",
        "CdrReceived",
        "Capture",
        "Captured",
        "ReceiptIssued",
    ]
    timeline = text[text.index('id="timeline-heading"') :]
    positions = [timeline.index(f"</span> {kind}</td>") for kind in kinds]
    assert positions == sorted(positions)
    assert "Karte bitte" in text
    # the stored receipt with its OCMF check
    assert "K1-000001" in text and "valid" in text
    # viewers see no action
    assert "Release the hold" not in text and "Actions" not in text


# A run of 13 to 19 digits standing alone. Runs inside a hex transaction reference do not count:
# one reference in forty holds 14 decimal digits in a row by chance.
PAN_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{13,19}(?![0-9A-Za-z])")


def test_no_page_shows_a_card_hash_a_link_token_or_a_full_pan(app, admin_client, backoffice):
    ref = backoffice.charge()
    record_id, token = issue_receipt_with_token(app, ref)
    tx = backoffice.runner.load(ref)
    assert tx.reservation is not None and tx.reservation.card_hash and tx.receipt_link
    pages = [
        "/operator/transactions",
        f"/operator/transactions/{ref}",
        "/operator/receipts",
        f"/operator/receipts/{record_id}",
        "/operator/receipts/export?export-since=2026-11-01&export-until=2026-12-31&export-format=json",
        "/operator/receipts/export?export-since=2026-11-01&export-until=2026-12-31&export-format=csv",
        "/operator/audit",
    ]
    for url in pages:
        body = admin_client.get(url).get_data(as_text=True)
        assert tx.reservation.card_hash not in body, url
        assert token not in body and tx.receipt_link not in body, url
        assert "############4321" not in body, url
        assert not PAN_LIKE.search(body), url


def test_releasing_a_hold_goes_through_the_engine_and_is_audited(
    app, admin_client, admin, backoffice
):
    ref = backoffice.charging()
    url = f"/operator/transactions/{ref}/release-hold"
    confirm = admin_client.get(url)
    assert confirm.status_code == 200 and "Release the hold?" in confirm.get_data(as_text=True)
    assert state_of(app, ref) == "CHARGING"  # the confirmation page changes nothing

    response = post(admin_client, url)
    assert response.status_code == 302
    backoffice.settle()
    assert state_of(app, ref) == "RELEASED"
    assert [h.status for h in backoffice.terminal.journal.values()] == ["released"]
    (entry,) = audit_entries(app, "transaction.release_hold")
    assert (entry.actor_name, entry.target_type, entry.target_id) == ("alice", "transaction", ref)
    assert entry.details == {"state_before": "CHARGING", "state_after": "RELEASING"}
    timeline = backoffice.service.timeline(ref)
    assert any(e.kind == "OperatorRelease" and e.actor == "alice" for e in timeline)


def test_an_action_needs_the_csrf_token(app, admin_client, backoffice):
    ref = backoffice.charging()
    response = admin_client.post(f"/operator/transactions/{ref}/release-hold")
    assert response.status_code == 400
    assert state_of(app, ref) == "CHARGING"
    assert audit_entries(app, "transaction.release_hold") == []


def test_retry_capture_stop_and_mark_reviewed_are_audited(app, admin_client, backoffice):
    # a capture the terminal refuses, retried by the operator
    failing = backoffice.charging("EVSE-4")
    backoffice.terminal.script = ["decline"]
    backoffice.service.stop(failing)
    backoffice.settle()
    backoffice.service.on_session(failing, "S-EVSE-4", "COMPLETED", Decimal(5), Decimal("2.00"))
    backoffice.service.on_cdr(cdr(failing, "2.00", cdr_id="CDR-F"))
    backoffice.settle()
    assert state_of(app, failing) == "CAPTURE_FAILED"
    post(admin_client, f"/operator/transactions/{failing}/retry-capture")
    backoffice.settle()
    assert state_of(app, failing) == "RECEIPT_ISSUED"

    # a running session stopped by the operator
    live = backoffice.charging("EVSE-5")
    post(admin_client, f"/operator/transactions/{live}/stop-session")
    backoffice.settle()
    assert state_of(app, live) == "STOPPING"
    assert ("STOP_SESSION", "S-EVSE-5") in backoffice.cpo.calls

    # a CDR our tariff disagrees with: flagged, then reviewed with a note
    backoffice.pricing.cdr_price = 999
    flagged = backoffice.charge("EVSE-6", total="3.20")
    assert "cdr_mismatch" in backoffice.runner.load(flagged).review_flags
    page = admin_client.get(f"/operator/transactions/{flagged}").get_data(as_text=True)
    assert "Mark as reviewed" in page and "mismatch" in page
    post(admin_client, f"/operator/transactions/{flagged}/mark-reviewed", note="CPO confirmed")
    tx = backoffice.runner.load(flagged)
    assert tx.review_flags == () and tx.reviewed_by == "alice"

    actions = {e.action: e for e in audit_entries(app) if e.action.startswith("transaction.")}
    assert actions["transaction.retry_capture"].target_id == failing
    assert actions["transaction.stop_session"].target_id == live
    assert actions["transaction.mark_reviewed"].details["note"] == "CPO confirmed"


def test_reissuing_a_receipt_link_shows_it_once_and_kills_the_old_one(
    app, admin_client, backoffice
):
    ref = backoffice.charge()
    record_id = issue_receipt(app, ref)
    response = post(admin_client, f"/operator/transactions/{ref}/reissue-link")
    assert response.status_code == 200
    link = re.search(r"http://127\.0\.0\.1:8000/r/([\w-]{32})", response.get_data(as_text=True))
    assert link
    with app.extensions["kiosk.db"].session() as session:
        found = receipting.find_by_token(session, link.group(1))
        assert found is not None and found.id == record_id
    (entry,) = audit_entries(app, "transaction.reissue_receipt_link")
    assert entry.target_id == ref and link.group(1) not in str(entry.details)
    # the detail page does not show it again
    assert link.group(1) not in admin_client.get(f"/operator/transactions/{ref}").get_data(
        as_text=True
    )


def test_without_a_receipt_there_is_no_link_to_reissue(admin_client, backoffice):
    ref = backoffice.charging()
    assert admin_client.get(f"/operator/transactions/{ref}/reissue-link").status_code == 404


def test_an_unknown_transaction_is_a_404_page(admin_client, backoffice):
    page = admin_client.get("/operator/transactions/nope")
    assert page.status_code == 404
    assert "There is no transaction with the reference" in page.get_data(as_text=True)
    assert admin_client.get("/operator/transactions/nope/release-hold").status_code == 404


def test_an_action_without_the_engine_says_so(app, admin_client, backoffice):
    ref = backoffice.charging()
    del app.extensions["kiosk.charging"]
    response = post(admin_client, f"/operator/transactions/{ref}/release-hold")
    assert response.status_code == 503
    assert state_of(app, ref) == str(State.CHARGING)
