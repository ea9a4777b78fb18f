"""The kiosk views on the real engine: the CPO's park arrives through our OCPI receiver, the
engine (`ChargingService`, `Runner`) runs on the app's database with its port doubles, and the
driver's requests go through the Flask test client."""

from __future__ import annotations

import dataclasses
import os
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from charging.doubles import cdr
from kiosk_cpo_park import BASE, TARIFFS, RealEngine, push_status
from kiosk_pages import KIOSK

from kiosk_app.charging.events import CommandResult
from kiosk_app.charging.states import State
from kiosk_app.kiosk import data
from kiosk_app.models.charging import ChargingTransaction


@pytest.fixture(
    params=["sqlite", "postgresql"] if os.environ.get("KIOSK_TEST_DATABASE_URL") else ["sqlite"]
)
def backend(request: pytest.FixtureRequest) -> str:
    """These views query the OCPI and engine tables: both database backends."""
    return request.param


def text(response) -> str:  # type: ignore[no-untyped-def]
    """The visible words of a page, whitespace collapsed."""
    html = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.replace("&nbsp;", " ").replace("\xa0", " "))


def select(client, uid: str = "EVSE-1") -> str:  # type: ignore[no-untyped-def]
    response = client.post(f"{KIOSK}/evses/{uid}")
    assert response.status_code == 303, text(response)
    assert response.location.endswith("/price")
    return response.location.rsplit("/", 2)[-2]


def occupying(app, uid: str) -> list[str]:  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as db:
        return list(
            db.scalars(
                sa.select(ChargingTransaction.state).where(
                    ChargingTransaction.evse_uid == uid, ChargingTransaction.occupies_evse
                )
            )
        )


# --- choose a charge point -----------------------------------------------------------------------


def test_choose_screen_shows_the_cpos_evses_with_status_connector_power_and_price(
    client, real_engine: RealEngine
):
    response = client.get(KIOSK + "/evses")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text(response)
    # Every EVSE the CPO sent (the kiosk lists none, so it serves all), in uid order.
    assert [m for m in re.findall(r"tile__label\">([^<]+)<", html)] == [
        "A1",
        "A2",
        "B1",
        "B2",
        "C1",
    ]
    # Only the free ones with a known price are buttons: A1 and B1.
    assert html.count('class="tile__button"') == 2
    assert f'action="{KIOSK}/evses/EVSE-1"' in html and f'action="{KIOSK}/evses/EVSE-3"' in html
    assert "CCS · bis 150 kW" in page and "Type 2 · bis 22,1 kW" in page
    # 0.50 + 19 % VAT per kWh and 1.00 + 19 % per session; the night price is a condition.
    assert "0,595 € pro kWh · 1,19 € pro Ladevorgang" in page
    assert "0,357 € pro kWh" in page
    assert page.count("Belegt") == 1 and page.count("Außer Betrieb") == 2


def test_a_status_push_from_the_cpo_shows_on_the_next_view(client, real_engine, cpo_headers):
    push_status(client, cpo_headers, "EVSE-1", "CHARGING")
    html = client.get(KIOSK + "/evses").get_data(as_text=True)
    assert f'action="{KIOSK}/evses/EVSE-1"' not in html
    assert html.count('class="tile__button"') == 1


def test_a_kiosk_serves_only_its_listed_evses_in_its_order(app, real_engine: RealEngine):
    kiosk = dataclasses.replace(app.config["KIOSK"].kiosks[0], evses=["evse-3", "EVSE-1"])
    app.config["KIOSK"] = dataclasses.replace(app.config["KIOSK"], kiosks=[kiosk])
    with app.test_request_context():
        tiles = data.list_evses("park-1")
    assert [(t.uid, t.label, t.status) for t in tiles] == [
        ("evse-3", "B1", "available"),
        ("EVSE-1", "A1", "available"),
    ]
    assert tiles[1].price.per_kwh == Decimal("0.595")
    assert tiles[1].max_power_kw == Decimal(150)


