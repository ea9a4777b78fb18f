"""The daily closing report as a PDF: per kiosk, our captures, the terminal's end-of-day and
the CPO's CDR totals, and every difference with its transactions. Deterministic: the same
data gives the same bytes (reportlab's invariant mode, no clock)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from kiosk_app.operator.reconciliation import KioskDay
from receipts import money

LINE = 5 * mm
MARGIN = 18 * mm


def render(day: date, timezone: str, kiosks: list[KioskDay], operator_name: str) -> bytes:
    """The report of `day` (local day of `timezone`) as PDF bytes."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=0)
    pdf.setTitle(f"Daily closing {day.isoformat()}")
    pdf.setAuthor(operator_name)
    pdf.setCreator("EV kiosk back office")
    height = A4[1]
    y = height - MARGIN
    for size, text in _lines(day, timezone, kiosks, operator_name):
        if y < MARGIN:
            pdf.showPage()
            y = height - MARGIN
        pdf.setFont("Helvetica-Bold" if size > 10 else "Helvetica", size)
        pdf.drawString(MARGIN, y, text[:110])
        y -= LINE * (1.6 if size > 10 else 1)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _lines(
    day: date, timezone: str, kiosks: list[KioskDay], operator_name: str
) -> Iterator[tuple[int, str]]:
    yield 16, f"Daily closing report {day.isoformat()}"
    yield 9, f"{operator_name} - local day in {timezone}; amounts in major units"
    for kiosk in kiosks:
        amount = lambda minor, c=kiosk.currency: _amount(minor, c)  # noqa: E731
        yield 13, f"Kiosk {kiosk.kiosk_id}"
        yield 10, f"Our captures: {len(kiosk.captures)}, {amount(kiosk.our_total_minor)}"
        terminal = kiosk.terminal_total_minor
        yield (
            10,
            "Terminal end-of-day: "
            + (amount(terminal) if terminal is not None else "none recorded this day"),
        )
        yield 10, f"CPO CDR totals: {amount(kiosk.cdr_total_minor)}"
        for line in kiosk.brands:
            reported = (
                f"{line.terminal_count}, {amount(line.terminal_total_minor)}"
                if line.terminal_total_minor is not None
                else "-"
            )
            yield (
                9,
                f"  {line.brand}: ours {line.our_count}, {amount(line.our_total_minor)}; "
                f"terminal {reported}",
            )
        for closing in kiosk.closings:
            if closing.status != "done":
                yield 9, f"  End-of-day #{closing.id}: {closing.status} {closing.error}"
        if not kiosk.differences:
            yield 10, "No differences."
        for diff in kiosk.differences:
            yield 10, f"Difference ({diff.against}): {diff.what}: {amount(diff.amount_minor)}"
            for reference in diff.references:
                yield 9, f"    transaction {reference}"


def _amount(minor: int | None, currency: str) -> str:
    return "-" if minor is None else f"{money.to_major(minor, currency)} {currency}"
