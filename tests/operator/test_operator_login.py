"""Login, logout, lockout, idle expiry, CSRF and security headers through HTTP."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from operator_helpers import (
    MAX_FAILED,
    PASSWORD,
    SQLITE_ONLY,
    audit_entries,
    csrf_token,
    get_user,
    login,
)

from kiosk_app.operator.security import LAST_SEEN


def test_login_sends_to_the_dashboard_and_audits_who_and_from_where(app, admin):
    client = app.test_client()
    response = client.post(
        "/operator/login",
        data={"csrf_token": csrf_token(client), "username": "ALICE", "password": PASSWORD},
        headers={"X-Request-ID": "login-req-42"},
    )
    assert response.status_code == 302 and urlsplit(response.location).path == "/operator/"
    page = client.get("/operator/")
    assert page.status_code == 200 and "alice (admin)" in page.get_data(as_text=True)
    (entry,) = audit_entries(app, "login.success")
    assert (entry.actor_id, entry.actor_name) == (admin.id, "alice")
    assert (entry.request_id, entry.remote_addr) == ("login-req-42", "127.0.0.1")
    assert get_user(app, "alice").last_login_at is not None


def test_a_failed_login_says_so_without_saying_why(app, admin):
    client = app.test_client()
    for username in ("alice", "mallory"):
        response = login(client, username, "not the password")
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Login failed. Check the username and the password." in body
        assert "not the password" not in body
    assert [e.actor_name for e in audit_entries(app, "login.failure")] == ["alice", "mallory"]
    assert client.get("/operator/").status_code == 302  # still not logged in


def test_login_locks_the_account_after_repeated_failures(app, admin):
    client = app.test_client()
    for _ in range(MAX_FAILED):
        assert login(client, "alice", "not the password").status_code == 200
    response = login(client, "alice")  # the right password, too late
    assert response.status_code == 200
    assert f"After {MAX_FAILED} failed attempts" in response.get_data(as_text=True)
    assert get_user(app, "alice").failed_logins == MAX_FAILED
    assert len(audit_entries(app, "user.locked")) == 1
    assert len(audit_entries(app, "login.refused_locked")) == 1
    assert client.get("/operator/").status_code == 302


def test_a_disabled_account_cannot_log_in(app, make_user):
    make_user("olga", active=False)
    response = login(app.test_client(), "olga")
    assert response.status_code == 200 and "Login failed" in response.get_data(as_text=True)
    assert len(audit_entries(app, "login.refused_disabled")) == 1


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/operator/audit?action=logout", "/operator/audit"),
        ("https://evil.example/operator/", "/operator/"),
        ("//evil.example/operator/", "/operator/"),
        ("/healthz", "/operator/"),
        ("/operator/\\\\evil.example", "/operator/"),
    ],
)
def test_after_login_only_back_office_pages_are_followed(app, admin, target, lands_on):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/operator/login",
        query_string={"next": target},
        data={"csrf_token": token, "username": "alice", "password": PASSWORD},
    )
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert not location.netloc and location.path == lands_on


def test_a_login_returns_to_the_page_first_asked_for(app, admin):
    client = app.test_client()
    login_page = client.get("/operator/audit?action=logout").location
    response = client.post(
        login_page,
        data={
            "csrf_token": csrf_token(client, login_page),
            "username": "alice",
            "password": PASSWORD,
        },
    )
    assert response.location == "/operator/audit?action=logout"


def test_logout_needs_a_post_with_a_token_and_is_audited(app, admin_client, admin):
    assert admin_client.get("/operator/logout").status_code == 405
    assert admin_client.post("/operator/logout").status_code == 400  # no CSRF token
    assert admin_client.get("/operator/").status_code == 200
    token = csrf_token(admin_client, "/operator/")
    response = admin_client.post("/operator/logout", data={"csrf_token": token})
    assert urlsplit(response.location).path == "/operator/login"
    assert admin_client.get("/operator/").status_code == 302
    (entry,) = audit_entries(app, "logout")
    assert entry.actor_id == admin.id


def test_an_idle_session_expires(app, admin_client, admin):
    idle = app.config["KIOSK"].operator_ui.session_idle_minutes * 60
    with admin_client.session_transaction() as session:
        session[LAST_SEEN] = int(time.time()) - idle + 60  # a minute left
    assert admin_client.get("/operator/").status_code == 200  # and the clock restarts
    with admin_client.session_transaction() as session:
        assert session[LAST_SEEN] >= int(time.time()) - 5
        session[LAST_SEEN] = int(time.time()) - idle - 1
    response = admin_client.get("/operator/audit")
    assert response.status_code == 302 and urlsplit(response.location).path == "/operator/login"
    assert admin_client.get("/operator/").status_code == 302  # the login is gone for good
    (entry,) = audit_entries(app, "session.expired")
    assert entry.actor_id == admin.id
    assert "Your session expired" in admin_client.get("/operator/login").get_data(as_text=True)


def test_a_session_without_its_idle_clock_is_not_trusted(app, admin_client):
    with admin_client.session_transaction() as session:
        del session[LAST_SEEN]
    assert admin_client.get("/operator/").status_code == 302


@SQLITE_ONLY
@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_login_without_a_valid_csrf_token_is_refused(app, admin, token):
    client = app.test_client()
    csrf_token(client)  # the session has a token; the post does not carry it
    data = {"username": "alice", "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/operator/login", data=data)
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert audit_entries(app) == []


def test_a_token_of_another_session_is_refused(app, admin_client):
    stranger = app.test_client()
    foreign = csrf_token(stranger)
    response = admin_client.post(
        "/operator/users/new",
        data={
            "csrf_token": foreign,
            "username": "eve",
            "role": "admin",
            "password": PASSWORD,
            "password_repeat": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert audit_entries(app, "user.create") == []


@SQLITE_ONLY
@pytest.mark.parametrize(
    "path", ["/operator/login", "/operator/", "/operator/users", "/operator/static/operator.css"]
)
def test_operator_responses_are_never_cached_and_carry_security_headers(app, viewer_client, path):
    response = viewer_client.get(path)
    response.close()  # a static file is streamed from an open file
    assert response.status_code in (200, 302, 403)
    headers = response.headers
    assert headers["Cache-Control"] == "no-store"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_session_cookie_is_http_only_and_same_site(app, admin):
    response = login(app.test_client(), "alice")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_have_no_inline_script_or_style(admin_client, app):
    for path in ("/operator/", "/operator/users", "/operator/users/new", "/operator/audit"):
        body = admin_client.get(path).get_data(as_text=True)
        assert "<script" not in body and "<style" not in body and "style=" not in body, path


def test_a_password_reset_ends_the_users_open_session(app, admin_client, viewer_client, viewer):
    assert viewer_client.get("/operator/").status_code == 200
    token = csrf_token(admin_client, f"/operator/users/{viewer.id}/password")
    new = "another long secret"
    response = admin_client.post(
        f"/operator/users/{viewer.id}/password",
        data={"csrf_token": token, "password": new, "password_repeat": new},
    )
    assert response.status_code == 302
    assert viewer_client.get("/operator/").status_code == 302
    assert login(app.test_client(), viewer.username, new).status_code == 302


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(app, admin):
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    assert login(client, admin.username).status_code == 302
    (entry,) = audit_entries(app, "login.success")
    assert entry.remote_addr == "127.0.0.1"
