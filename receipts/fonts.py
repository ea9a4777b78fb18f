"""Embedded TrueType fonts for receipts, loaded once per process.

Every script is printed with an embedded TrueType font (reportlab embeds a subset): DejaVu for
Latin text, IPAexGothic for Japanese. Base-14 and CID fonts are never used, since viewers
without Adobe's font packs would show empty boxes. A missing file is an error at start-up.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
IPAEX_DIR = Path("/usr/share/fonts/opentype/ipaexfont-gothic")


@dataclass(frozen=True)
class FontFile:
    name: str
    path: Path
    package: str


FONT_FILES: dict[str, FontFile] = {
    f.name: f
    for f in (
        FontFile("DejaVuSans", DEJAVU_DIR / "DejaVuSans.ttf", "fonts-dejavu-core"),
        FontFile("DejaVuSans-Bold", DEJAVU_DIR / "DejaVuSans-Bold.ttf", "fonts-dejavu-core"),
        FontFile("IPAexGothic", IPAEX_DIR / "ipaexg.ttf", "fonts-ipaexfont-gothic"),
    )
}


@dataclass(frozen=True)
class FontSet:
    """The fonts one receipt language prints with."""

    regular: str
    bold: str


# Each extra embedded font costs a subset per document (~0.6 ms), so signed data is printed
# in the text face too. IPAexGothic has no bold face; Japanese headings use it larger.
FONT_SETS: dict[str, FontSet] = {
    "latin": FontSet("DejaVuSans", "DejaVuSans-Bold"),
    "ja": FontSet("IPAexGothic", "IPAexGothic"),
}


class FontMissing(RuntimeError):
    """A font file the receipts need is not installed."""

    def __init__(self, font: FontFile) -> None:
        super().__init__(
            f"receipt font {font.name} missing: {font.path} not found; "
            f"install the Debian package {font.package}"
        )
        self.font = font


_lock = threading.Lock()


def check() -> None:
    """Raise FontMissing for the first font file that is not installed."""
    for font in FONT_FILES.values():
        if not font.path.is_file():
            raise FontMissing(font)


def register(name: str) -> str:
    """Parse and register font `name` with reportlab once per process; return its name."""
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    font = FONT_FILES[name]
    with _lock:
        if name not in pdfmetrics.getRegisteredFontNames():
            if not font.path.is_file():
                raise FontMissing(font)
            pdfmetrics.registerFont(TTFont(name, str(font.path)))
    return name


def covering(text: str) -> FontSet:
    """The registered font set whose faces have a glyph for every character of `text`:
    DejaVu when it covers the text, else IPAexGothic (Japanese names on any receipt)."""
    needed = {char for char in set(text) if char.isprintable()}
    for fonts in FONT_SETS.values():
        if all(needed <= _characters(register(name)) for name in (fonts.regular, fonts.bold)):
            return fonts
    return FONT_SETS["ja"]


@functools.cache
def _characters(name: str) -> frozenset[str]:
    return frozenset(map(chr, pdfmetrics.getFont(name).face.charToGlyph))