def test_an_evse_paid_for_but_not_yet_charging_is_shown_reserved(client, real_engine, app):
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    other = app.test_client()
    html = other.get(KIOSK + "/evses").get_data(as_text=True)
    assert f'action="{KIOSK}/evses/EVSE-1"' not in html
    assert "Reserviert" in text(other.get(KIOSK + "/evses"))


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uid", "why"),
    [
        ("EVSE-2", "Dieser Ladepunkt ist nicht mehr frei."),  # the CPO says CHARGING
        ("EVSE-5", "Dieser Ladepunkt ist nicht mehr frei."),  # no price known
        ("EVSE-9", "Dieser Ladepunkt kann an diesem Terminal nicht gewählt werden."),
    ],
)
def test_an_evse_that_cannot_be_chosen_gets_a_translated_refusal(client, real_engine, uid, why):
    response = client.post(f"{KIOSK}/evses/{uid}")
    assert response.status_code == 409
    assert why in text(response)
    assert "Bitte wählen Sie einen anderen Ladepunkt." in text(response)


def test_the_engine_refusing_a_busy_evse_is_a_translated_refusal(client, real_engine):
    real_engine.directory.unavailable.add("EVSE-1")
    response = client.post(f"{KIOSK}/evses/EVSE-1")
    assert response.status_code == 409
    assert "Dieser Ladepunkt ist nicht mehr frei." in text(response)


def test_an_evse_another_driver_is_paying_for_is_refused(client, real_engine, app):
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    response = app.test_client().post(f"{KIOSK}/evses/EVSE-1")
    assert response.status_code == 409
    assert occupying(app, "EVSE-1") == ["AUTHORISING"]


# --- price and hold ------------------------------------------------------------------------------


def test_price_screen_shows_the_afir_price_and_explains_the_hold(client, real_engine):
    ref = select(client, "EVSE-3")
    page = text(client.get(f"{KIOSK}/t/{ref}/price"))
    assert "50,00 €" in page  # the configured default hold
    assert "Auf Ihrer Karte werden 50,00 EUR reserviert." in page  # pricing.explain_hold
    # The night price is a condition the one line leaves out: spelled out in full.
    assert "22:00" in page and "06:00" in page
    client.post(KIOSK + "/language", data={"language": "en", "next": f"{KIOSK}/t/{ref}/price"})
    page = text(client.get(f"{KIOSK}/t/{ref}/price"))
    assert "50.00 EUR will be reserved on your card." in page


def test_an_unpaid_transaction_shows_its_price_screen(client, real_engine):
    ref = select(client)
    assert 'data-screen="price"' in client.get(f"{KIOSK}/t/{ref}").get_data(as_text=True)
    feed = client.get(f"{KIOSK}/t/{ref}/status?since=0", headers={"Accept": "application/json"})
    assert feed.get_json()["screen"] == "price"


def test_a_tariff_without_tax_rates_is_not_claimed_to_include_vat(client, real_engine, cpo_headers):
    tariff = {**TARIFFS[0], "last_updated": "2026-11-21T11:00:00Z"}
    tariff["elements"] = [
        {"price_components": [{"type": "ENERGY", "price": 0.45, "step_size": 1}]},
    ]
    answer = client.put(f"{BASE}/tariffs/DE/SIM/DC-FAST", json=tariff, headers=cpo_headers)
    assert answer.get_json()["status_code"] == 1000
    page = text(client.get(f"{KIOSK}/t/{select(client)}/price"))
    assert "0,45 € pro kWh" in page
    assert "Der Ladepark hat nicht angegeben, ob diese Preise die Mehrwertsteuer enthalten." in page
    assert "Alle Preise inkl." not in page


# --- going back, walking away --------------------------------------------------------------------


def test_back_on_the_price_screen_cancels_the_selection_and_frees_the_evse(
    client, real_engine: RealEngine, app
):
    ref = select(client)
    assert occupying(app, "EVSE-1") == ["SELECTED"]
    response = client.post(f"{KIOSK}/t/{ref}/back")
    assert response.status_code == 303 and response.location.endswith("/evses")
    assert real_engine.state(ref) == State.ABORTED
    assert occupying(app, "EVSE-1") == []
    assert real_engine.terminal.calls == []  # nothing was ever asked of the card terminal


def test_idle_reset_cancels_an_unpaid_selection(client, real_engine: RealEngine, app):
    ref = select(client)
    client.post(KIOSK + "/reset")
    assert real_engine.state(ref) == State.ABORTED
    assert occupying(app, "EVSE-1") == []


def test_idle_reset_leaves_a_paid_transaction_running(client, real_engine: RealEngine):
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    real_engine.work()
    client.post(KIOSK + "/reset")
    assert real_engine.state(ref) == State.STARTING
    assert real_engine.terminal.calls == ["preauthorise"]


