"""Languages and locale formatting: Flask-Babel bound to the app, the locale chosen per request.

A view that serves a language-aware page sets `g.language`; without it (the operator pages, the
API) the default locale applies. Catalogues live in `kiosk_app/translations/<lang>/`.
"""

from __future__ import annotations

import typing
from pathlib import Path

from flask import Flask, g
from flask_babel import Babel

from kiosk_app.config import Language

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES: tuple[str, ...] = typing.get_args(Language)
# Each language's own name, as the driver recognises it whatever language is on screen.
NATIVE_NAMES = {"de": "Deutsch", "en": "English", "sv": "Svenska", "ja": "日本語"}


def init_app(app: Flask) -> None:
    """Bind Flask-Babel: locale from `g.language`, times in the operator's time zone."""
    Babel(
        app,
        locale_selector=_locale,
        default_locale="en",
        default_timezone=app.config["KIOSK"].operator.timezone,
        default_translation_directories=str(TRANSLATIONS),
    )


def _locale() -> str | None:
    return g.get("language")
