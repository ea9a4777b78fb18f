"""The driver's touchscreen: nine screens in four languages over the transaction engine.

Mounted at `/kiosk/<kiosk_id>/`; see docs/kiosk.md for the screens and the flow.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from kiosk_app import i18n
from kiosk_app.kiosk.views import bp

# The kiosk's CSS and JavaScript (the app's only static files) are linked with their content
# version (`views.asset_version`), so the browser may keep them: a screen change then loads the
# page alone instead of revalidating both assets (one round trip less within the one-second
# status budget, docs/kiosk.md).
STATIC_MAX_AGE = timedelta(days=365)


def init_app(app: Flask) -> None:
    """Bind the translations and mount the kiosk screens."""
    i18n.init_app(app)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = STATIC_MAX_AGE
    app.register_blueprint(bp)