def test_a_stale_back_after_paying_changes_nothing(client, real_engine: RealEngine):
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    client.post(f"{KIOSK}/t/{ref}/back")
    assert real_engine.state(ref) == State.AUTHORISING


# --- the whole journey ---------------------------------------------------------------------------


def test_happy_path_from_choice_to_receipt(client, real_engine: RealEngine):
    engine = real_engine
    ref = select(client)
    assert client.post(f"{KIOSK}/t/{ref}/pay").status_code == 303
    assert client.post(f"{KIOSK}/t/{ref}/pay").status_code == 303  # a double tap
    page = client.get(f"{KIOSK}/t/{ref}")
    assert 'data-screen="pay"' in page.get_data(as_text=True)

    engine.work()  # the terminal approves (with a prompt), START_SESSION is accepted
    assert engine.terminal.calls == ["preauthorise"]
    assert [c[0] for c in engine.cpo.calls] == ["START_SESSION"]
    feed = client.get(f"{KIOSK}/t/{ref}/status?since=0", headers={"Accept": "application/json"})
    answer = feed.get_json()
    assert answer["screen"] == "starting"
    assert answer["messages"] == [
        "Stecken Sie Ihre Karte ein oder halten Sie sie an das Kartenterminal.",
        "Ladepunkt wird gestartet…",
    ]
    cursor = answer["cursor"]

    engine.service.on_command_result(ref, "START_SESSION", "ACCEPTED")
    page = text(client.get(f"{KIOSK}/t/{ref}"))
    assert "Fahrzeug anschließen" in page and "A1" in page

    engine.service.on_session(
        ref, "S-1", "ACTIVE", Decimal("12.5"), Decimal("7.25"), power_kw=Decimal("48")
    )
    answer = client.get(
        f"{KIOSK}/t/{ref}/status?since={cursor}", headers={"Accept": "application/json"}
    ).get_json()
    assert answer["screen"] == "charging"
    # Only what is new since the cursor: the plug-in request, then the start.
    assert answer["messages"] == [
        "Stecken Sie das Kabel in Ihr Fahrzeug.",
        "Der Ladevorgang hat begonnen.",
    ]
    fields = {k: v.replace("\xa0", " ") for k, v in answer["fields"].items()}
    assert fields["energy"] == "12,50"
    assert fields["cost"] == "7,25 €"
    assert fields["hold_remaining"] == "42,75 €"
    assert fields["power"] == "48 kW"
    assert answer["flags"] == {"can_stop": True}
    engine.service.on_session(ref, "S-1", "ACTIVE", Decimal("13"), Decimal("7.50"))
    answer = client.get(
        f"{KIOSK}/t/{ref}/status?since={cursor}", headers={"Accept": "application/json"}
    ).get_json()
    assert answer["fields"]["power"] == "–"  # a push without power shows no made-up figure
    html = client.get(f"{KIOSK}/t/{ref}").get_data(as_text=True)
    code = re.search(r'class="code">([A-Z0-9]+)<', html).group(1)  # type: ignore[union-attr]
    assert code == engine.service.status(ref).session_code

    assert client.post(f"{KIOSK}/t/{ref}/stop").status_code == 303
    client.post(f"{KIOSK}/t/{ref}/stop")  # a double tap
    engine.work()
    assert [c[0] for c in engine.cpo.calls] == ["START_SESSION", "STOP_SESSION"]
    answer = client.get(
        f"{KIOSK}/t/{ref}/status?since=0", headers={"Accept": "application/json"}
    ).get_json()
    assert answer["flags"] == {"can_stop": False}

    engine.service.on_session(ref, "S-1", "COMPLETED", Decimal("20"), Decimal("11.90"))
    page = text(client.get(f"{KIOSK}/t/{ref}"))
    assert "Der Ladepark berechnet gerade den Endbetrag." in page  # no CDR yet

    engine.service.on_cdr(cdr(ref, "11.90", cdr_id="CDR-1"))
    engine.work()  # capture, then the receipt
    assert engine.state(ref) == State.RECEIPT_ISSUED
    response = client.get(f"{KIOSK}/t/{ref}")
    page = text(response)
    assert "Laden beendet" in page and "11,90 €" in page and "20,00 kWh" in page
    link = engine.receipts.issued[ref].link
    assert link in response.get_data(as_text=True) and "<svg" in response.get_data(as_text=True)
    assert [h.captured_minor for h in engine.terminal.journal.values()] == [1190]


