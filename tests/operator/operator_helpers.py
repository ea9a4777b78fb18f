"""Helpers of the back-office tests (imported by tests/operator and tests/browser)."""

from __future__ import annotations

import dataclasses
import re

import pytest
import sqlalchemy as sa

from kiosk_app import receipting
from kiosk_app.models.operator import OperatorAudit, OperatorUser
from kiosk_app.operator import access
from receipts.sample import sample_receipt

PASSWORD = "correct horse battery"
MAX_FAILED = 3  # failed logins before the lockout, in the fixtures' configuration
# For input-validation tests whose outcome does not depend on the database: one backend is enough.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

_TOKEN = re.compile(
    r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"|<input[^>]*\bvalue="([^"]+)"[^>]*\bname="csrf_token"'
)


def csrf_token(client, path: str = "/operator/login") -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of the client's session, read from a form on `path`."""
    page = client.get(path)
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (status {page.status_code})"
    return match.group(1) or match.group(2)


def login(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_token(client)
    return client.post(
        "/operator/login",
        data={"csrf_token": token, "username": username, "password": password},
    )


def audit_entries(app, action: str | None = None) -> list[OperatorAudit]:  # type: ignore[no-untyped-def]
    """Audit rows, oldest first, optionally of one action."""
    query = sa.select(OperatorAudit).order_by(OperatorAudit.id)
    if action:
        query = query.where(OperatorAudit.action == action)
    with app.extensions["kiosk.db"].session() as session:
        return list(session.scalars(query))


def get_user(app, username: str) -> OperatorUser:  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as session:
        user = access.find_user(session, username)
        assert user is not None
        return user


def issue_receipt(app, reference: str, **changes) -> int:  # type: ignore[no-untyped-def]
    """Issue a real receipt (the sample, with signed meter data) for `reference` through the
    receipting service, as the engine's receipt adapter does; its record id."""
    return issue_receipt_with_token(app, reference, **changes)[0]


def issue_receipt_with_token(app, reference: str, **changes) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """As `issue_receipt`, with the link token the driver got."""
    draft = dataclasses.replace(sample_receipt("DE", "en"), transaction_reference=reference)
    draft = dataclasses.replace(draft, **changes)
    with app.extensions["kiosk.db"].session() as session:
        issued = receipting.issue(session, draft, app.config["KIOSK"])
        session.commit()
        return issued.record.id, issued.token
