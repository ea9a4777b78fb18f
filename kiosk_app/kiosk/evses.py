"""The kiosk's charge points as the CPO describes them in its OCPI Locations and Tariffs.

Read from the tables the OCPI receiver keeps fresh (`kiosk_app.models.ocpi`): the EVSE's status,
its connector, its maximum power and its tariff, priced for display by `kiosk_app.ocpi.pricing`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk_app.charging.states import State
from kiosk_app.config import KioskConfig
from kiosk_app.kiosk.viewmodels import AfirPrice, EvseStatus, EvseTile
from kiosk_app.models.charging import ChargingTransaction
from kiosk_app.models.ocpi import OcpiEvse, OcpiLocation, OcpiTariff
from kiosk_app.ocpi import pricing
from kiosk_app.ocpi.objects import ci

# OCPI EVSE status → what the tile says. Any other (INOPERATIVE, OUTOFORDER, PLANNED, UNKNOWN)
# is "out of order"; REMOVED EVSEs are not shown at all.
STATUSES: dict[str, EvseStatus] = {
    "AVAILABLE": "available",
    "CHARGING": "charging",
    "BLOCKED": "charging",  # the bay is taken: "in use" to the driver
    "RESERVED": "reserved",
}
# OCPI connector standards under the names drivers know from their cars.
CONNECTOR_NAMES = {
    "IEC_62196_T1": "Type 1",
    "IEC_62196_T1_COMBO": "CCS 1",
    "IEC_62196_T2": "Type 2",
    "IEC_62196_T2_COMBO": "CCS",
    "IEC_62196_T3A": "Type 3A",
    "IEC_62196_T3C": "Type 3C",
    "CHADEMO": "CHAdeMO",
    "CHAOJI": "ChaoJi",
    "DOMESTIC_F": "Schuko",
    "GBT_AC": "GB/T AC",
    "GBT_DC": "GB/T DC",
    "NACS": "NACS",
    "TESLA_S": "Tesla",
}
KW = Decimal(1000)


@dataclass(frozen=True)
class ChargePoint:
    """One EVSE as the kiosk shows it, with the tariff its price comes from (None: unknown)."""

    tile: EvseTile
    tariff: pricing.Tariff | None


def charge_points(
    db: Session, kiosk: KioskConfig, language: str, currency: str
) -> list[ChargePoint]:
    """Every EVSE `kiosk` serves, in the order of its `evses` list (all EVSEs known to us,
    by location and uid, when the list is empty)."""
    rows = db.execute(
        sa.select(OcpiEvse, OcpiLocation)
        .join(OcpiLocation, OcpiEvse.location_pk == OcpiLocation.id)
        .order_by(OcpiLocation.location_id, OcpiEvse.evse_uid)
    ).all()
    by_uid = {evse.evse_uid: (evse, location) for evse, location in rows}
    if kiosk.evses:
        chosen = [(uid, by_uid.get(ci(uid))) for uid in kiosk.evses]
    else:
        chosen = [(evse.evse_uid, (evse, location)) for evse, location in rows]
    busy = _engaged(db, [uid for uid, found in chosen if found is not None])
    points = []
    for uid, found in chosen:
        if found is None:
            continue  # configured, but the CPO has not (yet) told us about it
        point = _charge_point(db, uid, *found, language, currency, ci(uid) in busy)
        if point is not None:
            points.append(point)
    return points


def charge_point(
    db: Session, kiosk: KioskConfig, evse_uid: str, language: str, currency: str
) -> ChargePoint | None:
    """One EVSE of this kiosk by uid (case-insensitive, as OCPI ids are), or None."""
    return next(
        (p for p in charge_points(db, kiosk, language, currency) if ci(p.tile.uid) == ci(evse_uid)),
        None,
    )


def label(db: Session, evse_uid: str) -> str:
    """The name a driver reads on the charge point itself (its physical reference, else the
    EVSE id), without pricing anything: for the screens of a running transaction."""
    row = db.execute(
        sa.select(OcpiEvse, OcpiLocation)
        .join(OcpiLocation, OcpiEvse.location_pk == OcpiLocation.id)
        .where(OcpiEvse.evse_uid == ci(evse_uid))
        .limit(1)
    ).first()
    if row is None:
        return evse_uid
    return _label(*row)


def _label(evse: OcpiEvse, location: OcpiLocation) -> str:
    doc = _document(evse, location)
    return doc.get("physical_reference") or evse.evse_id or evse.evse_uid


def _document(evse: OcpiEvse, location: OcpiLocation) -> dict[str, Any]:
    """The EVSE's part of the stored Location document."""
    return next(
        (e for e in location.doc.get("evses", []) if ci(str(e.get("uid", ""))) == evse.evse_uid),
        {},
    )


