"""The simulated charge park: Location and Tariff documents from the JSON fixture, and the
simulator's own (deliberately simple) price calculation for the Sessions and CDRs it sends."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from kiosk_app.ocpi.envelope import format_datetime

DEFAULT_FIXTURE = Path(__file__).with_name("park.json")


@dataclass(frozen=True)
class EvseSpec:
    uid: str
    evse_id: str
    power_kw: Decimal
    tariff_id: str
    connector_id: str
    connector: dict[str, Any]


class Park:
    """The fixture, as OCPI documents stamped with `since` as last_updated."""

    def __init__(self, fixture: Path | None, since: datetime) -> None:
        raw = json.loads((fixture or DEFAULT_FIXTURE).read_text())
        self.country_code: str = raw["country_code"]
        self.party_id: str = raw["party_id"]
        self.business_name: str = raw["business_name"]
        stamp = format_datetime(since)
        self.evses: dict[str, EvseSpec] = {}
        location = copy.deepcopy(raw["location"])
        location |= {"country_code": self.country_code, "party_id": self.party_id}
        location["evses"] = []
        for item in raw["evses"]:
            kind = raw["evse_types"][item["type"]]
            connector = {
                "id": "1",
                **kind["connector"],
                "tariff_ids": [kind["tariff_id"]],
                "last_updated": stamp,
            }
            location["evses"].append(
                {
                    "uid": item["uid"],
                    "evse_id": item["evse_id"],
                    "physical_reference": item["physical_reference"],
                    "status": "AVAILABLE",
                    "capabilities": kind["capabilities"],
                    "connectors": [connector],
                    "last_updated": stamp,
                }
            )
            self.evses[item["uid"].upper()] = EvseSpec(
                item["uid"],
                item["evse_id"],
                Decimal(kind["power_kw"]),
                kind["tariff_id"],
                "1",
                connector,
            )
        location["last_updated"] = stamp
        self.location = location
        self.tariffs = {
            t["id"]: t
            | {"country_code": self.country_code, "party_id": self.party_id, "last_updated": stamp}
            for t in raw["tariffs"]
        }

    def set_status(self, evse_uid: str, status: str, stamp: str) -> dict[str, Any]:
        for evse in self.location["evses"]:
            if evse["uid"].upper() == evse_uid.upper():
                evse["status"], evse["last_updated"] = status, stamp
                self.location["last_updated"] = stamp
                return evse
        raise KeyError(evse_uid)


@dataclass(frozen=True)
class Cost:
    incl: Decimal
    excl: Decimal
    energy: Decimal
    time: Decimal
    fixed: Decimal


def price(tariff: dict[str, Any], kwh: Decimal, charging_hours: Decimal) -> Cost:
    """Flat + energy + time for a tariff whose elements are unrestricted (the fixture's are)."""
    found = {"FLAT": Decimal(0), "ENERGY": Decimal(0), "TIME": Decimal(0)}
    vat = Decimal(0)
    for element in tariff["elements"]:
        for component in element["price_components"]:
            if component["type"] in found and not found[component["type"]]:
                found[component["type"]] = Decimal(str(component["price"]))
                vat = Decimal(str(component.get("vat", 0)))
    fixed = found["FLAT"]
    energy = (found["ENERGY"] * kwh).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    time = (found["TIME"] * charging_hours).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    incl = fixed + energy + time
    excl = (incl / (1 + vat / 100)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return Cost(incl, excl, energy, time, fixed)
