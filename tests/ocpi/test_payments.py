"""OCPI 2.3.0 Payments, our PTP side: Terminals for our kiosks, Financial Advice
Confirmations posted to the CPO and served back."""

from __future__ import annotations

from decimal import Decimal

import requests
import sqlalchemy as sa

from kiosk_app.models.ocpi import OcpiFinancialAdvice
from kiosk_app.ocpi import objects, payments, transport

BASE = "/ocpi/ptp/2.3.0/payments"


def test_terminals_follow_our_kiosks(client, cpo_headers):  # type: ignore[no-untyped-def]
    listed = client.get(f"{BASE}/terminals", headers=cpo_headers)
    [terminal] = listed.get_json()["data"]
    assert terminal["terminal_id"] == "kiosk-1" and terminal["evse_uids"] == ["EVSE-1"]
    objects.parse_terminal(terminal)
    assert listed.headers["X-Total-Count"] == "1"


def test_cpo_assigns_updates_deactivates_and_activates(client, cpo_headers):  # type: ignore[no-untyped-def]
    url = f"{BASE}/terminals/KIOSK-1"  # CiString: any case
    patch = {"location_ids": ["PARK-1"], "evse_uids": ["EVSE-1", "EVSE-2"]}
    assert client.patch(url, json=patch, headers=cpo_headers).get_json()["data"][
        "location_ids"
    ] == ["PARK-1"]
    put = {"customer_reference": "OMV", "invoice_base_url": "https://cpo/inv/"}
    data = client.put(url, json=put, headers=cpo_headers).get_json()["data"]
    assert data["terminal_id"] == "kiosk-1" and data["evse_uids"] == ["EVSE-1", "EVSE-2"]
    assert data["invoice_base_url"] == "https://cpo/inv/"
    assert client.post(f"{url}/deactivate", headers=cpo_headers).status_code == 200
    activated = client.post(
        f"{BASE}/terminals/activate", json={"reference": "kiosk-1"}, headers=cpo_headers
    )
    assert activated.get_json()["data"]["terminal_id"] == "kiosk-1"
    bad = client.patch(url, json={"evse_uids": "EVSE-1"}, headers=cpo_headers).get_json()
    assert bad["status_code"] == 2001 and bad["status_message"].startswith("evse_uids")
    assert client.get(f"{BASE}/terminals/unknown", headers=cpo_headers).status_code == 404


def test_payments_exist_only_in_230(client, cpo_headers):  # type: ignore[no-untyped-def]
    assert client.get("/ocpi/ptp/2.2.1/payments/terminals", headers=cpo_headers).status_code == 404


def test_financial_advice_sent_to_cpo_and_served(registered, sim, live_app):  # type: ignore[no-untyped-def]
    with registered.database.session() as db:
        fac = payments.create_financial_advice(
            db,
            "TX-0001",
            Decimal("11.90"),
            Decimal("10.00"),
            "EUR",
            ["AUTH 123456", "TID 52500038", "VISA ****1234"],
            "SUCCESS",
        )
        db.commit()
    assert fac["total_costs"] == {"before_taxes": 10, "taxes": [{"name": "VAT", "amount": 1.9}]}
    registered.send_financial_advice(fac["id"])
    [posted] = [b for m, p, b in sim.received if p.endswith("/financial-advice-confirmations")]
    assert posted["authorization_reference"] == "TX-0001"
    objects.parse_financial_advice(posted)
    with registered.database.session() as db:
        assert db.scalar(sa.select(OcpiFinancialAdvice.sent_status)) == "sent"

    # The CPO can read it back from us, with the token we gave it.
    token = sim.registration.token_for_them
    headers = transport.request_headers(token=token, version="2.3.0", encoding="auto")
    got = requests.get(
        f"{live_app.url}{BASE}/financial-advice-confirmations/{fac['id']}",
        headers=headers,
        timeout=5,
    )
    assert got.json()["data"]["id"] == fac["id"]
