"""The driver's touchscreen: nine screens in four languages over the transaction engine.

Mounted at `/kiosk/<kiosk_id>/`; see docs/kiosk.md for the screens and the flow.
"""

from __future__ import annotations

from flask import Flask

from kiosk_app import i18n
from kiosk_app.kiosk.views import bp


def init_app(app: Flask) -> None:
    """Bind the translations and mount the kiosk screens."""
    i18n.init_app(app)
    app.register_blueprint(bp)