def _engaged(db: Session, uids: Iterable[str]) -> set[str]:
    """EVSEs a driver of ours has paid for or is paying for (a selection alone does not count:
    the next driver's choice cancels it). The CPO reports such an EVSE as available a little
    longer than it is."""
    rows = db.scalars(
        sa.select(ChargingTransaction.evse_uid).where(
            ChargingTransaction.occupies_evse.is_(True),
            ChargingTransaction.state != str(State.SELECTED),
            ChargingTransaction.evse_uid.in_(list(uids)),
        )
    )
    return {ci(uid) for uid in rows}


def _charge_point(
    db: Session,
    uid: str,
    evse: OcpiEvse,
    location: OcpiLocation,
    language: str,
    currency: str,
    engaged: bool,
) -> ChargePoint | None:
    if evse.status == "REMOVED":
        return None
    connectors = _document(evse, location).get("connectors") or [{}]
    tariff = _tariff(db, location, connectors)
    status = STATUSES.get(evse.status, "out_of_order")
    if status == "available" and engaged:
        status = "reserved"
    if tariff is None:
        # No price, no sale: AFIR wants the price shown before the driver commits.
        status = "out_of_order"
    tile = EvseTile(
        uid=uid,
        label=_label(evse, location),
        status=status,
        connector=" / ".join(dict.fromkeys(_connector_name(c) for c in connectors)),
        max_power_kw=max(_power_kw(c) for c in connectors),
        price=afir_price(tariff, language, currency),
    )
    return ChargePoint(tile, tariff)


def _connector_name(connector: dict[str, Any]) -> str:
    standard = str(connector.get("standard", ""))
    return CONNECTOR_NAMES.get(standard, standard.replace("_", " ").title())


def _power_kw(connector: dict[str, Any]) -> Decimal:
    """The connector's maximum power: `max_electric_power` (2.2+), else volts × amps (× 3 on a
    three-phase connector, whose voltage is line to neutral)."""
    if connector.get("max_electric_power"):
        return Decimal(connector["max_electric_power"]) / KW
    volts = connector.get("max_voltage") or connector.get("voltage") or 0
    amps = connector.get("max_amperage") or connector.get("amperage") or 0
    phases = 3 if connector.get("power_type") == "AC_3_PHASE" else 1
    return Decimal(volts) * Decimal(amps) * phases / KW


def _tariff(
    db: Session, location: OcpiLocation, connectors: list[dict[str, Any]]
) -> pricing.Tariff | None:
    """The connectors' tariff for direct payment: the first AD_HOC_PAYMENT one, else the first
    one listed (2.1.1 connectors name a single `tariff_id`)."""
    ids = [ci(t) for c in connectors for t in c.get("tariff_ids") or [c.get("tariff_id")] if t]
    if not ids:
        return None
    rows = db.scalars(
        sa.select(OcpiTariff).where(
            OcpiTariff.country_code == location.country_code,
            OcpiTariff.party_id == location.party_id,
            OcpiTariff.tariff_id.in_(ids),
        )
    ).all()
    docs = sorted(
        (row.doc for row in rows),
        key=lambda doc: (doc.get("type") != "AD_HOC_PAYMENT", ids.index(ci(doc["id"]))),
    )
    return pricing.parse_tariff(docs[0]) if docs else None


def afir_price(tariff: pricing.Tariff | None, language: str, currency: str) -> AfirPrice:
    """The tariff's prices per kWh, minute, session and parking minute, including tax.

    Per dimension the first unconditional non-zero price is shown (else the first non-zero
    one); a tariff that varies (time of day, power…) is spelled out in full on the price screen.
    """
    if tariff is None:
        return AfirPrice(currency=currency)
    summary = pricing.describe(tariff, language)

    def first(dimension: str) -> Decimal | None:
        lines = [line for line in summary.lines if line.dimension == dimension and line.price]
        plain = [line for line in lines if not line.conditions]
        return (plain or lines)[0].price if lines else None

    return AfirPrice(
        currency=summary.currency,
        per_kwh=first("ENERGY"),
        per_minute=first("TIME"),
        per_session=first("FLAT"),
        parking_per_minute=first("PARKING_TIME"),
        parking_grace_minutes=summary.parking_grace_minutes,
        vat_percent=summary.vat_rates[0] if len(summary.vat_rates) == 1 else None,
        includes_tax=summary.includes_tax,
    )


def varies(tariff: pricing.Tariff, language: str) -> bool:
    """Whether the one-line price leaves something out that the driver must know."""
    summary = pricing.describe(tariff, language)
    return bool(
        summary.alt_text
        or summary.min_price is not None
        or summary.max_price is not None
        or not summary.includes_tax
        or any(line.conditions for line in summary.lines)
    )
