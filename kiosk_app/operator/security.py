"""Guards of the back office: login required everywhere, idle expiry, CSRF on every unsafe
request, admin-only views, no caching and strict security headers on every response.

The guards run for every endpoint of the blueprint, so a new view is protected without
anyone remembering a decorator; only `PUBLIC_ENDPOINTS` are open to anonymous users.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError

from kiosk_app import db
from kiosk_app.config import OperatorUiConfig
from kiosk_app.models.operator import OperatorUser
from kiosk_app.operator import access, bp

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = frozenset({"operator.login", "operator.static"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Seconds since the epoch of the operator's last request, in the signed session cookie.
LAST_SEEN = "operator_last_seen"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    # Operator pages show money and people's data: never kept by a browser or a proxy.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
}

login_manager = LoginManager()
login_manager.login_view = "operator.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
# Drop the session when it shows up from another address or browser.
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(session_user_id: str) -> OperatorUser | None:
    return access.user_for_session(db.session(), session_user_id)


def settings() -> OperatorUiConfig:
    return current_app.config["KIOSK"].operator_ui


def origin() -> access.Origin:
    return access.Origin(g.get("request_id"), request.remote_addr)


def acting_user() -> access.Actor:
    """The logged-in operator as the actor of an audited action."""
    return access.Actor.of(current_user, origin())


def touch_session() -> None:
    """Start (or restart) the idle clock of the operator's session."""
    session[LAST_SEEN] = int(time.time())


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only administrators may use `view`; anyone else gets 403."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not (current_user.is_authenticated and current_user.is_admin):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.before_request
def _guard() -> Response | None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if _idle_too_long():
            return _expire_session()
        touch_session()
    if request.method not in SAFE_METHODS:
        _check_csrf()
    return None


def _idle_too_long() -> bool:
    last_seen = session.get(LAST_SEEN)
    limit = settings().session_idle_minutes * 60
    return not isinstance(last_seen, int) or time.time() - last_seen > limit


def _expire_session() -> Response:
    access.record_logout(db.session(), current_user, origin(), expired=True)
    logout_user()
    session.clear()
    flash("Your session expired after a time without activity. Please log in again.", "info")
    return redirect(url_for("operator.login"))


def _check_csrf() -> None:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError as exc:
        log.warning("refused %s %s: %s", request.method, request.path, exc)
        abort(
            400,
            description="This form has expired or did not come from this site. "
            "Go back, reload the page and try again.",
        )


@bp.after_request
def _secure_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.vary.add("Cookie")
    return response


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"csrf_token": generate_csrf}


@bp.errorhandler(400)
@bp.errorhandler(403)
@bp.errorhandler(404)
@bp.errorhandler(409)
@bp.errorhandler(503)
def _error_page(exc: HTTPException) -> tuple[str, int]:
    return render_template("operator/error.html", error=exc), exc.code or 500
