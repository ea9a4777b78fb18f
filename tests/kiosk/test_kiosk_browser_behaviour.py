"""Kiosk behaviour in Chromium: languages, idle reset, double tap, live status, back and reload."""

from __future__ import annotations

import time

import pytest
from kiosk_fake_engine import HOLD, FakeEngine
from kiosk_pages import KIOSK, arrive
from playwright.sync_api import Page

from kiosk_app.kiosk.viewmodels import PaymentView

# How long a status change may take from the server to the screen (the budget).
STATUS_BUDGET_S = 1.0


def to_price(page: Page, base: str) -> None:
    page.goto(f"{base}{KIOSK}/evses")
    page.click(".tile--available button >> nth=0")
    arrive(page, "price")


def to_pay(page: Page, base: str, engine: FakeEngine) -> str:
    to_price(page, base)
    page.click("#pay")
    arrive(page, "pay")
    return list(engine.transactions)[-1]


def seconds_until_shown(page: Page, selector: str, text: str) -> float:
    started = time.monotonic()
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent ?? '').includes(t)",
        arg=[selector, text],
        timeout=5000,
    )
    return time.monotonic() - started


def test_language_switch_keeps_the_screen(page, live_server, engine):
    page.goto(f"{live_server}{KIOSK}/evses")
    assert page.inner_text("h1") == "Ladepunkt wählen"
    page.click('header button[value="en"]')
    page.wait_for_selector('html[lang="en"]')
    assert page.url == f"{live_server}{KIOSK}/evses"
    assert page.inner_text("h1") == "Choose a charge point"
    page.click('header button[value="ja"]')
    page.wait_for_selector('html[lang="ja"]')
    assert page.inner_text("h1") == "充電器を選ぶ"


@pytest.mark.parametrize("idle_timeout_s", [2])
def test_idle_timeout_in_the_middle_of_a_flow_forgets_the_driver(page, live_server, engine):
    page.goto(f"{live_server}{KIOSK}/")
    page.click('main button[value="sv"]')
    page.wait_for_selector('html[lang="sv"]')
    to_price(page, live_server)
    price_url = page.url
    assert "Pris och reservation" in page.inner_text("h1")
    # No touch for the idle timeout (2 s here): back to the start, in the default language.
    page.wait_for_selector('body[data-screen="start"]', timeout=6000)
    assert page.get_attribute("html", "lang") == "de"
    assert page.url == f"{live_server}{KIOSK}/"
    # Neither the back button nor the old address brings the previous driver's screen back.
    page.go_back()
    arrive(page, "start")
    page.goto(price_url)
    arrive(page, "start")


@pytest.mark.parametrize("idle_timeout_s", [2])
def test_touching_the_screen_postpones_the_idle_timeout(page, live_server, engine):
    to_price(page, live_server)
    for _ in range(3):
        time.sleep(1)
        page.mouse.click(5, 900)  # a touch on an empty part of the screen
    assert page.evaluate("document.body.dataset.screen") == "price"


def test_double_tap_on_pay_starts_one_payment(page, live_server, engine):
    to_price(page, live_server)
    page.evaluate("() => { const b = document.getElementById('pay'); b.click(); b.click(); }")
    arrive(page, "pay")
    assert engine.calls["pay"] == 1
    assert len(engine.transactions) == 1


def test_reload_and_back_never_duplicate_the_payment(page, live_server, engine):
    ref = to_pay(page, live_server, engine)
    page.reload()
    arrive(page, "pay")
    page.go_back()  # to the price screen; paying again there is the same transaction
    arrive(page, "price")
    page.click("#pay")
    arrive(page, "pay")
    assert page.url == f"{live_server}{KIOSK}/t/{ref}"
    assert list(engine.transactions) == [ref]
    assert engine.transactions[ref].view is not None


def test_terminal_prompts_are_announced_within_a_second(page, live_server, engine):
    ref = to_pay(page, live_server, engine)
    assert page.get_attribute("#live", "aria-live") == "polite"
    delays = []
    for key, text in [
        ("enter_pin", "Geben Sie Ihre PIN am Kartenterminal ein."),
        ("please_wait", "Bitte warten…"),
        ("remove_card", "Bitte entnehmen Sie Ihre Karte."),
    ]:
        engine.emit(ref, key)
        delays.append(seconds_until_shown(page, "#live", text))
    assert max(delays) < STATUS_BUDGET_S, delays


def test_session_start_and_new_kwh_show_within_a_second(page, live_server, engine):
    ref = to_pay(page, live_server, engine)
    started = time.monotonic()
    engine.show(ref, engine.starting(ref))
    arrive(page, "starting")
    engine.show(ref, engine.charging(ref, kwh="1.50"))
    arrive(page, "charging")
    assert time.monotonic() - started < 2 * STATUS_BUDGET_S
    assert page.inner_text('[data-field="energy"]') == "1,50"
    engine.show(ref, engine.charging(ref, kwh="2.75"))
    assert seconds_until_shown(page, '[data-field="energy"]', "2,75") < STATUS_BUDGET_S


