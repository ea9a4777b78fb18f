"""QR codes as SVG for the kiosk screen, decoded after rasterising; the font start-up check."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from kiosk_app import create_app
from kiosk_app.config import ConfigError
from receipts import fonts, qr


def _rasterise(svg: str, scale: int = 8) -> Image.Image:
    count = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    image = Image.new("L", (count * scale, count * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
        x, y, n = int(x), int(y), int(n)
        draw.rectangle([x * scale, y * scale, (x + n) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image


@pytest.mark.parametrize(
    "link",
    [
        "https://charge.example.com/r/Zm9vYmFyLXRva2VuLTEyOC1iaXRzLW1pbg",
        "http://127.0.0.1:8000/r/x",
    ],
)
def test_svg_qr_decodes_to_the_link(link) -> None:
    svg = qr.svg(link)
    assert svg.startswith("<svg") and 'width="240"' in svg
    (barcode,) = zxingcpp.read_barcodes(_rasterise(svg))
    assert barcode.text == link


def test_the_app_does_not_start_without_its_receipt_fonts(monkeypatch, config, tmp_path) -> None:
    missing = fonts.FontFile("DejaVuSans", tmp_path / "DejaVuSans.ttf", "fonts-dejavu-core")
    monkeypatch.setitem(fonts.FONT_FILES, "DejaVuSans", missing)
    with pytest.raises(ConfigError, match="install the Debian package fonts-dejavu-core") as info:
        create_app(config)
    assert str(tmp_path / "DejaVuSans.ttf") in str(info.value)
