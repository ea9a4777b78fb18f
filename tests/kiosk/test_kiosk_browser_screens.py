"""Every screen in Chromium: each language (screenshots), both orientations (axe-core, touch
targets, no sideways scrolling), and the 150 KB page-weight budget."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from kiosk_pages import (
    HAPPY_PATH,
    LANDSCAPE,
    PORTRAIT,
    SCREENS,
    layout_problems,
    page_weight,
    serious_violations,
    walk,
)

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
BUDGET = 150 * 1024
# Page weight is measured in a Latin and a CJK language (UTF-8 makes Japanese the heaviest).
WEIGHED = ("de", "ja")
# One text per screen that must appear in the screen's language (never the English one).
HEADINGS = {
    "de": {
        "start": "Laden und mit Karte bezahlen",
        "pay": "Mit Karte bezahlen",
        "charging": "Laden",
        "finished": "Laden beendet",
        "error": "Das tut uns leid",
    },
    "en": {
        "start": "Charge your car and pay by card",
        "pay": "Pay by card",
        "charging": "Charging",
        "finished": "Charging finished",
        "error": "Sorry",
    },
    "sv": {
        "start": "Ladda bilen och betala med kort",
        "pay": "Betala med kort",
        "charging": "Laddning pågår",
        "finished": "Laddningen är klar",
        "error": "Tyvärr",
    },
    "ja": {
        "start": "充電してカードで支払う",
        "pay": "カードで支払う",
        "charging": "充電中",
        "finished": "充電が終了しました",
        "error": "申し訳ありません",
    },
}


@pytest.mark.parametrize("language", ["de", "en", "sv", "ja"])
def test_every_screen_in_every_language(
    browser, live_server, engine, language, tmp_path_factory: pytest.TempPathFactory
):
    shots = tmp_path_factory.mktemp(f"screens-{language}")
    # Portrait layout, pictures at half resolution (540×960) to keep the PNGs small.
    context = browser.new_context(viewport=PORTRAIT, device_scale_factor=0.5)
    page = context.new_page()
    seen = []
    for screen in walk(page, live_server, engine, language):
        seen.append(screen)
        assert page.get_attribute("html", "lang") == language, screen
        if screen in HEADINGS[language]:
            assert page.inner_text("h1") == HEADINGS[language][screen]
        if language in WEIGHED:
            assert page_weight(browser, page) <= BUDGET, screen
        if language == "ja":  # German is checked in both orientations below
            assert serious_violations(page) == [], screen
        page.screenshot(path=str(shots / f"{len(seen):02d}-{screen}.png"))
    context.close()
    assert seen == SCREENS
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") and language in ("de", "en"):
        for number, screen in enumerate(HAPPY_PATH, 1):
            name = f"{number:02d}-{screen}.png"
            shutil.copy(shots / name, DOCS_SCREENSHOTS / f"{language}-{name}")


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_every_screen_is_accessible_in_both_orientations(browser, live_server, engine, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    findings = {}
    for screen in walk(page, live_server, engine, "de"):
        problems = serious_violations(page) + layout_problems(page)
        if problems:
            findings[screen] = problems
    context.close()
    assert findings == {}
