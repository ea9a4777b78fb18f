"""Receipt PDFs with reportlab: one deterministic A4 document per receipt.

The same receipt data and link always give the same bytes: invariant mode, the document id
derived from the receipt number and content, the creation date taken from the issue time.
So the stored receipt record is the record, and the PDF can be regenerated at any time
(GoBD: an identical duplicate that can be reproduced needs no stored copy).
"""

from __future__ import annotations

import functools
import hashlib
import io
import threading
from collections.abc import Sequence
from datetime import UTC

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfdoc import PDFText
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from receipts import codec, fonts, profiles, qr
from receipts.model import Component, Kind, PriceLine, Receipt
from receipts.profiles import Field
from receipts.texts import all_texts as _language_texts
from receipts.texts import amount, number, rate, text, unit_price, when

WIDTH, HEIGHT = A4
LEFT, RIGHT, TOP, BOTTOM = 42.0, WIDTH - 42.0, HEIGHT - 42.0, 42.0
VALUE_X = LEFT + 170
QR_SIZE = 96.0

_UNITS = {Component.ENERGY: "kWh", Component.TIME: "min", Component.PARKING: "min"}


class _Writer:
    """A top-down cursor over the pages of one canvas."""

    def __init__(self, canvas: Canvas, font_set: fonts.FontSet) -> None:
        self.canvas = canvas
        self.fonts = font_set
        self.y = TOP

    def space(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.canvas.showPage()
            self.y = TOP
        else:
            self.y -= height

    def text(self, value: str, size: float = 9, bold: bool = False, x: float = LEFT) -> None:
        self.space(size + 3)
        self._draw(value, x, size, bold)

    def _draw(self, value: str, x: float, size: float, bold: bool = False, right=False) -> None:
        font = self.fonts.bold if bold else self.fonts.regular
        self.canvas.setFont(font, size)
        if right:
            self.canvas.drawRightString(x, self.y, value)
        else:
            self.canvas.drawString(x, self.y, value)

    def pair(self, label: str, value: str, bold: bool = False) -> None:
        self.space(12)
        self._draw(label, LEFT, 9, bold)
        self._draw(value, VALUE_X, 9, bold)

    def row(self, cells: Sequence[str], stops: Sequence[float], bold: bool = False) -> None:
        """Cells at tab stops: the first left-aligned, the rest right-aligned at their stop."""
        self.space(12)
        self._draw(cells[0], stops[0], 9, bold)
        for cell, stop in zip(cells[1:], stops[1:], strict=True):
            self._draw(cell, stop, 9, bold, right=True)

    def heading(self, value: str) -> None:
        self.space(8)
        self.text(value, size=10.5, bold=True)

    def wrapped(self, value: str, size: float = 8, at_spaces: bool = True) -> None:
        """Text broken to the page width: at the last space, or anywhere in a run without
        one (Japanese prose; signed data, which must be shown character for character)."""
        font, limit = self.fonts.regular, RIGHT - LEFT
        start, width, space = 0, 0.0, -1
        for index, char in enumerate(value):
            char_width = _char_width(font, size, char)
            if width + char_width > limit:
                end = space if at_spaces and space > start else index
                self.text(value[start:end], size)
                start = end + 1 if end == space else end
                width = sum(_char_width(font, size, c) for c in value[start:index])
                space = -1
            if char == " ":
                space = index
            width += char_width
        if start < len(value):
            self.text(value[start:], size)


@functools.lru_cache(maxsize=4096)
def _char_width(font: str, size: float, char: str) -> float:
    return stringWidth(char, font, size)


# reportlab keeps per-document font state in shared TTFont objects (a WeakKeyDictionary) and
# module-level settings; the web server renders from several threads, so one at a time.
_render_lock = threading.Lock()


def render(receipt: Receipt, link: str | None = None) -> bytes:
    """The receipt as PDF bytes; with `link`, its QR code is printed top right."""
    with _render_lock:
        return _render(receipt, link)


def _render(receipt: Receipt, link: str | None) -> bytes:
    lang = receipt.language
    content = codec.canonical_json(receipt)
    font_set = fonts.covering(content + "".join(_language_texts(lang)))
    profile = profiles.get(receipt.profile)
    form = profile.form_for(receipt)
    title = text(profiles.title_key(receipt), lang)
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=A4,
        invariant=1,
        pageCompression=0,
        initialFontName=font_set.regular,
        lang={"de": "de-DE", "en": "en", "sv": "sv-SE", "ja": "ja-JP"}[lang],
    )
    _fix_identity(canvas, receipt, content)
    canvas.setTitle(f"{title} {receipt.receipt_number}")
    canvas.setAuthor(receipt.operator.legal_name)
    canvas.setCreator("ev-kiosk receipts")
    out = _Writer(canvas, font_set)
    if link:
        qr.draw(canvas, link, RIGHT - QR_SIZE, TOP - QR_SIZE + 9, QR_SIZE)
        canvas.setFont(font_set.regular, 7)
        canvas.drawCentredString(RIGHT - QR_SIZE / 2, TOP - QR_SIZE + 2, text("qr.caption", lang))
    _supplier(out, receipt)
    out.space(10)
    out.text(title, size=14, bold=True)
    if receipt.kind is not Kind.NOTHING_CHARGED:
        out.text(f"{text('label.legal_basis', lang)}: {form.legal_basis}", size=7)
    out.space(6)
    _references(out, receipt)
    if receipt.kind is Kind.NOTHING_CHARGED:
        held = receipt.payment.held if receipt.payment else 0
        out.space(6)
        out.wrapped(text("voucher.text", lang).format(held=amount(held, receipt.currency, lang)), 9)
    else:
        _service(out, receipt)
        _lines(out, receipt)
        _vat(out, receipt)
        if Field.CUSTOMER in form.mandatory:
            _customer(out, receipt)
    if receipt.payment:
        _payment(out, receipt)
    if receipt.metering:
        _metering(out, receipt)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _fix_identity(canvas: Canvas, receipt: Receipt, content: str) -> None:
    """Document id and dates from the receipt, so re-rendering yields identical bytes."""
    issued = receipt.issued_at.astimezone(UTC)
    stamp = issued.strftime("D:%Y%m%d%H%M%S+00'00'")
    canvas.setDateFormatter(lambda *_: stamp)
    digest = hashlib.md5(content.encode(), usedforsecurity=False).digest()
    ident = PDFText(digest, enc="raw").format(canvas._doc)
    # reportlab offers no public setter for the trailer /ID; the attribute is its cache of it.
    canvas._doc._ID = b"\n[" + ident + ident + b"]\n"


