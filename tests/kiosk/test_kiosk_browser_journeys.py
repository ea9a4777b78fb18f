"""The driver's journeys in Chromium on the whole real stack (kiosk_stack.py): the card terminal
simulator over loopback TCP, the CPO simulator over loopback HTTP, the engine's worker. Scenarios
are chosen on the simulators; the test does only what a driver does on the screen, and checks
the money on the terminal's journal."""

from __future__ import annotations

import re

import pytest
from kiosk_latency import PAGE_WEIGHTS, watch
from kiosk_pages import (
    LANDSCAPE,
    PAGE_BUDGET,
    PORTRAIT,
    arrive,
    choose,
    layout_problems,
    page_weight,
    pay,
    serious_violations,
    shown,
    start,
)
from kiosk_stack import KioskRig
from playwright.sync_api import Browser, Page

from kiosk_app.charging.states import FINAL, State

PREAUTHORISATION = "06 22"


def screen_problems(browser: Browser, page: Page) -> list:
    """axe-core in portrait, layout in both orientations, the page-weight budget."""
    problems = serious_violations(page) + layout_problems(page)
    page.set_viewport_size(LANDSCAPE)
    problems += serious_violations(page) + layout_problems(page)
    page.set_viewport_size(PORTRAIT)
    weight = page_weight(browser, page)
    PAGE_WEIGHTS.append((page.evaluate("document.body.dataset.screen"), weight))
    if weight > PAGE_BUDGET:
        problems.append(f"{weight} bytes: over the page-weight budget")
    return problems


def preauthorisations(kiosk: KioskRig) -> int:
    return kiosk.stack.terminal.received.count(PREAUTHORISATION)


def test_customer_cancels_on_the_kiosk_while_the_terminal_waits_for_the_card(browser, page, kiosk):
    kiosk.stack.terminal.push_scenario("no_card")  # the terminal waits for a card (30 s)
    choose(page, kiosk.base, "EVSE-3")
    ref = pay(page)
    cancel = page.locator(f'form[action$="/t/{ref}/cancel"] button')
    assert cancel.is_visible()
    assert screen_problems(browser, page) == []  # the pay screen, held by the terminal
    cancel.click()
    arrive(page, "finished")
    assert "Die Zahlung wurde abgebrochen." in page.inner_text("main")
    tx = kiosk.stack.settled(ref)
    assert tx.state in (State.ABORTED, State.DECLINED) and tx.reservation is None
    assert kiosk.stack.terminal.journal.open_reservations() == []


def test_customer_aborts_on_the_terminal(page, kiosk):
    kiosk.stack.terminal.push_scenario("customer_abort")
    choose(page, kiosk.base, "EVSE-3")
    page.click("#pay")
    arrive(page, "finished")
    assert "Die Zahlung wurde abgebrochen." in page.inner_text("main")
    assert kiosk.stack.tx(page.url.rsplit("/", 1)[-1]).reservation is None


def test_a_declined_card_is_explained_in_the_drivers_language(page, kiosk):
    kiosk.stack.terminal.push_scenario("decline")
    kiosk.stack.terminal.speed = 0
    start(page, kiosk.base, "sv")
    choose(page, kiosk.base, "EVSE-3")
    page.click("#pay")
    arrive(page, "finished")
    text = page.inner_text("main")
    assert "Inget har debiterats." in text and "Ditt kort nekades." in text
    assert "Försök med ett annat kort." in text
    assert "Reservationen" not in text  # no hold was placed, so none is mentioned


def test_start_rejected_releases_the_hold(page, kiosk):
    kiosk.stack.cpo.configure(command_response="REJECTED")
    kiosk.stack.terminal.speed = 0
    choose(page, kiosk.base, "EVSE-4")
    page.click("#pay")
    arrive(page, "finished")
    ref = page.url.rsplit("/", 1)[-1]
    text = page.inner_text("main")
    assert "Es wurde nichts abgebucht." in text
    assert "Der Ladepunkt ist nicht gestartet." in text
    tx = kiosk.stack.settled(ref)
    if "Die Reservierung auf Ihrer Karte wurde freigegeben." not in text:
        page.reload()  # the screen came while the release was on its way to the terminal
        assert "Die Reservierung auf Ihrer Karte wurde freigegeben." in page.inner_text("main")
    assert tx.state == State.RELEASED
    assert kiosk.stack.journal(tx.reservation.receipt_no).state == "released"


