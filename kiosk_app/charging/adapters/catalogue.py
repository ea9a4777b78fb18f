"""The Directory and Pricing ports on the OCPI tables (Locations, EVSEs, Tariffs, Sessions,
CDRs as the CPO pushed them) and our tariff engine `kiosk_app.ocpi.pricing`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kiosk_app.charging.ports import EvseInfo, RemoteCdr, RemoteSession
from kiosk_app.charging.states import TxState
from kiosk_app.db import Database
from kiosk_app.models.ocpi import OcpiCdr, OcpiEvse, OcpiLocation, OcpiTariff
from kiosk_app.ocpi import pricing
from kiosk_app.ocpi.objects import ci
from kiosk_app.ocpi.pricing.money import from_minor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvseRecord:
    """One EVSE as the CPO describes it: its location document and EVSE entry."""

    location: dict[str, Any]
    evse: dict[str, Any]
    status: str

    @property
    def connector(self) -> dict[str, Any]:
        connectors = self.evse.get("connectors") or [{}]
        return connectors[0]

    @property
    def time_zone(self) -> str:
        return self.location.get("time_zone") or "UTC"


def find_evse(database: Database, evse_uid: str) -> EvseRecord | None:
    """The EVSE `evse_uid` from the stored Locations, or None."""
    with database.reading() as db:
        row = db.execute(
            sa.select(OcpiLocation.doc, OcpiEvse.status)
            .join(OcpiEvse, OcpiEvse.location_pk == OcpiLocation.id)
            .where(OcpiEvse.evse_uid == ci(evse_uid))
            .limit(1)
        ).first()
    if row is None:
        return None
    doc, status = row
    evse = next((e for e in doc.get("evses", []) if ci(e.get("uid", "")) == ci(evse_uid)), {})
    return EvseRecord(doc, evse, status)


def tariffs_of(database: Database, record: EvseRecord) -> list[pricing.Tariff]:
    """The EVSE connector's tariffs, parsed; a tariff that fails to parse is left out."""
    ids = [ci(t) for t in record.connector.get("tariff_ids") or []]
    if not ids:
        return []
    with database.reading() as db:
        docs = db.scalars(sa.select(OcpiTariff.doc).where(OcpiTariff.tariff_id.in_(ids))).all()
    parsed = []
    for doc in docs:
        try:
            parsed.append(pricing.parse_tariff(doc))
        except pricing.TariffError as exc:
            log.warning("stored tariff %s does not parse: %s", doc.get("id"), exc)
    return parsed


class OcpiDirectory:
    """The EVSEs the kiosks serve, from the CPO's Locations."""

    def __init__(self, database: Database, default_currency: str) -> None:
        self.database = database
        self.default_currency = default_currency

    def evse(self, kiosk_id: str, evse_uid: str) -> EvseInfo | None:
        record = find_evse(self.database, evse_uid)
        if record is None:
            return None
        tariffs = tariffs_of(self.database, record)
        return EvseInfo(
            evse_uid=record.evse.get("uid", evse_uid),
            location_id=record.location.get("id", ""),
            connector_id=str(record.connector.get("id", "")),
            available=record.status == "AVAILABLE",
            currency=tariffs[0].currency if tariffs else self.default_currency,
        )


class OcpiPricing:
    """Hold amounts, live costs and our own price of a CDR, from the EVSE's stored tariffs."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def hold_amount_minor(self, evse: EvseInfo, default_minor: int, maximum_minor: int) -> int:
        record = find_evse(self.database, evse.evse_uid)
        tariffs = tariffs_of(self.database, record) if record else []
        if not tariffs:
            return default_minor
        currency = tariffs[0].currency
        hold = pricing.hold_amount(
            tariffs[0],
            from_minor(default_minor, currency),
            from_minor(maximum_minor, currency),
        )
        return hold.minor

    def live_cost_minor(self, tx: TxState, session: RemoteSession, at: datetime) -> int | None:
        """Our price of the session so far (when the CPO sends no total_cost), from the Session
        as pushed: the push may not be committed yet."""
        record = find_evse(self.database, tx.evse_uid)
        tariffs = tariffs_of(self.database, record) if record else []
        if record is None or not tariffs or session.doc is None:
            return None
        try:
            parsed = pricing.parse_session(session.doc)
            cost = pricing.live_cost(parsed, tariffs[0], record.time_zone, now=at)
        except pricing.PricingInputError as exc:
            log.warning("live cost of %s not computable: %s", tx.reference, exc)
            return None
        return cost.now.payable.minor

    def price_cdr_minor(self, tx: TxState, cdr: RemoteCdr) -> int | None:
        """Our own price of the CDR as pushed, with the EVSE's tariffs, in the location's zone."""
        if cdr.doc is None:
            return None
        breakdown = price_cdr_doc(self.database, tx.evse_uid, cdr.cdr_id, cdr.doc)
        return None if breakdown is None else breakdown.payable.minor


def stored_cdr(database: Database, cdr_id: str) -> dict[str, Any] | None:
    with database.reading() as db:
        return db.scalar(
            sa.select(OcpiCdr.doc).where(OcpiCdr.cdr_id == ci(cdr_id)).order_by(OcpiCdr.id)
        )


def price_stored_cdr(
    database: Database, evse_uid: str, cdr_id: str
) -> pricing.PriceBreakdown | None:
    """Our price of a stored CDR (None when the CDR, the EVSE or its tariffs are unknown)."""
    doc = stored_cdr(database, cdr_id)
    return None if doc is None else price_cdr_doc(database, evse_uid, cdr_id, doc)


def price_cdr_doc(
    database: Database, evse_uid: str, cdr_id: str, doc: dict[str, Any]
) -> pricing.PriceBreakdown | None:
    """Our price of the CDR `doc` (None when the EVSE or its tariffs are unknown)."""
    record = find_evse(database, evse_uid)
    if record is None:
        return None
    try:
        return pricing.price_cdr(
            tariffs_of(database, record), pricing.parse_cdr(doc), record.time_zone
        )
    except pricing.PricingInputError as exc:
        log.warning("CDR %s not priced: %s", cdr_id, exc)
        return None
