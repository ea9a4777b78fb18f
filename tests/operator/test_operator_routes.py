"""Every route of the back office, enumerated from the app's URL map: anonymous users are
sent to the login page, viewers get no admin page and no admin action. A new route is
covered the moment it exists; it must be added to VIEWER_ALLOWED to be open to viewers."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from operator_helpers import SQLITE_ONLY, csrf_token, issue_receipt
from werkzeug.routing import IntegerConverter, Rule

PREFIX = "/operator/"
# Open to anonymous users: the login page and the stylesheet it needs.
PUBLIC = {"operator.login", "operator.static"}
# What a viewer may use, by endpoint and method. Everything else is for admins.
VIEWER_ALLOWED = {
    ("operator.dashboard", "GET"),
    ("operator.audit", "GET"),
    ("operator.logout", "POST"),
    ("operator.transactions", "GET"),
    ("operator.transaction", "GET"),
    ("operator.receipts", "GET"),
    ("operator.refunds", "GET"),
    ("operator.receipt", "GET"),
    ("operator.receipt_pdf", "GET"),
    ("operator.receipts_export", "GET"),
    ("operator.reconciliation", "GET"),
    ("operator.reconciliation_report", "GET"),
}
# Query strings a page needs to answer 200 (an export needs its date range).
QUERIES = {
    "operator.receipts_export": "?export-since=2026-11-01&export-until=2026-11-30&export-format=csv"
}
# Admin-only endpoints we know of; the enumeration must find at least these.
KNOWN_ADMIN = {
    "operator.users",
    "operator.user_new",
    "operator.user_password",
    "operator.user_disable",
    "operator.user_enable",
    "operator.transaction_retry_capture",
    "operator.transaction_release_hold",
    "operator.transaction_stop_session",
    "operator.transaction_mark_reviewed",
    "operator.transaction_reissue_link",
    "operator.transaction_record_refund",
    "operator.receipt_cancel",
    "operator.end_of_day",
}


def operator_routes(app, real: dict | None = None) -> list[tuple[Rule, str, str]]:  # type: ignore[no-untyped-def]
    """(rule, method, url) for every method of every rule under /operator/; `real` gives
    values of existing records by argument name (else 1 or "x")."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        values = {
            name: (real or {}).get(name, 1 if isinstance(conv, IntegerConverter) else "x")
            for name, conv in rule._converters.items()
        }
        url = rule.build(values, append_unknown=False)[1] + QUERIES.get(rule.endpoint, "")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule, method, url))
    return routes


@pytest.fixture
def records(app, backoffice, admin) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Real records for every kind of route argument: a settled transaction with a receipt."""
    ref = backoffice.charge()
    receipt_id = issue_receipt(app, ref)
    return {"ref": ref, "receipt_id": receipt_id, "user_id": admin.id, "kiosk_id": "kiosk-1"}


def test_the_enumeration_finds_the_back_office(app):
    endpoints = {rule.endpoint for rule, _, _ in operator_routes(app)}
    assert KNOWN_ADMIN | PUBLIC | {e for e, _ in VIEWER_ALLOWED} <= endpoints
    # Every operator endpoint is in the blueprint, so its guards apply.
    assert all(e.startswith("operator.") for e in endpoints)


def test_anonymous_users_are_sent_to_the_login_page(app):
    client = app.test_client()
    checked = 0
    for rule, method, url in operator_routes(app):
        if rule.endpoint in PUBLIC:
            continue
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url, response.status_code)
        assert urlsplit(response.location).path == "/operator/login", (method, url)
        checked += 1
    assert checked >= len(KNOWN_ADMIN) + len(VIEWER_ALLOWED)


def test_viewers_get_no_admin_page_and_no_admin_action(app, viewer_client, records):
    # A valid CSRF token, so that a refusal comes from the role check and not from CSRF.
    token = csrf_token(viewer_client, "/operator/")
    checked = 0
    # Real targets (an account, a transaction, a receipt): a 404 cannot hide a missing check.
    for rule, method, url in operator_routes(app, records):
        if rule.endpoint in PUBLIC or (rule.endpoint, method) in VIEWER_ALLOWED:
            continue
        data = {"csrf_token": token} if method != "GET" else None
        response = viewer_client.open(url, method=method, data=data)
        assert response.status_code == 403, (method, url, response.status_code)
        checked += 1
    assert checked >= len(KNOWN_ADMIN)


@SQLITE_ONLY
@pytest.mark.parametrize("allowed", sorted(VIEWER_ALLOWED))
def test_viewers_may_use_what_they_are_allowed(app, viewer_client, records, allowed):
    endpoint, method = allowed
    routes = operator_routes(app, records)
    (url,) = [u for r, m, u in routes if r.endpoint == endpoint and m == method]
    data = {"csrf_token": csrf_token(viewer_client, "/operator/")} if method == "POST" else None
    response = viewer_client.open(url, method=method, data=data)
    assert response.status_code in (200, 302), (method, url, response.status_code)


def test_admins_reach_every_page(app, admin_client, records):
    for rule, method, url in operator_routes(app, records):
        if method != "GET" or rule.endpoint == "operator.static":
            continue
        response = admin_client.get(url)
        # The login page sends a logged-in operator to the dashboard.
        expected = 302 if rule.endpoint == "operator.login" else 200
        assert response.status_code == expected, (url, response.status_code)