def test_plug_in_countdown_runs(page, live_server, engine):
    ref = to_pay(page, live_server, engine)
    engine.show(ref, engine.starting(ref, seconds_left=90))
    arrive(page, "starting")
    first = page.inner_text(".countdown")
    assert first in ("1:30", "1:29", "1:28")
    page.wait_for_function(
        "t => document.querySelector('.countdown').textContent !== t", arg=first, timeout=3000
    )


def test_stop_from_the_kiosk(page, live_server, engine):
    ref = to_pay(page, live_server, engine)
    engine.show(ref, engine.charging(ref))
    arrive(page, "charging")
    with page.expect_navigation():
        page.click(f'form[action="{KIOSK}/t/{ref}/stop"] button')
    arrive(page, "charging")
    assert engine.calls["stop"] == 1
    assert seconds_until_shown(page, "#live", "Wird beendet…") < STATUS_BUDGET_S


def test_cancel_shows_only_while_the_terminal_allows_it(page, live_server, engine):
    ref = to_pay(page, live_server, engine)
    cancel = page.locator(f'form[action="{KIOSK}/t/{ref}/cancel"] button')
    assert cancel.is_visible()
    engine.show(ref, PaymentView(ref, 0, hold=HOLD, can_cancel=False))
    engine.emit(ref, "please_wait")
    cancel.wait_for(state="hidden", timeout=int(STATUS_BUDGET_S * 1000))


def test_customer_abort_on_the_pay_screen(page, live_server, engine):
    ref = to_pay(page, live_server, engine)
    page.click(f'form[action="{KIOSK}/t/{ref}/cancel"] button')
    arrive(page, "finished")
    assert "Die Zahlung wurde abgebrochen." in page.inner_text("main")
    assert engine.calls["cancel"] == 1


def test_find_a_session_by_code_after_a_reset(page, live_server, engine):
    ref = to_pay(page, live_server, engine)
    engine.show(ref, engine.charging(ref))
    arrive(page, "charging")
    page.click("#reset-form button")
    arrive(page, "start")
    page.click(f'a[href="{KIOSK}/find"]')
    page.fill("#code", "k7q4zp")
    page.click(f'form[action="{KIOSK}/find/code"] button')
    arrive(page, "charging")
    assert page.inner_text(".code") == "K7Q4ZP"


def test_a_declined_card_is_explained_in_the_drivers_language(page, live_server, engine):
    page.goto(f"{live_server}{KIOSK}/")
    page.click('main button[value="sv"]')
    page.wait_for_selector('html[lang="sv"]')
    ref = to_pay(page, live_server, engine)
    engine.show(ref, engine.failed(ref, "declined"))
    arrive(page, "finished")
    text = page.inner_text("main")
    assert "Inget har debiterats." in text and "Ditt kort nekades." in text
    assert "Försök med ett annat kort." in text
    assert "Reservationen" not in text  # no hold was placed, so none is mentioned


def test_find_a_session_by_card(page, live_server, engine):
    ref = to_pay(page, live_server, engine)
    engine.show(ref, engine.charging(ref))
    engine.card_ref = ref
    page.goto(f"{live_server}{KIOSK}/find")
    page.click(f'form[action="{KIOSK}/find/card"] button')
    arrive(page, "charging")
    assert page.url == f"{live_server}{KIOSK}/t/{ref}"


def test_car_never_plugged_in(page, live_server, engine):
    ref = to_pay(page, live_server, engine)
    engine.show(ref, engine.starting(ref, seconds_left=1))
    arrive(page, "starting")
    page.wait_for_function("document.querySelector('.countdown').textContent === '0:00'")
    engine.show(ref, engine.failed(ref, "no_plugin", hold_released=True))
    arrive(page, "finished")
    text = page.inner_text("main")
    assert "Innerhalb der vorgesehenen Zeit wurde kein Fahrzeug angeschlossen." in text
    assert "Die Reservierung auf Ihrer Karte wurde freigegeben." in text


def test_keyboard_focus_is_visible(page, live_server, engine):
    page.goto(f"{live_server}{KIOSK}/")
    for _ in range(3):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; }"
        )
        assert style[0] in ("BUTTON", "A") and style[1] == "solid" and style[2] != "0px", style


@pytest.mark.parametrize("screen", ["start", "evses", "price"])
def test_larger_text_still_fits(page, live_server, engine, screen):
    if screen == "price":
        to_price(page, live_server)
    else:
        page.goto(f"{live_server}{KIOSK}/" + ("evses" if screen == "evses" else ""))
    page.evaluate("() => { document.documentElement.style.fontSize = '150%'; }")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") == 42