def test_car_never_plugged_in(browser, page, kiosk):
    kiosk.stack.cpo.configure(car_plugged_in=False)  # START accepted, no Session ever comes
    # Long enough for the checks of the held screen on a loaded machine.
    kiosk.charging(plugin_window_s=15)
    kiosk.stack.terminal.speed = 0
    choose(page, kiosk.base, "EVSE-4")
    page.click("#pay")
    arrive(page, "starting")
    shown(page, "#live", "Kabel")  # START accepted: plug in
    first = page.inner_text(".countdown")
    page.wait_for_function(
        "t => document.querySelector('.countdown').textContent !== t", arg=first, timeout=3000
    )
    assert screen_problems(browser, page) == []  # the starting screen, held by the CPO
    arrive(page, "finished")
    text = page.inner_text("main")
    assert "Innerhalb der vorgesehenen Zeit wurde kein Fahrzeug angeschlossen." in text
    tx = kiosk.stack.settled(page.url.rsplit("/", 1)[-1])
    assert tx.state == State.RELEASED and tx.failure == "no_plugin"
    assert kiosk.stack.journal(tx.reservation.receipt_no).state == "released"


def test_find_a_session_by_code_after_a_reset_and_stop_it(page, kiosk):
    kiosk.stack.terminal.speed = 0
    choose(page, kiosk.base, "EVSE-5")
    page.click("#pay")
    arrive(page, "charging")
    ref = page.url.rsplit("/", 1)[-1]
    code = page.inner_text(".code")
    page.click("#reset-form button")
    arrive(page, "start")
    page.click('a[href$="/find"]')
    arrive(page, "find")
    page.fill("#code", code.lower())
    page.click('form[action$="/find/code"] button')
    arrive(page, "charging")
    assert page.url.endswith(f"/t/{ref}")
    page.click(f'form[action$="/t/{ref}/stop"] button')
    arrive(page, "finished")
    tx = kiosk.stack.settled(ref)
    assert tx.state == State.RECEIPT_ISSUED and tx.captured_minor > 0


def test_find_a_session_by_presenting_the_same_card(page, kiosk):
    terminal = kiosk.stack.terminal
    terminal.speed = 0
    terminal.present_card("visa")
    choose(page, kiosk.base, "EVSE-5")
    page.click("#pay")
    arrive(page, "charging")
    ref = page.url.rsplit("/", 1)[-1]
    page.click("#reset-form button")
    arrive(page, "start")
    page.click('a[href$="/find"]')
    arrive(page, "find")
    reads = terminal.received.count("06 C0")
    terminal.present_card("girocard")  # another driver's card finds nothing
    page.click('form[action$="/find/card"] button')
    arrive(page, "find")
    assert page.locator('[role="alert"]').is_visible()
    terminal.present_card("visa")
    page.click('form[action$="/find/card"] button')
    arrive(page, "charging")
    assert page.url.endswith(f"/t/{ref}")
    assert terminal.received.count("06 C0") == reads + 2  # each tap read the card once


def test_a_wrong_code_is_explained(page, kiosk):
    page.goto(f"{kiosk.base}/find")
    page.fill("#code", "ZZZZ99")
    page.click('form[action$="/find/code"] button')
    arrive(page, "find")
    assert page.locator('[role="alert"]').is_visible()


# A short idle timeout, set once the test has reached the screen under test: a loaded machine
# must not let the screens on the way there time out first.
SHORT_IDLE_S = 2


def test_idle_timeout_in_the_middle_of_a_flow_forgets_the_driver(page, kiosk):
    start(page, kiosk.base, "sv")
    choose(page, kiosk.base, "EVSE-6")
    price_url = page.url
    ref = price_url.rsplit("/", 2)[-2]
    kiosk.kiosk_ui(idle_timeout_s=SHORT_IDLE_S)
    page.reload()
    assert "Pris och reservation" in page.inner_text("h1")
    # No touch for the idle timeout: back to the start, in the default language.
    page.wait_for_selector('body[data-screen="start"]', timeout=10_000)
    assert page.get_attribute("html", "lang") == "de"
    assert page.url == f"{kiosk.base}/"
    assert kiosk.stack.tx(ref).state == State.ABORTED  # the charge point is free again
    # Neither the back button nor the old address brings the previous driver's screen back.
    page.go_back()
    arrive(page, "start")
    page.goto(price_url)
    arrive(page, "start")


