"""Numbers, money, durations and the receipt QR code as the driver's locale writes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import qrcode
from babel import numbers
from flask_babel import format_datetime, format_decimal, get_locale, gettext
from markupsafe import Markup, escape

from kiosk_app.kiosk.viewmodels import AfirPrice, Money


def money(value: Money) -> str:
    """An amount with the currency's own number of decimals (EUR 2, JPY 0)."""
    return numbers.format_currency(value.amount, value.currency, locale=get_locale())


def unit_price(amount: Decimal, currency: str) -> str:
    """A unit price keeps the decimals it has (0.589 €/kWh stays 0.589), at least the currency's."""
    return numbers.format_currency(
        amount, currency, locale=get_locale(), decimal_quantization=False
    )


def price_line(price: AfirPrice) -> str:
    """The price in one line, in AFIR order: energy, time, session (parking on the price screen)."""
    parts = []
    if price.per_kwh is not None:
        parts.append(gettext("%(price)s per kWh", price=unit_price(price.per_kwh, price.currency)))
    if price.per_minute is not None:
        parts.append(
            gettext("%(price)s per minute", price=unit_price(price.per_minute, price.currency))
        )
    if price.per_session is not None:
        parts.append(
            gettext("%(price)s per session", price=unit_price(price.per_session, price.currency))
        )
    return " · ".join(parts)


def energy(kwh: Decimal) -> str:
    return format_decimal(kwh, format="#,##0.00")


def power(kw: Decimal) -> str:
    return format_decimal(kw, format="#,##0.#")


def percent(value: Decimal) -> str:
    return format_decimal(value, format="#,##0.##")


def duration(value: timedelta) -> str:
    """Elapsed time as H:MM:SS, which every one of our languages reads the same way."""
    seconds = max(0, int(value.total_seconds()))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def countdown(seconds: int) -> str:
    """Remaining time as M:SS (kiosk.js keeps counting with the same format)."""
    seconds = max(0, seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def moment(value: datetime) -> str:
    """A date and time in the operator's time zone, in the locale's medium format."""
    return format_datetime(value, "medium")


def qr_svg(data: str, label: str) -> Markup:
    """`data` as an inline SVG QR code: one path of dark runs, no inline styles (CSP)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    matrix = code.get_matrix()
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    size = len(matrix)
    return Markup(
        f'<svg class="qr" role="img" aria-label="{escape(label)}" viewBox="0 0 {size} {size}"'
        f' xmlns="http://www.w3.org/2000/svg" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


FILTERS = {
    "money": money,
    "unit_price": unit_price,
    "price_line": price_line,
    "energy": energy,
    "power": power,
    "percent": percent,
    "duration": duration,
    "countdown": countdown,
    "moment": moment,
}
