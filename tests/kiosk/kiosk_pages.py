"""Helpers of the browser tests: the kiosk's screen sizes, the steps of a journey, page weight,
accessibility and touch-target checks."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

KIOSK = "/kiosk/park-1"
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
# The budget: a kiosk page with its assets.
PAGE_BUDGET = 150 * 1024
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

# The happy path, in order, then the other screens every language is shown in.
HAPPY_PATH = ["start", "evses", "price", "pay", "starting", "charging", "finished"]
SCREENS = [*HAPPY_PATH, "failed", "find", "error"]
# How long a journey may wait for the next screen: the simulators' paces, on a loaded machine.
SCREEN_TIMEOUT_MS = 20_000


def arrive(page: Page, screen: str) -> None:
    page.wait_for_selector(f'body[data-screen="{screen}"]', timeout=SCREEN_TIMEOUT_MS)


def shown(page: Page, selector: str, text: str) -> None:
    """Wait until the element's text contains `text`."""
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent ?? '').includes(t)",
        arg=[selector, text],
        timeout=SCREEN_TIMEOUT_MS,
    )


def start(page: Page, base: str, language: str = "de") -> None:
    """The start screen in `language` (de is the kiosk's default)."""
    page.goto(base + "/")
    arrive(page, "start")
    if language != "de":
        page.click(f'main button[name="language"][value="{language}"]')
        page.wait_for_selector(f'html[lang="{language}"]')


def choose(page: Page, base: str, evse: str = "EVSE-1") -> None:
    """From anywhere to the price screen of `evse`."""
    page.goto(f"{base}/evses")
    arrive(page, "evses")
    page.click(f'form[action$="/evses/{evse}"] button')
    arrive(page, "price")


def pay(page: Page) -> str:
    """Tap "pay" on the price screen; the transaction's reference."""
    page.click("#pay")
    arrive(page, "pay")
    return page.url.rsplit("/", 1)[-1]


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
