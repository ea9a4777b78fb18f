"""Every driver-facing text exists in every language: no English fallback in a German flow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from kiosk_app.i18n import LANGUAGES, TRANSLATIONS
from kiosk_app.kiosk import messages

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")

# The keys the engine sends (terminal prompts, progress) and the failure reasons it reports.
PROMPT_KEYS = {"insert_card", "enter_pin", "pin_retry", "please_wait", "remove_card"}
ERROR_KEYS = {
    "declined",
    "insufficient_funds",
    "card_unreadable",
    "aborted",
    "timeout",
    "terminal_not_ready",
    "start_rejected",
    "evse_occupied",
    "no_plugin",
    "session_invalid",
}


def source_messages() -> set[str]:
    """The message ids in the code and templates now, extracted as `make messages` does."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    return {message for _file, _line, message, _comments, _context in found}


def catalogue(language: str):  # type: ignore[no-untyped-def]
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=language)


@pytest.fixture(scope="module")
def sources() -> set[str]:
    ids = source_messages()
    assert len(ids) > 100  # the extraction really found the screens' texts
    return ids


def test_the_template_holds_every_text_of_the_code(sources):
    with (TRANSLATIONS / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    assert sources - template == set(), "run `make messages` and translate the new texts"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated(sources, language):
    entries = {m.id: m for m in catalogue(language) if m.id}
    missing = sorted(m for m in sources if m not in entries or not entries[m].string)
    fuzzy = sorted(m for m in sources if m in entries and entries[m].fuzzy)
    assert missing == [], f"{language}: untranslated {missing}"
    assert fuzzy == [], f"{language}: fuzzy {fuzzy}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language):
    for message in catalogue(language):
        if message.id:
            expected = sorted(PLACEHOLDER.findall(message.id))
            assert sorted(PLACEHOLDER.findall(message.string)) == expected, message.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_source(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    assert (folder / "messages.mo").exists(), "run `make` to compile the catalogues"
    with (folder / "messages.mo").open("rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    source = {m.id: m.string for m in catalogue(language) if m.id}
    assert compiled == source, "the .mo is stale: run `make` to recompile"


def test_every_engine_key_has_a_text():
    assert messages.PROMPTS.keys() >= PROMPT_KEYS
    assert messages.ERRORS.keys() >= ERROR_KEYS
