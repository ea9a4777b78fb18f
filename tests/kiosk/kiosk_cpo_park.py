"""A small charge park as a CPO pushes it to us (OCPI 2.2.1), and the real engine beside it.

The Location and Tariffs go through our real OCPI receiver endpoints (`push_park`); the
engine is the real `ChargingService` and `Runner` on the app's database, with the engine's own
test doubles (tests/charging/doubles.py) for the terminal, the CPO commands and receipts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ocpi_peer
from charging.doubles import (
    FlatPricing,
    ScriptedCpo,
    ScriptedReceipts,
    ScriptedTerminal,
    StaticDirectory,
)
from flask import Flask
from flask.testing import FlaskClient

from kiosk_app import charging
from kiosk_app.charging.ports import Ports
from kiosk_app.charging.runner import Runner
from kiosk_app.charging.service import ChargingService
from kiosk_app.charging.states import State

STAMP = "2026-11-21T10:00:00Z"
BASE = "/ocpi/emsp/2.2.1"
LOCATION_URL = f"{BASE}/locations/DE/SIM/PARK-1"


def _connector(standard: str, power_type: str, volts: int, amps: int, **extra: Any) -> dict:
    return {
        "id": "1",
        "standard": standard,
        "format": "CABLE" if power_type == "DC" else "SOCKET",
        "power_type": power_type,
        "max_voltage": volts,
        "max_amperage": amps,
        "last_updated": STAMP,
        **extra,
    }


def _evse(uid: str, ref: str, status: str, connector: dict[str, Any]) -> dict[str, Any]:
    return {
        "uid": uid,
        "evse_id": f"DE*SIM*E{uid[-1]}",
        "physical_reference": ref,
        "status": status,
        "connectors": [connector],
        "last_updated": STAMP,
    }


CCS = _connector(
    "IEC_62196_T2_COMBO", "DC", 920, 375, max_electric_power=150000, tariff_ids=["DC-FAST"]
)
TYPE2 = _connector("IEC_62196_T2", "AC_3_PHASE", 230, 32, tariff_ids=["AC-DAYNIGHT"])
LOCATION = {
    "country_code": "DE",
    "party_id": "SIM",
    "id": "PARK-1",
    "publish": True,
    "name": "Ladepark Musterstadt",
    "address": "Musterstraße 1",
    "city": "Berlin",
    "country": "DEU",
    "coordinates": {"latitude": "52.532100", "longitude": "13.384900"},
    "time_zone": "Europe/Berlin",
    "evses": [
        _evse("EVSE-1", "A1", "AVAILABLE", CCS),
        _evse("EVSE-2", "A2", "CHARGING", CCS),
        _evse("EVSE-3", "B1", "AVAILABLE", TYPE2),
        _evse("EVSE-4", "B2", "OUTOFORDER", TYPE2),
        # A tariff the CPO never sent: no price to show, so not for sale.
        _evse("EVSE-5", "C1", "AVAILABLE", {**TYPE2, "tariff_ids": ["MISSING"]}),
    ],
    "last_updated": STAMP,
}
TARIFFS = [
    {
        "country_code": "DE",
        "party_id": "SIM",
        "id": "DC-FAST",
        "currency": "EUR",
        "type": "AD_HOC_PAYMENT",
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": 0.50, "vat": 19, "step_size": 1}]},
            {"price_components": [{"type": "FLAT", "price": 1.00, "vat": 19, "step_size": 1}]},
        ],
        "last_updated": STAMP,
    },
    {
        "country_code": "DE",
        "party_id": "SIM",
        "id": "AC-DAYNIGHT",
        "currency": "EUR",
        "type": "AD_HOC_PAYMENT",
        "elements": [
            {
                "price_components": [{"type": "ENERGY", "price": 0.40, "vat": 19, "step_size": 1}],
                "restrictions": {"start_time": "22:00", "end_time": "06:00"},
            },
            {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 19, "step_size": 1}]},
        ],
        "last_updated": STAMP,
    },
]


def register_cpo(app: Flask) -> dict[str, str]:
    """A CPO registered with us (as after the credentials handshake); its request headers."""
    return ocpi_peer.register_cpo(
        app.extensions["kiosk.db"], "cpo-token-for-kiosk-tests", "DE", "SIM"
    )


def push_park(client: FlaskClient, headers: dict[str, str]) -> None:
    """The CPO pushes its tariffs and the location through our OCPI receiver."""
    for tariff in TARIFFS:
        answer = client.put(f"{BASE}/tariffs/DE/SIM/{tariff['id']}", json=tariff, headers=headers)
        assert answer.get_json()["status_code"] == 1000, answer.get_json()
    answer = client.put(LOCATION_URL, json=LOCATION, headers=headers)
    assert answer.get_json()["status_code"] == 1000, answer.get_json()


def push_status(client: FlaskClient, headers: dict[str, str], evse_uid: str, status: str) -> None:
    """An EVSE status PATCH, as the CPO sends when a car plugs in or leaves."""
    body = {"status": status, "last_updated": "2026-11-21T10:05:00Z"}
    answer = client.patch(f"{LOCATION_URL}/{evse_uid}", json=body, headers=headers)
    assert answer.get_json()["status_code"] == 1000, answer.get_json()


@dataclass
class RealEngine:
    """The real engine bound to the app, its ports' doubles, and a way to let it work."""

    service: ChargingService
    runner: Runner
    terminal: ScriptedTerminal
    cpo: ScriptedCpo
    directory: StaticDirectory
    receipts: ScriptedReceipts

    def work(self) -> None:
        """Perform every pending effect (terminal, CPO commands, receipts), as the worker does."""
        while self.runner.drain():
            pass

    def state(self, ref: str) -> State:
        return self.service.status(ref).state


def bind_engine(app: Flask, kiosk_id: str) -> RealEngine:
    terminal = ScriptedTerminal()
    ports = Ports(
        terminals={kiosk_id: terminal},
        cpo=ScriptedCpo(),
        pricing=FlatPricing(),
        directory=StaticDirectory(),
        receipts=ScriptedReceipts(),
    )
    runner = Runner(
        app.extensions["kiosk.db"], ports, card_salt="test-salt", worker_id="kiosk-tests"
    )

    def read_card(_kiosk_id: str, timeout_s: int) -> str | None:
        return terminal.read_card_reference(timeout_s)

    service = ChargingService(runner, app.config["KIOSK"], ports, read_card)
    app.extensions[charging.EXTENSION] = service
    return RealEngine(
        service,
        runner,
        terminal,
        ports.cpo,  # type: ignore[arg-type]
        ports.directory,  # type: ignore[arg-type]
        ports.receipts,  # type: ignore[arg-type]
    )
