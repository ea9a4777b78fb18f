"""Speech output: how long a driver waits for a screen's first sound, rendered and cached.

Per language, a whole screen (the pay screen's text) and one status prompt are rendered by
espeak-ng (`speech._render`, Japanese through its MeCab reading), then served from the cache.
Baseline, measured in the same run: starting `espeak-ng --version`, the process start every
render pays. Wall-clock medians of 7 rounds (the render is another process).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Callable

from kiosk_app.kiosk import speech

SCREENS = {
    "de": (
        "Mit Karte bezahlen Auf Ihrer Karte reservierter Betrag: 50,00 € Stecken Sie Ihre Karte "
        "ein oder halten Sie sie an das Kartenterminal. Folgen Sie den Anweisungen auf dem "
        "Kartenterminal unter diesem Bildschirm. Zahlung abbrechen",
        "Bitte PIN eingeben.",
    ),
    "en": (
        "Pay by card Amount held on your card: €50.00 Insert your card or hold it against the "
        "card terminal. Follow the instructions on the card terminal below this screen. "
        "Cancel payment",
        "Please enter your PIN.",
    ),
    "sv": (
        "Betala med kort Belopp som reserveras på ditt kort: 50,00 € Sätt in kortet eller håll "
        "det mot kortterminalen. Följ anvisningarna på kortterminalen under skärmen. "
        "Avbryt betalningen",
        "Ange din PIN-kod.",
    ),
    "ja": (
        "カードで支払う カードの仮押さえ額: €50.00 "
        "カードを挿入するか、カード端末にかざしてください。"
        "この画面の下にあるカード端末の指示に従ってください。 支払いを取り消す",
        "暗証番号を入力してください。",
    ),
}
ROUNDS = 7


def _median_ms(work: Callable[[], object]) -> float:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _measure(language: str, text: str) -> tuple[float, float, float]:
    """Render time, cache hit time (ms) and the audio's length (s) of `text`."""
    voice = speech.VOICES[language]
    render = _median_ms(lambda: speech._render(speech.readable(text, language), voice))
    audio = speech.wav(text, language)  # fills the cache
    cached = _median_ms(lambda: speech.wav(text, language))
    return render, cached, (len(audio) - 44) / 2 / 22050


def main() -> None:
    program = shutil.which("espeak-ng")
    if program is None:
        raise SystemExit("espeak-ng is not installed (Debian package espeak-ng)")
    baseline = _median_ms(lambda: subprocess.run([program, "--version"], capture_output=True))
    print(f"baseline: start espeak-ng --version {baseline:.1f} ms")
    print("language  phrase   chars  render ms  x baseline  cached ms  audio s")
    for language, phrases in SCREENS.items():
        for name, text in zip(("screen", "prompt"), phrases, strict=True):
            render, cached, seconds = _measure(language, text)
            ratio = render / baseline
            print(
                f"{language:<9} {name:<8} {len(text):>5}  {render:>9.1f}  {ratio:>9.1f}x"
                f"  {cached:>9.3f}  {seconds:>7.1f}"
            )
