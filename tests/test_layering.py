"""The libraries stay libraries: `payment_terminal` and `receipts` import neither Flask nor
kiosk_app, so they can be used (and tested) without the application."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk_app.config import REPO_ROOT

LIBRARIES = ["payment_terminal", "receipts"]
FORBIDDEN = {"flask", "kiosk_app", "werkzeug", "sqlalchemy"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("library", LIBRARIES)
def test_no_module_of_the_library_imports_the_application(library):
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_modules(path) & FORBIDDEN)
        for path in (REPO_ROOT / library).rglob("*.py")
        if imported_modules(path) & FORBIDDEN
    }
    assert offenders == {}


@pytest.mark.parametrize("library", LIBRARIES)
def test_importing_the_whole_library_loads_no_application_module(library):
    # Catches indirect imports too: walk every submodule in a clean interpreter.
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({library!r})\n"
        "for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {FORBIDDEN!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
