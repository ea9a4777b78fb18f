"""Speech output for drivers who cannot read the screen (EN 301 549 §5.1.3, closed
functionality): a text in the driver's language rendered as WAV on the kiosk itself.

espeak-ng (a Debian package) renders it: offline, no cloud service, all four languages. Its
Japanese voice reads kana only (kanji come out as "Chinese letter"), so Japanese text is first
turned into its reading by MeCab with the UniDic dictionary (`fugashi`, `unidic-lite` from
PyPI). Rendered phrases are kept in a small in-memory cache bounded in bytes: the same screen
texts and prompts come back for every driver. See docs/kiosk.md ("Speech output").
"""

from __future__ import annotations

import functools
import logging
import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from typing import Any

log = logging.getLogger(__name__)

# espeak-ng voice per kiosk language.
VOICES = {"de": "de", "en": "en-gb", "sv": "sv", "ja": "ja"}
# The longest text rendered: a whole price screen with its tariff details fits; a longer one is
# refused (the page never sends more), so nobody can keep the kiosk's CPU busy with essays.
MAX_CHARS = 1500
# Slower than espeak-ng's 175 words a minute: strangers in a car park, not screen-reader users.
WORDS_PER_MINUTE = 150
RENDER_TIMEOUT_S = 20
# Two renders at a time: the kiosk machine has few cores and the engine needs them too.
_renders = threading.BoundedSemaphore(2)
# A minute of speech is about 2.6 MB of 22 kHz 16-bit mono: 32 MB keeps every screen and prompt
# of a few languages without growing without bound.
CACHE_BYTES = 32 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KATAKANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}


class SpeechUnavailable(Exception):
    """The speech engine is missing or failed; the page stays silent, the screen still works."""


def normalise(text: str) -> str:
    """One line of text: control characters dropped, runs of white space made one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def wav(text: str, language: str) -> bytes:
    """`text` (normalised, at most MAX_CHARS) spoken in `language` (a key of VOICES), as WAV."""
    key = (language, text)
    audio = _cache.get(key)
    if audio is None:
        audio = _render(readable(text, language), VOICES[language])
        _cache.put(key, audio)
    return audio


def readable(text: str, language: str) -> str:
    """What the voice is given: Japanese as its hiragana reading, other languages as they are."""
    if language != "ja":
        return text
    with _tagger_lock:
        words = list(_tagger()(text))
    # UniDic's pronunciation (ー for long vowels, as spoken); words it does not know (digits,
    # Latin letters, symbols) keep their own spelling.
    return "".join(
        word.white_space + (_pronunciation(word) or word.surface) for word in words
    ).translate(_KATAKANA)


def _pronunciation(word: Any) -> str | None:
    pron = word.feature.pron
    return pron if pron and pron != "*" else None


_tagger_lock = threading.Lock()  # a MeCab tagger is not safe for concurrent use


@functools.cache
def _tagger() -> Any:
    try:
        import fugashi  # the dictionary loads in about 0.1 s: only when Japanese is spoken
    except ImportError as exc:
        raise SpeechUnavailable("fugashi (with unidic-lite) is not installed") from exc
    return fugashi.Tagger()


def _render(text: str, voice: str) -> bytes:
    program = shutil.which("espeak-ng")
    if program is None:
        raise SpeechUnavailable("espeak-ng is not installed")
    # The text goes in on stdin, never as an argument: nothing in it can become an option.
    command = [program, "-v", voice, "-s", str(WORDS_PER_MINUTE), "-b", "1", "--stdout"]
    with _renders:
        try:
            done = subprocess.run(
                command, input=text.encode(), capture_output=True, timeout=RENDER_TIMEOUT_S
            )
        except subprocess.TimeoutExpired as exc:
            raise SpeechUnavailable(f"espeak-ng took over {RENDER_TIMEOUT_S} s") from exc
    if done.returncode != 0 or done.stdout[:4] != b"RIFF" or done.stdout[8:12] != b"WAVE":
        error = done.stderr.decode(errors="replace").strip()
        raise SpeechUnavailable(f"espeak-ng failed ({done.returncode}): {error}")
    return _sealed(done.stdout)


def _sealed(audio: bytes) -> bytes:
    """The WAV with its real sizes: streaming to stdout, espeak-ng cannot go back to write them
    and leaves "unknown" (0x7fffffff), which makes players guess the duration."""
    offset = 12
    while offset + 8 <= len(audio):
        chunk, size = (
            audio[offset : offset + 4],
            int.from_bytes(audio[offset + 4 : offset + 8], "little"),
        )
        if chunk == b"data":
            data = len(audio) - offset - 8
            return b"".join(
                (
                    b"RIFF",
                    (len(audio) - 8).to_bytes(4, "little"),
                    audio[8 : offset + 4],
                    data.to_bytes(4, "little"),
                    audio[offset + 8 :],
                )
            )
        offset += 8 + size + size % 2  # chunks are padded to an even length
    raise SpeechUnavailable("espeak-ng wrote no audio data")


class _ByteBoundedCache:
    """Least recently used entries go first once the values exceed `limit` bytes together."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[str, str], value: bytes) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self._size -= len(old) if old is not None else 0
            self._items[key] = value
            self._size += len(value)
            while self._size > self.limit and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)


_cache = _ByteBoundedCache(CACHE_BYTES)
