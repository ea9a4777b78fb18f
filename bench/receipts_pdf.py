"""Receipt PDF rendering: a complete receipt (embedded TrueType subset, QR code, signed meter
data) against a bare reportlab page carrying the same text lines in a base-14 font.

Run: `.venv/bin/python -m bench.receipts_pdf [ROUNDS]`. Both are measured in this run,
interleaved, so machine load affects them alike; the ratio is the figure to compare.
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reportlab.pdfgen.canvas import Canvas

from receipts import pdf, qr
from receipts.sample import sample_receipt

LINK = "https://charge.example.com/r/Zm9vYmFyLXRva2VuLTEyOC1iaXRzLW1pbg"


def _text_lines(data: bytes) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "receipt.pdf"
        path.write_bytes(data)
        out = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
    return [line for line in out.splitlines() if line.strip()]


def _bare_page(lines: list[str]) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1, pageCompression=0)
    canvas.setFont("Helvetica", 8)
    y = 800.0
    for line in lines:
        canvas.drawString(40, y, line)
        y -= 9
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _measure(cases: dict[str, Callable[[], object]], rounds: int) -> dict[str, tuple[float, float]]:
    """Per case: median wall time and median CPU time of this thread, in ms. On a shared
    machine the CPU time is the steadier figure (preemption inflates wall time)."""
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, run in cases.items():
            start, start_cpu = time.perf_counter(), time.thread_time()
            run()
            cpu[name].append(time.thread_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
    return {
        name: (statistics.median(wall[name]) * 1000, statistics.median(cpu[name]) * 1000)
        for name in cases
    }


def main(rounds: int = 200) -> None:
    german = sample_receipt("DE", "de")
    japanese = sample_receipt("JP", "ja")
    start = time.perf_counter()
    first = pdf.render(german, LINK)  # parses and registers the TrueType fonts once
    first_ms = (time.perf_counter() - start) * 1000
    lines = _text_lines(first)
    cases = {
        "bare page, same text, Helvetica": lambda: _bare_page(lines),
        "receipt DE/de (DejaVu, QR)": lambda: pdf.render(german, LINK),
        "receipt JP/ja (IPAexGothic, QR)": lambda: pdf.render(japanese, LINK),
        "QR matrix alone": lambda: qr.matrix(LINK),
    }
    pdf.render(japanese, LINK)
    medians = _measure(cases, rounds)
    base_wall, base_cpu = medians["bare page, same text, Helvetica"]
    print(f"receipts PDF benchmark, {rounds} rounds, medians per document")
    print(f"  first render incl. font parsing: {first_ms:.2f} ms")
    print(f"  {'case':36s} {'wall ms':>8s} {'ratio':>6s} {'cpu ms':>8s} {'ratio':>6s}")
    for name, (wall, cpu) in medians.items():
        print(f"  {name:36s} {wall:8.2f} {wall / base_wall:6.2f} {cpu:8.2f} {cpu / base_cpu:6.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