def test_terminal_statuses_read_as_prompts_in_the_drivers_language(client, real_engine):
    real_engine.terminal.statuses = [
        (0x15, "incorrect_pin", "PIN FALSCH"),
        (0x4A, "insert_card+remove_card", ""),
        (0x12, "system_malfunction", ""),  # no prompt of its own on the kiosk
    ]
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    real_engine.work()
    feed = client.get(f"{KIOSK}/t/{ref}/status?since=0", headers={"Accept": "application/json"})
    assert feed.get_json()["messages"] == [
        "Falsche PIN. Bitte geben Sie Ihre PIN erneut ein.",
        "Bitte entnehmen Sie Ihre Karte.",
        "Bitte folgen Sie den Anweisungen am Kartenterminal.",
        "Ladepunkt wird gestartet…",
    ]


def test_declined_card_says_why_and_that_nothing_was_held(client, real_engine: RealEngine):
    real_engine.terminal.script = ["decline"]
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    real_engine.work()
    page = text(client.get(f"{KIOSK}/t/{ref}"))
    assert "Der Betrag konnte auf Ihrer Karte nicht reserviert werden." in page
    assert "Es wurde nichts abgebucht." in page
    assert "Die Reservierung auf Ihrer Karte wurde freigegeben." not in page


def test_customer_abort_on_the_terminal(client, real_engine: RealEngine):
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    client.post(f"{KIOSK}/t/{ref}/cancel")
    real_engine.terminal.script = ["abort"]
    real_engine.work()
    assert real_engine.state(ref) == State.ABORTED
    assert "Die Zahlung wurde abgebrochen." in text(client.get(f"{KIOSK}/t/{ref}"))


def test_start_rejected_releases_the_hold_and_says_so(client, real_engine: RealEngine):
    real_engine.cpo.start_answers = [CommandResult.REJECTED]
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    real_engine.work()
    assert real_engine.state(ref) == State.RELEASED
    page = text(client.get(f"{KIOSK}/t/{ref}"))
    assert "Der Ladepunkt ist nicht gestartet." in page
    assert "Die Reservierung auf Ihrer Karte wurde freigegeben." in page
    assert [h.status for h in real_engine.terminal.journal.values()] == ["released"]


# --- find my session -----------------------------------------------------------------------------


def charging_ref(client, engine: RealEngine) -> str:  # type: ignore[no-untyped-def]
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    engine.work()
    engine.service.on_command_result(ref, "START_SESSION", "ACCEPTED")
    engine.service.on_session(ref, "S-1", "ACTIVE", Decimal(1), Decimal("0.60"))
    return ref


def test_find_a_session_by_its_code_after_a_reset(client, real_engine: RealEngine):
    ref = charging_ref(client, real_engine)
    code = real_engine.service.status(ref).session_code
    client.post(KIOSK + "/reset")
    assert real_engine.state(ref) == State.CHARGING  # the reset did not touch it
    response = client.post(KIOSK + "/find/code", data={"code": code.lower()})
    assert response.status_code == 303 and response.location.endswith(f"/t/{ref}")
    assert "Laden beenden" in text(client.get(f"{KIOSK}/t/{ref}"))
    assert client.post(KIOSK + "/find/code", data={"code": "ZZZZZZ"}).status_code == 404


def test_find_a_session_by_presenting_the_card_again(client, real_engine: RealEngine, app):
    ref = charging_ref(client, real_engine)
    other = app.test_client()
    response = other.post(KIOSK + "/find/card")
    assert response.status_code == 303 and response.location.endswith(f"/t/{ref}")
    real_engine.terminal.card_reference = "another-card"
    assert app.test_client().post(KIOSK + "/find/card").status_code == 404


def test_an_unknown_transaction_reads_as_no_longer_active(client, real_engine, app):
    with client.session_transaction() as session:
        session["kiosk"] = {"id": "park-1", "ref": "f" * 32}
    response = client.get(f"{KIOSK}/t/{'f' * 32}")
    assert response.status_code == 409
    assert "Dieser Ladevorgang ist nicht mehr aktiv." in text(response)
    feed = client.get(f"{KIOSK}/t/{'f' * 32}/status", headers={"Accept": "application/json"})
    assert (feed.status_code, feed.get_json()) == (404, {"error": "session_invalid"})
