"""Helpers of the browser tests: the kiosk's screen sizes, a walk through every screen with the
scripted engine moving the transaction along, page weight, accessibility and touch-target checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from kiosk_fake_engine import FakeEngine
from playwright.sync_api import Browser, Page

KIOSK = "/kiosk/park-1"
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
# Page weight: the document and its assets; the status polls are traffic, not page weight.
PAGE_WEIGHT_JS = """() => performance.getEntries()
  .filter(e => e.entryType === "navigation" ||
               (e.entryType === "resource" && e.initiatorType !== "fetch"))
  .reduce((sum, e) => sum + e.transferSize, 0)"""
# Interactive elements smaller than 48×48 CSS px, and whether the page scrolls sideways.
SMALL_TARGETS_JS = """() => [...document.querySelectorAll("a, button, input, [aria-disabled]")]
  .filter(e => e.offsetParent !== null)
  .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
  .filter(([, r]) => r.width < 48 || r.height < 48)
  .map(([html]) => html)"""
OVERFLOW_JS = "() => document.documentElement.scrollWidth > window.innerWidth"
# Controls whose text spills out of their box.
SPILLING_JS = """() => [...document.querySelectorAll("a, button, .tile__button")]
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.outerHTML.slice(0, 80))"""

# The happy path, in order; the walk goes on with the other screens afterwards.
HAPPY_PATH = ["start", "evses", "price", "pay", "starting", "charging", "finished"]
SCREENS = [*HAPPY_PATH, "failed", "find", "error"]


def arrive(page: Page, screen: str) -> None:
    page.wait_for_selector(f'body[data-screen="{screen}"]', timeout=5000)


def walk(page: Page, base: str, engine: FakeEngine, language: str) -> Iterator[str]:
    """Visit every screen of SCREENS in `language`; yields each screen's name on arrival."""
    page.goto(base + KIOSK + "/")
    if language != "de":  # de is the kiosk's default
        page.click(f'main button[name="language"][value="{language}"]')
        page.wait_for_selector(f'html[lang="{language}"]')
    yield "start"
    page.click(f'a[href="{KIOSK}/evses"]')
    arrive(page, "evses")
    yield "evses"
    page.click(".tile--available button >> nth=0")
    arrive(page, "price")
    yield "price"
    page.click("#pay")
    arrive(page, "pay")
    ref = list(engine.transactions)[-1]
    before = page.inner_text("#live")
    engine.emit(ref, "enter_pin")
    page.wait_for_function("t => document.getElementById('live').textContent !== t", arg=before)
    yield "pay"
    engine.show(ref, engine.starting(ref))
    engine.emit(ref, "plug_in")
    arrive(page, "starting")
    yield "starting"
    engine.show(ref, engine.charging(ref))
    engine.emit(ref, "charging")
    arrive(page, "charging")
    yield "charging"
    engine.show(ref, engine.finished(ref))
    arrive(page, "finished")
    yield "finished"
    page.goto(f"{base}{KIOSK}/evses")
    page.click(".tile--available button >> nth=1")
    arrive(page, "price")
    page.click("#pay")
    arrive(page, "pay")
    ref = list(engine.transactions)[-1]
    engine.show(ref, engine.failed(ref, "start_rejected", hold_released=True))
    arrive(page, "finished")
    yield "failed"
    page.goto(f"{base}{KIOSK}/find")
    yield "find"
    page.goto(f"{base}{KIOSK}/error/declined")
    yield "error"


def page_weight(browser: Browser, page: Page) -> int:
    """Bytes of the current page with its assets, loaded afresh: same cookies, empty cache."""
    context = browser.new_context(storage_state=page.context.storage_state())
    fresh = context.new_page()
    fresh.goto(page.url, wait_until="load")
    weight = int(fresh.evaluate(PAGE_WEIGHT_JS))
    context.close()
    return weight


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the current page."""
    results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]]}
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def layout_problems(page: Page) -> list[str]:
    """Touch targets under 48 px, text spilling out of controls, and sideways scrolling."""
    problems = [f"small target: {html}" for html in page.evaluate(SMALL_TARGETS_JS)]
    problems += [f"text spills out: {html}" for html in page.evaluate(SPILLING_JS)]
    if page.evaluate(OVERFLOW_JS):
        problems.append("the page scrolls sideways")
    return problems
