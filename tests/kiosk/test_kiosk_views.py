"""The kiosk views through the Flask test client: languages, reset, errors, the status feed;
on the real engine with its port doubles where a transaction is involved (kiosk_cpo_park.py)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from kiosk_cpo_park import RealEngine
from kiosk_pages import KIOSK

from kiosk_app.charging.states import State
from kiosk_app.kiosk import data
from kiosk_app.models.charging import ChargingTransaction

START_TITLES = {
    "de": "Laden und mit Karte bezahlen",
    "en": "Charge your car and pay by card",
    "sv": "Ladda bilen och betala med kort",
    "ja": "充電してカードで支払う",
}


def choose(client, language: str, next_path: str = KIOSK + "/"):  # type: ignore[no-untyped-def]
    return client.post(KIOSK + "/language", data={"language": language, "next": next_path})


def test_start_screen_is_in_the_kiosk_default_language(client):
    response = client.get(KIOSK + "/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert START_TITLES["de"] in html
    assert response.headers["Content-Language"] == "de"
    assert 'href="/kiosk/park-1/find"' in html and 'href="/kiosk/park-1/evses"' in html


@pytest.mark.parametrize("language", sorted(START_TITLES))
def test_language_choice_sticks_for_the_driver(client, language):
    response = choose(client, language)
    assert response.status_code == 303
    assert response.location == KIOSK + "/"
    html = client.get(KIOSK + "/").get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    assert START_TITLES[language] in html
    # Every other language stays offered in its own name.
    for name in ("Deutsch", "English", "Svenska", "日本語"):
        assert name in html


def test_language_switch_returns_to_the_same_screen(client):
    response = choose(client, "sv", KIOSK + "/find")
    assert response.location == KIOSK + "/find"
    assert "Hitta min laddning" in client.get(KIOSK + "/find").get_data(as_text=True)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/kiosk/other/", "/healthz"]
)
def test_language_switch_never_leaves_this_kiosk(client, target):
    assert choose(client, "en", target).location == KIOSK + "/"


def test_unknown_language_is_a_clear_400(client):
    response = choose(client, "fr")
    assert response.status_code == 400
    assert "Das hat nicht geklappt." in response.get_data(as_text=True)
    assert '<html lang="de">' in client.get(KIOSK + "/").get_data(as_text=True)


def test_reset_forgets_the_language_and_the_transaction(client, real_engine: RealEngine):
    choose(client, "ja")
    ref = select(client)
    assert client.get(f"{KIOSK}/t/{ref}/price").status_code == 200
    response = client.post(KIOSK + "/reset")
    assert response.status_code == 303 and response.location == KIOSK + "/"
    assert START_TITLES["de"] in client.get(KIOSK + "/").get_data(as_text=True)
    # The previous driver's transaction is not reachable any more from this screen.
    response = client.get(f"{KIOSK}/t/{ref}/price")
    assert response.status_code == 302 and response.location == KIOSK + "/"


def test_unknown_kiosk_is_404_with_a_readable_page(client):
    response = client.get("/kiosk/nowhere/")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "This kiosk is not set up." in html
    assert "Traceback" not in html


@pytest.mark.parametrize(
    ("language", "text", "next_step"),
    [
        ("de", "Ihre Karte wurde abgelehnt.", "Bitte versuchen Sie eine andere Karte."),
        ("en", "Your card was declined.", "Please try another card."),
        ("sv", "Ditt kort nekades.", "Försök med ett annat kort."),
        ("ja", "カードが承認されませんでした。", "別のカードをお試しください。"),
    ],
)
def test_error_screen_explains_and_offers_the_next_step(client, language, text, next_step):
    choose(client, language)
    response = client.get(KIOSK + "/error/declined")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text in html and next_step in html
    assert "+49 30 1234567" in html  # the help phone number from the configuration


@pytest.mark.parametrize("path", ["/error/no_such_reason", "/no/such/page"])
def test_unknown_address_is_a_translated_404(client, path):
    response = client.get(KIOSK + path)
    assert response.status_code == 404
    assert "Diese Seite gibt es nicht." in response.get_data(as_text=True)


def test_kiosk_pages_are_not_cached_and_allow_no_inline_script(client):
    response = client.get(KIOSK + "/")
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    html = response.get_data(as_text=True)
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert " style=" not in html and "onclick" not in html


def test_assets_are_linked_by_version_and_kept_by_the_browser(client):
    html = client.get(KIOSK + "/").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/static/kiosk/kiosk\.(?:css|js)\?v=[0-9a-f]{12})"', html)
    assert len(links) == 2 and len({link.split("?v=")[1] for link in links}) == 1
    for link in links:
        response = client.get(link)
        assert response.status_code == 200
        assert response.cache_control.max_age == 365 * 24 * 3600
        response.close()


def test_an_engine_failure_shows_a_translated_page_not_a_traceback(client, caplog, monkeypatch):
    def broken(kiosk_id: str) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(data, "list_evses", broken)
    response = client.get(KIOSK + "/evses")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Bei uns ist ein Fehler aufgetreten." in html
    assert "Traceback" not in html and "database gone" not in html
    assert response.headers["X-Request-ID"] in html
    assert "kiosk view failed" in caplog.text


# --- a transaction on the real engine ------------------------------------------------------------


def select(client, uid: str = "EVSE-1") -> str:  # type: ignore[no-untyped-def]
    response = client.post(f"{KIOSK}/evses/{uid}")
    assert response.status_code == 303
    return response.location.rsplit("/", 2)[-2]


def transactions(app) -> int:  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(ChargingTransaction))


@pytest.mark.parametrize(
    ("language", "hold", "energy"),
    [
        ("de", "50,00\xa0€", "0,595\xa0€ pro kWh"),
        ("en", "€50.00", "€0.595 per kWh"),
        ("sv", "50,00\xa0€", "0,595\xa0€ per kWh"),
        ("ja", "€50.00", "1 kWhあたり€0.595"),
    ],
)
def test_price_screen_formats_money_for_the_locale(client, real_engine, language, hold, energy):
    choose(client, language)
    html = client.get(f"{KIOSK}/t/{select(client)}/price").get_data(as_text=True)
    assert hold in html
    assert energy in html


def test_pay_twice_leads_to_the_same_transaction(client, real_engine: RealEngine, app):
    ref = select(client)
    first = client.post(f"{KIOSK}/t/{ref}/pay")
    second = client.post(f"{KIOSK}/t/{ref}/pay")
    assert first.location == second.location == f"{KIOSK}/t/{ref}"
    assert transactions(app) == 1
    real_engine.work()
    assert real_engine.terminal.calls.count("preauthorise") == 1


def test_status_feed_sends_new_prompts_after_the_cursor(client, real_engine: RealEngine):
    real_engine.terminal.statuses = [(0x01, "enter_pin", "PIN eingeben")]
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    html = client.get(f"{KIOSK}/t/{ref}").get_data(as_text=True)
    assert "Stecken Sie Ihre Karte ein oder halten Sie sie an das Kartenterminal." in html
    cursor = int(re.search(r'data-cursor="(\d+)"', html).group(1))
    real_engine.work()
    first = client.get(f"{KIOSK}/t/{ref}/status?since={cursor}").get_json()
    assert first["screen"] == "starting" and first["cursor"] > cursor
    assert first["messages"] == [
        "Geben Sie Ihre PIN am Kartenterminal ein.",
        "Ladepunkt wird gestartet…",
    ]
    cursor = first["cursor"]
    assert client.get(f"{KIOSK}/t/{ref}/status?since={cursor}").get_json()["messages"] == []
    real_engine.service.on_command_result(ref, "START_SESSION", "ACCEPTED")
    real_engine.service.on_session(ref, "S-1", "ACTIVE", Decimal("12.34"), Decimal("9.43"))
    update = client.get(f"{KIOSK}/t/{ref}/status?since={cursor}").get_json()
    assert update["screen"] == "charging"
    assert update["fields"]["energy"] == "12,34" and update["fields"]["cost"] == "9,43\xa0€"
    assert update["flags"] == {"can_stop": True}
    assert update["url"] == f"{KIOSK}/t/{ref}"


def test_start_over_is_offered_only_where_the_idle_reset_is(client, real_engine: RealEngine):
    """Not while the driver pays or the charge starts: it would take their screen and session
    code away mid-way, as the idle reset would (both are paused there)."""

    def screen_and_start_over(ref: str) -> tuple[str, bool]:
        html = client.get(f"{KIOSK}/t/{ref}").get_data(as_text=True)
        form = re.search(r'<form id="reset-form"[^>]*>', html).group(0)
        return re.search(r'data-screen="(\w+)"', html).group(1), not form.endswith(" hidden>")

    ref = select(client)
    assert screen_and_start_over(ref) == ("price", True)
    client.post(f"{KIOSK}/t/{ref}/pay")
    assert screen_and_start_over(ref) == ("pay", False)
    real_engine.work()
    assert screen_and_start_over(ref) == ("starting", False)


def test_status_feed_rejects_a_bad_cursor(client, real_engine):
    ref = select(client)
    client.post(f"{KIOSK}/t/{ref}/pay")
    response = client.get(
        f"{KIOSK}/t/{ref}/status?since=-1", headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert "since" in response.get_json()["message"]


def test_status_of_someone_elses_transaction_is_404(client, real_engine, app):
    ref = select(client)
    client.post(KIOSK + "/reset")
    response = client.get(f"{KIOSK}/t/{ref}/status", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert real_engine.state(ref) == State.ABORTED  # the unpaid selection was cancelled


@pytest.mark.parametrize(("code", "status"), [("", 422), ("a b", 422), ("ZZZZZZ", 404)])
def test_find_by_code_refuses_clearly(client, real_engine, code, status):
    response = client.post(KIOSK + "/find/code", data={"code": code})
    assert response.status_code == status
    assert "Zu diesem Code gibt es keinen Ladevorgang." in response.get_data(as_text=True)
