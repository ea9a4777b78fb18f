"""The operator back office: a blueprint at /operator (views in `views`, guards in `security`)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint(
    "operator",
    __name__,
    url_prefix="/operator",
    static_folder="static",
    static_url_path="/static",
)


def init_app(app: Flask) -> None:
    """Register the back office on `app`: operator logins and the blueprint."""
    security.login_manager.init_app(app)
    if app.config["SESSION_COOKIE_SAMESITE"] is None:
        # The session cookie is not sent with cross-site posts: a second line behind CSRF tokens.
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(bp)


# Imported last: both modules attach their hooks and routes to `bp`.
from kiosk_app.operator import (  # noqa: E402, F401
    report_views,
    security,
    transaction_views,
    views,
)
