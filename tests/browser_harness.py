"""Browser-test harness, shared by every suite that drives a real browser (operator, kiosk).

- `live_server`: the test's app served on a real loopback port by a werkzeug server thread.
- `browser`: Debian's Chromium (/usr/bin/chromium) through Playwright, one per session;
  Playwright's own browser downloads are never used.
- `page`: a fresh browser context (cookies, storage) per test, on the live server's base URL;
  `console_errors` collects what the page logs as an error (CSP refusals among them).
- `check_accessibility(page)`: runs axe-core in the page and fails on serious or critical
  violations, listing them.

axe-core comes from the PyPI package `axe-playwright-python`, which bundles `axe.min.js`: it
installs with the rest of the test extra (`make test` on a fresh machine needs nothing else,
no Node.js), and its version is pinned by the Python dependency. We inject the script
ourselves through Playwright, so the package's own Python API is not relied upon.

A missing Chromium, Playwright or axe-core fails the suite with what to install: never a skip.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_PACKAGE = "axe_playwright_python"
# What axe checks: WCAG 2.0 to 2.2, levels A and AA, plus its best practices.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
}
BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium, launched once per test session."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"browser tests need Chromium at {CHROMIUM}: install the Debian package "
            "`chromium` (`make system-deps` does it as root)",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "browser tests need Playwright: install the test extra (`make .venv/.test-stamp`)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the page reported (console errors, uncaught exceptions) during the test."""
    return []


@pytest.fixture
def page(browser, live_server: str, console_errors: list[str]) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A page in a browser context of its own, with relative URLs going to the live server."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The text of axe.min.js from the bundling PyPI package."""
    try:
        return (resources.files(AXE_PACKAGE) / "axe.min.js").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        pytest.fail(
            f"browser tests need axe-core: install the test extra, which brings {AXE_PACKAGE} "
            "(`make .venv/.test-stamp`)",
            pytrace=False,
        )


@pytest.fixture
def check_accessibility(axe_source: str) -> Callable[[Any], list[dict[str, Any]]]:
    """A function that runs axe-core on a page and fails the test on serious or critical
    violations; it returns every violation found (of any impact) for further checks."""

    def check(page: Any) -> list[dict[str, Any]]:
        # Runtime evaluation through the DevTools protocol is not subject to the page's CSP.
        page.evaluate(axe_source)
        results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"axe-core on {page.url}:\n" + "\n".join(
            f"- {v['impact']} {v['id']}: {v['help']} at "
            + ", ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:5])
            for v in blocking
        )
        return results["violations"]

    return check