def test_touching_the_screen_postpones_the_idle_timeout(page, kiosk):
    choose(page, kiosk.base, "EVSE-6")
    kiosk.kiosk_ui(idle_timeout_s=SHORT_IDLE_S + 1)
    page.reload()
    for _ in range(3):
        page.wait_for_timeout(1000)
        page.mouse.click(5, 900)  # a touch on an empty part of the screen
    assert page.evaluate("document.body.dataset.screen") == "price"


def test_the_idle_timeout_never_interrupts_a_payment(page, kiosk):
    """The terminal is slower than the idle timeout between two prompts (card 2 s, PIN 3 s,
    host 2 s): the driver, busy at the terminal, keeps the pay screen and gets charging."""
    kiosk.stack.terminal.speed = 2.0
    watcher = watch(page)
    choose(page, kiosk.base, "EVSE-6")
    kiosk.kiosk_ui(idle_timeout_s=SHORT_IDLE_S)  # for the screens after the price screen
    ref = pay(page)
    tx = kiosk.stack.wait_state(ref, State.CHARGING, *FINAL, timeout=30)
    page.wait_for_timeout(100)  # the page's reports reach the test while it waits on Playwright
    screens = [what for what, _ in watcher.sightings if what.startswith("screen:")]
    assert tx.state == State.CHARGING
    assert "screen:start" not in screens[screens.index("screen:pay") :]
    arrive(page, "charging")  # where the driver learns the session code


def test_double_tap_on_pay_starts_one_payment(page, kiosk):
    kiosk.stack.terminal.speed = 0
    before = preauthorisations(kiosk)
    choose(page, kiosk.base, "EVSE-1")
    page.evaluate("() => { const b = document.getElementById('pay'); b.click(); b.click(); }")
    page.wait_for_url(re.compile(r".*/t/[0-9a-f]+$"))
    ref = page.url.rsplit("/", 1)[-1]
    kiosk.stack.wait_state(ref, State.CHARGING, timeout=30)
    assert preauthorisations(kiosk) == before + 1
    assert kiosk.open_references() == [ref]


def test_reload_and_back_never_duplicate_the_payment(page, kiosk):
    before = preauthorisations(kiosk)
    choose(page, kiosk.base, "EVSE-2")
    ref = pay(page)
    page.reload()
    arrive(page, "pay")
    page.go_back()  # to the price screen; paying again there is the same transaction
    arrive(page, "price")
    page.click("#pay")
    page.wait_for_url(f"{kiosk.base}/t/{ref}")
    kiosk.stack.wait_state(ref, State.CHARGING, timeout=30)
    assert preauthorisations(kiosk) == before + 1
    assert kiosk.open_references() == [ref]


def test_language_switch_keeps_the_screen(page, kiosk):
    page.goto(f"{kiosk.base}/evses")
    assert page.inner_text("h1") == "Ladepunkt wählen"
    page.click('header button[value="en"]')
    page.wait_for_selector('html[lang="en"]')
    assert page.url == f"{kiosk.base}/evses"
    assert page.inner_text("h1") == "Choose a charge point"
    page.click('header button[value="ja"]')
    page.wait_for_selector('html[lang="ja"]')
    assert page.inner_text("h1") == "充電器を選ぶ"


def test_keyboard_focus_is_visible(page, kiosk):
    page.goto(f"{kiosk.base}/")
    for _ in range(3):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; }"
        )
        assert style[0] in ("BUTTON", "A") and style[1] == "solid" and style[2] != "0px", style


@pytest.mark.parametrize("screen", ["start", "evses", "price"])
def test_larger_text_still_fits(page, kiosk, screen):
    if screen == "price":
        choose(page, kiosk.base, "EVSE-1")
    else:
        page.goto(f"{kiosk.base}/" + ("evses" if screen == "evses" else ""))
    page.evaluate("() => { document.documentElement.style.fontSize = '150%'; }")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") == 42
