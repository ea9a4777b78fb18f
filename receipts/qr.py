"""QR codes of receipt links: vector rectangles on a reportlab canvas, or inline SVG."""

from __future__ import annotations

from collections.abc import Iterator

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.pdfgen.canvas import Canvas

QUIET_ZONE = 4  # modules of white border the QR standard asks for


def matrix(data: str) -> list[list[bool]]:
    """The module matrix (without quiet zone) of a QR code holding `data`.

    The mask pattern is fixed: choosing the "best" of eight costs ~3 ms per code in pure
    Python and only improves contrast statistics; every mask decodes the same.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=0)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def _runs(modules: list[list[bool]]) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules, quiet zone added;
    one rectangle per run keeps the drawing small and fast."""
    for row_index, row in enumerate(modules):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            yield row_index + QUIET_ZONE, start + QUIET_ZONE, column - start


def draw(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw a QR code of `data` with its quiet zone in the square (x, y, size), y at bottom.

    The rectangles are written as PDF operators in module units under one scaling matrix:
    building ~250 path objects through reportlab's path API took longer than the QR
    encoding itself.
    """
    modules = matrix(data)
    step = size / (len(modules) + 2 * QUIET_ZONE)
    rects = " ".join(f"{c} {r} {n} 1 re" for r, c, n in _runs(modules))
    # y grows downwards in module units: scale by -step from the square's top edge
    canvas.addLiteral(f"q 0 g {step:.6f} 0 0 {-step:.6f} {x:.3f} {y + size:.3f} cm {rects} f Q")


def svg(data: str, size: int = 240) -> str:
    """An inline SVG of the QR code of `data` (for the kiosk screen), `size` pixels square."""
    modules = matrix(data)
    count = len(modules) + 2 * QUIET_ZONE
    path = "".join(f"M{c} {r}h{n}v1h-{n}z" for r, c, n in _runs(modules))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {count} {count}" shape-rendering="crispEdges" role="img">'
        f'<rect width="{count}" height="{count}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>'
    )