def original_label(receipt: Receipt) -> str:
    """The text key naming the receipt's `original_number`: cancels, corrects or replaces."""
    return {Kind.CANCELLATION: "label.original", Kind.CREDIT_NOTE: "label.corrects"}.get(
        receipt.kind, "label.replaces"
    )


def _supplier(out: _Writer, receipt: Receipt) -> None:
    lang, operator = receipt.language, receipt.operator
    out.text(operator.legal_name, size=11, bold=True)
    for line in operator.address:
        out.text(line)
    if operator.vat_id:
        out.text(f"{text('label.vat_id', lang)}: {operator.vat_id}")
    if operator.tax_number:
        out.text(f"{text('label.tax_number', lang)}: {operator.tax_number}")
    if operator.registration_number:
        out.text(f"{text('label.registration_number', lang)}: {operator.registration_number}")


def _references(out: _Writer, receipt: Receipt) -> None:
    lang, tz = receipt.language, receipt.timezone
    out.pair(text("label.number", lang), receipt.receipt_number, bold=True)
    out.pair(text("label.issue_date", lang), when(receipt.issued_at, tz, lang))
    if receipt.original_number:
        out.pair(text(original_label(receipt), lang), receipt.original_number)
    out.pair(text("label.evse", lang), receipt.charge_point.evse_id)
    out.pair(text("label.site", lang), ", ".join(receipt.charge_point.address))
    if receipt.session_start:
        out.pair(text("label.session_start", lang), when(receipt.session_start, tz, lang))
    if receipt.session_end:
        out.pair(text("label.session_end", lang), when(receipt.session_end, tz, lang))
    out.pair(text("label.transaction", lang), receipt.transaction_reference)
    if receipt.cpo_invoice_reference:
        out.pair(text("label.cpo_invoice", lang), receipt.cpo_invoice_reference)


def _service(out: _Writer, receipt: Receipt) -> None:
    lang = receipt.language
    out.pair(text("label.service", lang), text("service.charging", lang))
    out.pair(text("label.energy", lang), f"{number(receipt.energy_kwh, 3, lang)} kWh")


