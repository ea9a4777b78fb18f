"""Speech output (EN 301 549 §5.1.3): the audio endpoint renders real WAV with espeak-ng in every
language, and in Chromium on the whole real stack (kiosk_stack.py) the "Read aloud" control
speaks the screen and the terminal's prompts."""

from __future__ import annotations

import io
import wave
from urllib.parse import parse_qs, urlparse

import pytest
from kiosk_pages import KIOSK, arrive, choose, shown
from playwright.sync_api import Page

from kiosk_app.kiosk import speech

SPEECH = f"{KIOSK}/speech"
# What each language's screens say, Japanese with kanji, katakana and digits.
SAMPLES = {
    "de": "Ladevorgang läuft. 12,34 kWh, 9,43 €",
    "en": "Charging. 12.34 kWh, €9.43",
    "sv": "Laddning pågår. 12,34 kWh, 9,43 €",
    "ja": "充電中です。カードを挿入してください。12.34 kWh",
}
# Every phrase the page played, with the text it asked for (media events do not bubble, so the
# listener captures them on the document; the player element is part of the page).
RECORD_PLAYED = """
window.played = [];
document.addEventListener("playing", event => window.played.push(event.target.currentSrc), true);
"""


def duration_s(audio: bytes) -> float:
    """The WAV's length from its RIFF header, which must be complete and consistent."""
    assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
    assert int.from_bytes(audio[4:8], "little") == len(audio) - 8
    with wave.open(io.BytesIO(audio)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        frames, rate = wav.getnframes(), wav.getframerate()
    assert frames * 2 == len(audio) - 44  # the data chunk holds exactly the frames
    return frames / rate


@pytest.mark.parametrize("language", list(SAMPLES))
def test_speech_is_a_real_wav_in_every_language(client, language):
    answer = client.get(SPEECH, query_string={"text": SAMPLES[language], "lang": language})
    assert answer.status_code == 200
    assert answer.mimetype == "audio/wav"
    assert duration_s(answer.data) > 1.0


def test_japanese_is_spoken_from_its_reading_not_as_foreign_letters():
    # espeak-ng's Japanese voice reads kana only; kanji would come out as "Chinese letter".
    assert (
        speech.readable("充電中です。カードを挿入", "ja")
        == "じゅーでんちゅーです。かーどおそーにゅー"
    )
    assert speech.readable("Ladevorgang läuft", "de") == "Ladevorgang läuft"


def test_rendered_phrases_are_cached(client, monkeypatch):
    renders = []
    real = speech._render
    monkeypatch.setattr(
        speech, "_render", lambda text, voice: renders.append(text) or real(text, voice)
    )
    text = "Karte einstecken, bitte: ein Satz nur für diesen Test."
    first = client.get(SPEECH, query_string={"text": text, "lang": "de"})
    again = client.get(SPEECH, query_string={"text": f"  {text}\n", "lang": "de"})
    assert first.data == again.data and renders == [text]


def test_unknown_or_missing_language_is_the_drivers_language(client):
    text = SAMPLES["sv"]
    german = client.get(SPEECH, query_string={"text": text, "lang": "de"}).data
    for query in ({"text": text, "lang": "xx"}, {"text": text}):
        answer = client.get(SPEECH, query_string=query)
        assert answer.status_code == 200 and answer.data == german  # the kiosk's default
    client.post(f"{KIOSK}/language", data={"language": "sv"})
    swedish = client.get(SPEECH, query_string={"text": text, "lang": "sv"}).data
    assert client.get(SPEECH, query_string={"text": text, "lang": "klingon"}).data == swedish


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "text: required"),
        ({"text": " \n\t "}, "text: required"),
        ({"text": "x" * (speech.MAX_CHARS + 1)}, f"text: at most {speech.MAX_CHARS} characters"),
    ],
)
def test_bad_text_is_a_precise_400(client, query, message):
    answer = client.get(SPEECH, query_string=query)
    assert answer.status_code == 400
    assert answer.json["message"].startswith(message)


def test_without_espeak_the_answer_is_503_not_500(client, monkeypatch):
    monkeypatch.setattr(speech.shutil, "which", lambda _name: None)
    answer = client.get(SPEECH, query_string={"text": "Nie gesprochen, nie gecacht.", "lang": "de"})
    assert answer.status_code == 503
    assert answer.json == {
        "error": "Service Unavailable",
        "message": "speech output is not available on this kiosk",
    }


def spoken_texts(page: Page) -> list[str]:
    return [parse_qs(urlparse(src).query)["text"][0] for src in page.evaluate("window.played")]


def wait_spoken(page: Page, count: int) -> list[str]:
    page.wait_for_function("n => window.played.length >= n", arg=count, timeout=10_000)
    return spoken_texts(page)


def test_read_aloud_speaks_the_screen_and_status_changes(page, kiosk):
    page.add_init_script(RECORD_PLAYED)
    page.goto(f"{kiosk.base}/")
    toggle = page.locator("#speech-toggle")
    assert toggle.inner_text() == "Vorlesen"
    box = toggle.bounding_box()
    assert box["width"] >= 48 and box["height"] >= 48
    assert toggle.get_attribute("aria-pressed") == "false"

    with page.expect_response(lambda r: "/speech?" in r.url) as response:
        toggle.click()
    assert response.value.status == 200
    assert response.value.headers["content-type"] == "audio/wav"
    assert duration_s(response.value.body()) > 1.0
    assert toggle.get_attribute("aria-pressed") == "true"
    [start] = wait_spoken(page, 1)
    assert start == " ".join(page.inner_text("main").split())

    # Still on after moving on: the next screen speaks by itself, in the driver's language.
    page.click('header button[value="en"]')
    page.wait_for_selector('html[lang="en"]')
    choose(page, kiosk.base, "EVSE-1")
    # A slow customer: the PIN prompt stays long enough to be spoken before the next one
    # replaces it (a newer status cuts off a phrase that has not started playing).
    kiosk.stack.terminal.speed = 4
    page.click("#pay")
    arrive(page, "pay")
    screen = wait_spoken(page, 1)[0]
    assert screen == " ".join(page.inner_text("main").split()) or "Pay by card" in screen
    assert parse_qs(urlparse(page.evaluate("window.played[0]")).query)["lang"] == ["en"]
    # The terminal simulator asks for the PIN: the prompt is shown and spoken.
    shown(page, "#live", "PIN")
    announced = page.inner_text("#live")
    page.wait_for_function(
        "t => decodeURIComponent(window.played.at(-1) || '').includes(t)",
        arg=announced.split()[0],
        timeout=10_000,
    )
    assert spoken_texts(page)[-1] == announced

    # Off again: a status change is shown, not spoken.
    page.click("#speech-toggle")
    count = len(spoken_texts(page))
    page.wait_for_function("t => document.getElementById('live').textContent !== t", arg=announced)
    assert len(spoken_texts(page)) == count


def test_read_aloud_is_off_again_after_the_idle_reset(page, kiosk):
    page.goto(f"{kiosk.base}/evses")
    page.click("#speech-toggle")
    kiosk.kiosk_ui(idle_timeout_s=2)  # once on the screen: a loaded machine must not be faster
    page.reload()
    assert page.get_attribute("#speech-toggle", "aria-pressed") == "true"
    page.wait_for_selector('body[data-screen="start"]', timeout=10_000)  # "start over" submitted
    assert page.get_attribute("#speech-toggle", "aria-pressed") == "false"
