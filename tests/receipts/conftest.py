"""Fixtures for receipt tests: real PDF text extraction, font listing and rasterising (poppler).

Helpers are fixtures rather than an importable module: tests/ is not a package, and a module
named after this folder would shadow the `receipts` library.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def link() -> str:
    return "https://charge.example.com/r/Zm9vYmFyLXRva2VuLTEyOC1iaXRzLW1pbg"


@pytest.fixture
def pdf_text(tmp_path: Path) -> Callable[[bytes], str]:
    """`pdftotext -layout` of PDF bytes."""

    def extract(pdf: bytes) -> str:
        path = tmp_path / "text.pdf"
        path.write_bytes(pdf)
        return _run("pdftotext", "-layout", "-enc", "UTF-8", str(path), "-")

    return extract


@pytest.fixture
def pdf_fonts(tmp_path: Path) -> Callable[[bytes], list[list[str]]]:
    """Rows of `pdffonts`: name, type, encoding, emb, sub, uni, object id."""

    def fonts(pdf: bytes) -> list[list[str]]:
        path = tmp_path / "fonts.pdf"
        path.write_bytes(pdf)
        return [line.split() for line in _run("pdffonts", str(path)).splitlines()[2:]]

    return fonts


@pytest.fixture
def pdf_image(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The first page rendered by `pdftoppm` as a PIL image."""
    from PIL import Image

    def render(pdf: bytes, dpi: int = 150):  # type: ignore[no-untyped-def]
        path = tmp_path / "page.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", "1", "-l", "1", "-singlefile",
             str(path), str(tmp_path / "page")],
            check=True,
        )  # fmt: skip
        return Image.open(tmp_path / "page.png")

    return render


@pytest.fixture
def line_with() -> Callable[[str, str], str]:
    """The first extracted line that starts with `label` (layout mode keeps rows together)."""

    def find(text: str, label: str) -> str:
        for line in text.splitlines():
            if line.strip().startswith(label):
                return line
        raise AssertionError(f"no line starts with {label!r} in:\n{text}")

    return find


@pytest.fixture(scope="session")
def ocmf_examples() -> list[dict]:
    return json.loads((REFERENCE / "ocmf" / "ocmf_examples.json").read_text())