def _quantity(line: PriceLine, lang: str) -> str:
    if line.component is Component.ENERGY:
        return f"{number(line.quantity, 3, lang)} kWh"
    places = max(-line.quantity.normalize().as_tuple().exponent, 0)
    shown = number(line.quantity, places, lang)
    unit = _UNITS.get(line.component)
    return f"{shown} {unit}" if unit else shown


_LINE_STOPS = (LEFT, LEFT + 250, LEFT + 360, LEFT + 420, RIGHT)
_VAT_STOPS = (LEFT, LEFT + 250, LEFT + 360, RIGHT)


def _lines(out: _Writer, receipt: Receipt) -> None:
    lang, cur = receipt.language, receipt.currency
    out.space(6)
    out.row(
        [text(k, lang) for k in ("col.item", "col.quantity", "col.unit_price", "col.rate")]
        + [text("col.amount", lang)],
        _LINE_STOPS,
        bold=True,
    )
    for line in receipt.lines:
        unit = _UNITS.get(line.component)
        price = unit_price(line.unit_price, cur, lang) + (f"/{unit}" if unit else "")
        out.row(
            [
                text(f"component.{line.component.value}", lang),
                _quantity(line, lang),
                price,
                rate(line.vat_rate, lang),
                amount(line.amount, cur, lang),
            ],
            _LINE_STOPS,
        )


def _vat(out: _Writer, receipt: Receipt) -> None:
    lang, cur = receipt.language, receipt.currency
    out.space(6)
    out.row([text(f"vat.{k}", lang) for k in ("rate", "net", "vat", "gross")], _VAT_STOPS, True)
    for line in receipt.vat:
        out.row(
            [
                rate(line.rate, lang),
                amount(line.net, cur, lang),
                amount(line.vat, cur, lang),
                amount(line.gross, cur, lang),
            ],
            _VAT_STOPS,
        )
    out.space(3)
    out.pair(text("label.total", lang), amount(receipt.total, cur, lang), bold=True)


def _customer(out: _Writer, receipt: Receipt) -> None:
    lang, customer = receipt.language, receipt.customer
    out.heading(text("customer.heading", lang))
    blank = "_" * 48
    out.pair(text("customer.name", lang), customer.name if customer else blank)
    address = customer.address if customer else (blank, blank)
    for index, line in enumerate(address):
        out.pair(text("customer.address", lang) if index == 0 else "", line)


def _payment(out: _Writer, receipt: Receipt) -> None:
    lang, cur, payment = receipt.language, receipt.currency, receipt.payment
    assert payment is not None
    refund = receipt.kind is Kind.CREDIT_NOTE
    out.heading(text("payment.refund_heading" if refund else "payment.heading", lang))
    out.pair(text("payment.brand", lang), payment.brand)
    out.pair(text("payment.pan", lang), f"**** {payment.pan_last4}")
    out.pair(text("payment.aid", lang), payment.aid)
    out.pair(text("payment.terminal_id", lang), payment.terminal_id)
    out.pair(text("payment.trace", lang), payment.trace_number)
    out.pair(text("payment.receipt_no", lang), payment.terminal_receipt_number)
    out.pair(text("payment.auth_code", lang), payment.auth_code)
    out.pair(text("payment.time", lang), when(payment.paid_at, receipt.timezone, lang))
    if payment.held:
        out.pair(text("payment.held", lang), amount(payment.held, cur, lang))
    if receipt.kind is not Kind.NOTHING_CHARGED:
        out.pair(text("payment.amount", lang), amount(payment.amount, cur, lang))


def _metering(out: _Writer, receipt: Receipt) -> None:
    lang, metering = receipt.language, receipt.metering
    assert metering is not None
    out.heading(text("metering.heading", lang))
    out.pair(text("metering.meter_id", lang), metering.meter_id)
    out.pair(text("metering.start", lang), f"{number(metering.start_reading, 3, lang)} kWh")
    out.pair(text("metering.end", lang), f"{number(metering.end_reading, 3, lang)} kWh")
    out.text(text("metering.ocmf", lang) + ":", size=8)
    for record in metering.ocmf:
        out.wrapped(record, 6.5, at_spaces=False)
        out.space(3)
    out.text(text("metering.public_key", lang) + ":", size=8)
    out.wrapped(metering.public_key, 6.5, at_spaces=False)
    out.space(3)
    out.wrapped(text("metering.hint", lang), 7.5, at_spaces=lang != "ja")
