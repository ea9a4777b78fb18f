"""The happy path in Chromium on the real engine: the CPO's park pushed through our OCPI receiver,
the engine with its port doubles, the screens following it by polling."""

from __future__ import annotations

from decimal import Decimal

from charging.doubles import cdr
from kiosk_cpo_park import RealEngine
from kiosk_pages import KIOSK, arrive

from kiosk_app.charging.states import State


def test_happy_path_on_the_real_engine(page, live_server, real_engine: RealEngine):
    engine = real_engine
    page.goto(f"{live_server}{KIOSK}/")
    page.click(f'a[href="{KIOSK}/evses"]')
    arrive(page, "evses")
    assert page.locator("button.tile__button").count() == 2  # A1 and B1 are free and priced
    page.click(f'form[action="{KIOSK}/evses/EVSE-1"] button')
    arrive(page, "price")
    assert "Auf Ihrer Karte werden 50,00 EUR reserviert." in page.inner_text("main")
    page.click("#pay")
    arrive(page, "pay")
    ref = page.url.rsplit("/", 1)[-1]
    assert engine.state(ref) == State.AUTHORISING

    engine.work()  # the card is approved, START_SESSION accepted: the screen follows by itself
    arrive(page, "starting")
    engine.service.on_command_result(ref, "START_SESSION", "ACCEPTED")
    page.wait_for_function(
        "() => document.getElementById('live').textContent.includes('Kabel')", timeout=3000
    )
    engine.service.on_session(ref, "S-1", "ACTIVE", Decimal("3.2"), Decimal("2.90"))
    arrive(page, "charging")
    assert page.inner_text('[data-field="energy"]') == "3,20"
    engine.service.on_session(ref, "S-1", "ACTIVE", Decimal("7.5"), Decimal("5.46"))
    page.wait_for_function(
        "() => document.querySelector('[data-field=energy]').textContent === '7,50'",
        timeout=3000,
    )

    page.click(f'form[action="{KIOSK}/t/{ref}/stop"] button')
    page.locator('[data-flag="can_stop"]').wait_for(state="hidden", timeout=3000)
    assert engine.state(ref) == State.STOPPING
    engine.work()
    assert engine.cpo.calls[-1][0] == "STOP_SESSION"
    engine.service.on_session(ref, "S-1", "COMPLETED", Decimal("9"), Decimal("6.47"))
    engine.service.on_cdr(cdr(ref, "6.47", cdr_id="CDR-B1"))
    engine.work()
    assert engine.state(ref) == State.RECEIPT_ISSUED
    arrive(page, "finished")
    page.reload()  # the screen may have arrived while the amount was still being settled
    arrive(page, "finished")
    main = page.inner_text("main").replace("\xa0", " ")
    assert "6,47 €" in main and engine.receipts.issued[ref].link in main
    assert page.locator("svg.qr").count() == 1
