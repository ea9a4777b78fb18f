"""The back office in Chromium: a whole admin errand, and axe-core on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from werkzeug.routing import IntegerConverter

from kiosk_app.models.operator import OperatorUser
from kiosk_app.operator import access

# The browser tests run on SQLite only; the access rules are tested on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PASSWORD = "correct horse battery"
# Downloads (PDF, CSV), not pages.
NOT_HTML = {"operator.receipt_pdf", "operator.receipts_export", "operator.reconciliation_report"}


@pytest.fixture
def accounts(app) -> dict[str, OperatorUser]:  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as session:
        cli = access.Actor.command_line()
        made = {
            role: access.create_user(session, name, PASSWORD, role, cli)
            for name, role in (("alice", "admin"), ("victor", "viewer"))
        }
        session.commit()
    return made


def log_in(page: Page, username: str) -> None:
    page.goto("/operator/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()


def test_an_admin_logs_in_creates_a_user_and_finds_it_in_the_audit_log(
    page: Page, accounts, console_errors
):
    log_in(page, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="New user").click()
    page.get_by_label("Username").fill("nina")
    page.get_by_label("Role").select_option("admin")
    page.get_by_label("New password", exact=True).fill("a long enough secret")
    page.get_by_label("Repeat the new password").fill("a long enough secret")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_have_text("User nina (admin) created.")
    expect(page.get_by_role("rowheader", name="nina")).to_be_visible()

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").select_option("user.create")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"action=user\.create"))
    row = page.get_by_role("row").filter(has_text="username: nina")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("alice")
    expect(row).to_contain_text("User created")
    assert console_errors == []


def test_keyboard_users_see_where_the_focus_is(page: Page, accounts):
    page.goto("/operator/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")


def test_every_operator_page_passes_axe(
    page: Page, app, accounts, check_accessibility, console_errors
):
    viewer = accounts["viewer"]
    # Logged out: the login page, plain and after a failed attempt.
    page.goto("/operator/login")
    check_accessibility(page)
    page.get_by_label("Username").fill("alice")
    page.get_by_role("button", name="Log in").click()  # no password: the form says so
    expect(page.get_by_text("This field is required.")).to_be_visible()
    check_accessibility(page)

    log_in(page, "alice")
    visited = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/operator/") or "GET" not in rule.methods:
            continue
        if rule.endpoint in ("operator.static", "operator.login"):
            continue
        if set(rule.arguments) - {"user_id"} or rule.endpoint in NOT_HTML:
            continue  # pages of transactions, receipts, kiosks, and the downloads:
            # tests/operator/test_operator_browser_backoffice.py, on real records
        values = {
            name: viewer.id
            for name, conv in rule._converters.items()
            if isinstance(conv, IntegerConverter)
        }
        url = rule.build(values, append_unknown=False)[1]
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        check_accessibility(page)
        visited.append(rule.endpoint)
    assert len(visited) >= 7

    # Pages in their error states: a refused form, a missing record, bad filters.
    page.goto("/operator/users/new")
    page.get_by_label("Username").fill("bad name")
    page.get_by_role("button", name="Create user").click()
    expect(
        page.get_by_text("The passwords differ.").or_(page.get_by_text("required")).first
    ).to_be_visible()
    check_accessibility(page)
    assert page.goto("/operator/users/9999/disable").status == 404
    check_accessibility(page)
    assert page.goto("/operator/audit?since=yesterday").status == 400
    check_accessibility(page)

    # A viewer's view, including the refusal of an admin page.
    page.get_by_role("button", name="Log out").click()
    log_in(page, "victor")
    check_accessibility(page)
    assert page.goto("/operator/users").status == 403
    check_accessibility(page)
    # The error pages visited on purpose log their status; nothing else may complain.
    assert [e for e in console_errors if not e.startswith("Failed to load resource")] == []
