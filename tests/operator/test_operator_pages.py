"""The users page (admin actions, each confirmed and audited) and the audit log page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from operator_helpers import PASSWORD, SQLITE_ONLY, audit_entries, csrf_token, get_user, login

from kiosk_app.models.operator import OperatorAudit
from kiosk_app.operator import access


def post_form(client, path: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, path), **fields})


def new_user(client, username: str, password: str = PASSWORD, role: str = "viewer", **extra):  # type: ignore[no-untyped-def]
    fields = {"username": username, "role": role, "password": password}
    fields["password_repeat"] = extra.get("repeat", password)
    return post_form(client, "/operator/users/new", **fields)


def test_the_dashboard_shows_no_invented_figures(admin_client):
    body = admin_client.get("/operator/").get_data(as_text=True)
    assert "No charging transactions in these days yet" in body
    assert "<svg" not in body and "EUR" not in body and "kWh" not in body
    # with no worker running, the terminals are the honest first item
    assert "Terminal of kiosk-1: no worker drives it" in body


def test_an_admin_creates_a_user_who_can_then_log_in(app, admin_client, admin):
    response = new_user(admin_client, "Nina", role="admin")
    assert response.status_code == 302
    listing = admin_client.get("/operator/users").get_data(as_text=True)
    assert "User nina (admin) created." in listing and '<th scope="row">nina</th>' in listing
    (entry,) = audit_entries(app, "user.create")
    nina = get_user(app, "nina")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        admin.id,
        "operator_user",
        str(nina.id),
    )
    assert entry.details == {"username": "nina", "role": "admin"}
    assert login(app.test_client(), "nina").status_code == 302


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("username", "password", "extra", "message"),
    [
        ("alice", PASSWORD, {}, "already taken"),
        ("bad name", PASSWORD, {}, "1 to 64 characters"),
        ("nina", "short", {}, "at least 12 characters"),
        ("nina", PASSWORD, {"repeat": PASSWORD + "!"}, "The passwords differ."),
        ("", PASSWORD, {}, "This field is required."),
    ],
)
def test_user_creation_refuses_bad_input_next_to_the_field(
    app, admin_client, username, password, extra, message
):
    response = new_user(admin_client, username, password, **extra)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and message in body
    assert 'aria-invalid="true"' in body
    assert audit_entries(app, "user.create") == []


def test_disabling_asks_first_then_disables_and_audits(app, admin_client, admin, viewer):
    path = f"/operator/users/{viewer.id}/disable"
    page = admin_client.get(path)
    assert page.status_code == 200 and "Disable the account victor?" in page.get_data(as_text=True)
    assert get_user(app, "victor").active  # asking changes nothing
    response = post_form(admin_client, path)
    assert response.status_code == 302
    assert not get_user(app, "victor").active
    (entry,) = audit_entries(app, "user.disable")
    assert (entry.actor_id, entry.target_id) == (admin.id, str(viewer.id))
    assert "disabled" in admin_client.get("/operator/users").get_data(as_text=True)
    assert post_form(admin_client, f"/operator/users/{viewer.id}/enable").status_code == 302
    assert get_user(app, "victor").active
    assert len(audit_entries(app, "user.enable")) == 1


def test_an_admin_cannot_disable_themself(app, admin_client, admin):
    response = post_form(admin_client, f"/operator/users/{admin.id}/disable")
    assert response.status_code == 302
    assert "You cannot disable your own account." in admin_client.get("/operator/users").get_data(
        as_text=True
    )
    assert get_user(app, "alice").active and audit_entries(app, "user.disable") == []


def test_a_password_reset_is_confirmed_by_repetition_and_audited(app, admin_client, viewer):
    path = f"/operator/users/{viewer.id}/password"
    new = "a fresh long secret"
    refused = post_form(admin_client, path, password=new, password_repeat=new + "x")
    assert refused.status_code == 400 and "The passwords differ." in refused.get_data(as_text=True)
    assert post_form(admin_client, path, password=new, password_repeat=new).status_code == 302
    (entry,) = audit_entries(app, "user.password_reset")
    assert entry.target_id == str(viewer.id) and entry.details == {"username": "victor"}
    assert login(app.test_client(), "victor").status_code == 200  # the old password is gone
    assert login(app.test_client(), "victor", new).status_code == 302


def test_an_unknown_user_id_is_a_404_page(admin_client):
    response = admin_client.get("/operator/users/9999/disable")
    assert response.status_code == 404
    assert "no operator user with id 9999" in response.get_data(as_text=True)


def test_a_viewer_is_told_politely_that_the_page_is_for_admins(viewer_client):
    response = viewer_client.get("/operator/users")
    assert response.status_code == 403
    assert "Your account may not do this." in response.get_data(as_text=True)
    assert 'href="/operator/users"' not in viewer_client.get("/operator/").get_data(as_text=True)


@pytest.fixture
def planted_audit(app, admin):  # type: ignore[no-untyped-def]
    """60 audit rows: 55 logins of alice over 55 days, then 5 actions on other targets."""
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    with app.extensions["kiosk.db"].session() as session:
        for day in range(55):
            session.add(
                OperatorAudit(
                    at=start + timedelta(days=day),
                    actor_id=admin.id,
                    actor_name="alice",
                    action="login.success",
                    target_type="operator_user",
                    target_id=str(admin.id),
                    details={},
                )
            )
        for n in range(5):
            access.audit(
                session,
                access.Actor(None, "cli:root"),
                "user.create",
                "operator_user",
                f"T-{n}",
                username=f"<b>user{n}</b>",
            )
        session.commit()


def audit_page(client, **query):  # type: ignore[no-untyped-def]
    response = client.get("/operator/audit", query_string=query)
    return response.status_code, response.get_data(as_text=True)


def test_the_audit_log_pages_newest_first(admin_client, planted_audit):
    status, body = audit_page(admin_client)
    # 60 planted plus the admin's own login.
    assert status == 200 and "Entries 1 to 50 of 61, newest first" in body
    assert body.index("T-4") < body.index("T-3")
    assert "Next page" in body and "Previous page" not in body
    status, body = audit_page(admin_client, page=2)
    assert "Entries 51 to 61 of 61" in body and "Previous page" in body and "Next page" not in body
    status, body = audit_page(admin_client, page=9)
    assert status == 200 and "Page 9 is past the end: 61 entries fill 2 pages" in body
    status, body = audit_page(admin_client, actor="nobody")
    assert status == 200 and "No entries match these filters" in body


def test_the_audit_log_filters(admin_client, planted_audit):
    _, body = audit_page(admin_client, action="user.create")
    assert "of 5," in body
    _, body = audit_page(admin_client, actor="CLI:root", target_id="T-2")
    assert "Entries 1 to 1 of 1" in body and "T-2" in body
    _, body = audit_page(admin_client, since="2026-01-10", until="2026-01-19", actor="alice")
    assert "Entries 1 to 10 of 10" in body
    # The filters survive paging.
    _, body = audit_page(admin_client, action="login.success")
    assert "of 56," in body and "action=login.success" in body and "page=2" in body


def test_paging_links_carry_only_the_filters(admin_client, planted_audit):
    _, body = audit_page(admin_client, _scheme="javascript", _external="1", action="login.success")
    assert "javascript" not in body and "_external" not in body
    assert 'href="/operator/audit?page=2&amp;action=login.success"' in body


def test_audit_details_are_escaped(admin_client, planted_audit):
    _, body = audit_page(admin_client, action="user.create")
    assert "&lt;b&gt;user0&lt;/b&gt;" in body and "<b>user0</b>" not in body


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "2026-13-01"}, "Not a valid date value."),
        ({"action": "user.delete"}, "Not a valid choice."),
        ({"page": "0"}, "The page number must be 1 or more."),
    ],
)
def test_bad_audit_filters_are_explained_not_crashed(admin_client, query, message):
    status, body = audit_page(admin_client, **query)
    assert status == 400 and message in body


def test_every_admin_action_leaves_an_audit_entry(app, admin_client, viewer):
    """One of each: create, disable, enable, reset, logout; each with actor and request id."""
    new_user(admin_client, "oscar")
    post_form(admin_client, f"/operator/users/{viewer.id}/disable")
    post_form(admin_client, f"/operator/users/{viewer.id}/enable")
    secret = "yet another secret"
    post_form(
        admin_client,
        f"/operator/users/{viewer.id}/password",
        password=secret,
        password_repeat=secret,
    )
    post_form(admin_client, "/operator/")  # not a form: 405, no entry
    admin_client.post(
        "/operator/logout", data={"csrf_token": csrf_token(admin_client, "/operator/")}
    )
    entries = [e for e in audit_entries(app) if e.action != "login.success"]
    assert [e.action for e in entries] == [
        "user.create",
        "user.disable",
        "user.enable",
        "user.password_reset",
        "logout",
    ]
    assert all(e.actor_name == "alice" and e.request_id and e.remote_addr for e in entries)
    with app.extensions["kiosk.db"].session() as session:
        ids = session.scalars(sa.select(OperatorAudit.request_id)).all()
    assert len(set(ids)) == len(ids)  # one request, one entry here
