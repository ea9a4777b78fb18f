"""Money, numbers and times as each kiosk language writes them; the receipt QR code decodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import zxingcpp
from flask import g

from kiosk_app.kiosk import formatting
from kiosk_app.kiosk.viewmodels import AfirPrice, Money


@pytest.fixture
def in_language(app):  # type: ignore[no-untyped-def]
    """Run a formatter inside a request whose driver speaks `language`."""

    def run(language, formatter, *args):  # type: ignore[no-untyped-def]
        with app.test_request_context():
            g.language = language
            return formatter(*args)

    return run


@pytest.mark.parametrize(
    ("language", "money", "expected"),
    [
        ("de", Money(Decimal("1234.5"), "EUR"), "1.234,50\xa0€"),
        ("en", Money(Decimal("1234.5"), "EUR"), "€1,234.50"),
        ("sv", Money(Decimal("1234.5"), "SEK"), "1\xa0234,50\xa0kr"),
        ("ja", Money(Decimal("1980"), "JPY"), "￥1,980"),
    ],
)
def test_money_uses_the_currency_decimals_and_the_locale(in_language, language, money, expected):
    assert in_language(language, formatting.money, money) == expected


def test_unit_prices_keep_their_decimals(in_language):
    assert in_language("de", formatting.unit_price, Decimal("0.589"), "EUR") == "0,589\xa0€"
    assert in_language("de", formatting.unit_price, Decimal("0.5"), "EUR") == "0,50\xa0€"


def test_price_line_in_afir_order(in_language):
    price = AfirPrice("SEK", per_kwh=Decimal("4.95"), per_session=Decimal("10"))
    assert in_language("sv", formatting.price_line, price) == (
        "4,95\xa0kr per kWh · 10,00\xa0kr per laddning"
    )


def test_energy_power_and_time(in_language):
    assert in_language("de", formatting.energy, Decimal("1234.567")) == "1.234,57"
    assert in_language("en", formatting.power, Decimal("48.25")) == "48.2"
    assert formatting.duration(timedelta(hours=2, minutes=3, seconds=4)) == "2:03:04"
    assert formatting.countdown(299) == "4:59" and formatting.countdown(-3) == "0:00"
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # summer time in Europe/Berlin
    assert in_language("de", formatting.moment, moment) == "01.07.2026, 14:00:00"


def test_qr_code_decodes_to_the_receipt_link():
    url = "https://receipts.example.org/r/K1-2026-000042-Xq9vB2mT"
    svg = formatting.qr_svg(url, "QR")
    assert "style=" not in svg and "<script" not in svg
    image, size = rasterise(svg)
    (code,) = zxingcpp.read_barcodes(memoryview(image).cast("B", (size, size)))
    assert code.text == url


def rasterise(svg: str, scale: int = 8) -> tuple[bytes, int]:
    """Grey pixels of our one-path QR SVG: 'M{x} {y}h{n}v1h-{n}z' runs of dark modules."""
    modules = int(svg.split('viewBox="0 0 ')[1].split(" ")[0])
    size = modules * scale
    pixels = bytearray([255]) * (size * size)
    path = svg.split(' d="')[1].split('"')[0]
    for run in path.split("z")[:-1]:
        start, rest = run[1:].split("h", 1)
        x, y = map(int, start.split(" "))
        length = int(rest.split("v")[0])
        for row in range(y * scale, (y + 1) * scale):
            offset = row * size
            pixels[offset + x * scale : offset + (x + length) * scale] = bytes(length * scale)
    return bytes(pixels), size
