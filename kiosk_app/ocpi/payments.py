"""OCPI 2.3.0 Payments, our side as Payment Terminal Provider (PTP).

Terminals: one per configured kiosk (terminal_id = kiosk id); the CPO activates, deactivates,
updates (PUT) and assigns Locations/EVSEs (PATCH) through our sender interface. Financial
Advice Confirmations: created after each capture, POSTed to the CPO, and served to it on GET.
"""

from __future__ import annotations

import copy
import json
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app
from sqlalchemy.orm import Session as DbSession

from kiosk_app import db
from kiosk_app.config import Config
from kiosk_app.models.ocpi import OcpiFinancialAdvice, OcpiTerminal, utcnow
from kiosk_app.ocpi import envelope, objects
from kiosk_app.ocpi.envelope import ObjectError, OcpiError, Status
from kiosk_app.ocpi.objects import Price, ci
from kiosk_app.ocpi.store import changed_since
from kiosk_app.ocpi.web import body, paginated, reply, window

bp = Blueprint("payments", __name__, url_prefix="/ptp/<version>/payments")

VERSION = "2.3.0"


@bp.url_value_preprocessor
def _only_230(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values is not None and values.pop("version", None) != VERSION:
        raise OcpiError(Status.CLIENT_ERROR, "Payments exists only in OCPI 2.3.0", 404)


# --- terminals -----------------------------------------------------------------------------------


def ensure_terminals(session: DbSession, config: Config) -> None:
    """A Terminal object for every configured kiosk that has none yet."""
    known = set(session.scalars(sa.select(OcpiTerminal.terminal_id)))
    now = utcnow()
    for kiosk in config.kiosks:
        terminal_id = ci(kiosk.id)
        if terminal_id in known:
            continue
        doc = {
            "terminal_id": kiosk.id,
            "reference": kiosk.id,
            "invoice_creator": "PTP",
            "location_ids": [],
            "evse_uids": list(kiosk.evses),
            "last_updated": envelope.format_datetime(now),
        }
        session.add(OcpiTerminal(terminal_id=terminal_id, doc=doc, last_updated=now))
    session.flush()


def _terminal(session: DbSession, terminal_id: str) -> OcpiTerminal:
    row = session.scalar(sa.select(OcpiTerminal).filter_by(terminal_id=ci(terminal_id)))
    if row is None:
        raise OcpiError(Status.CLIENT_ERROR, f"unknown Terminal {terminal_id}", 404)
    return row


def _update(row: OcpiTerminal, changes: dict[str, Any]) -> None:
    doc = copy.deepcopy(row.doc)
    doc.update(changes)
    doc["terminal_id"] = row.doc["terminal_id"]  # the id is ours; the body cannot move it
    doc["last_updated"] = changes.get("last_updated") or envelope.format_datetime(utcnow())
    row.last_updated = objects.parse_terminal(doc)["last_updated"]
    row.doc = doc


@bp.get("/terminals")
def terminals_list() -> Response:
    ensure_terminals(db.session(), current_app.config["KIOSK"])
    date_from, date_to = window()
    return paginated(
        changed_since(OcpiTerminal, db.session(), date_from, date_to), lambda row: row.doc
    )


@bp.get("/terminals/<terminal_id>")
def terminal_get(terminal_id: str) -> Response:
    ensure_terminals(db.session(), current_app.config["KIOSK"])
    return reply(_terminal(db.session(), terminal_id).doc)


@bp.post("/terminals/activate")
def terminal_activate() -> Response:
    """The CPO activates a terminal built into its station, by its id or our `reference`."""
    data = body()
    if not isinstance(data, dict):
        raise ObjectError("", "expected an object")
    session = db.session()
    ensure_terminals(session, current_app.config["KIOSK"])
    key = data.get("terminal_id") or data.get("reference")
    if not isinstance(key, str) or not key:
        raise ObjectError("terminal_id", "missing (terminal_id or reference is required)")
    objects.check_terminal_changes(data)
    row = session.scalar(
        sa.select(OcpiTerminal).where(
            sa.or_(
                OcpiTerminal.terminal_id == ci(key),
                OcpiTerminal.doc["reference"].as_string() == key,
            )
        )
    )
    if row is None:
        raise OcpiError(Status.CLIENT_ERROR, f"unknown Terminal {key}", 404)
    row.active = True
    _update(row, {k: v for k, v in data.items() if k in ("location_ids", "evse_uids")})
    session.commit()
    return reply(row.doc)


@bp.post("/terminals/<terminal_id>/deactivate")
def terminal_deactivate(terminal_id: str) -> Response:
    session = db.session()
    ensure_terminals(session, current_app.config["KIOSK"])
    row = _terminal(session, terminal_id)
    row.active = False
    _update(row, {})
    session.commit()
    return reply(row.doc)


@bp.route("/terminals/<terminal_id>", methods=["PUT", "PATCH"])
def terminal_update(terminal_id: str) -> Response:
    """PUT: the CPO sets e.g. customer_reference and invoice_base_url; PATCH: it assigns
    location_ids and evse_uids. Both merge into our Terminal (the id stays ours)."""
    data = body()
    if not isinstance(data, dict):
        raise ObjectError("", "expected an object")
    objects.check_terminal_changes(data)
    session = db.session()
    ensure_terminals(session, current_app.config["KIOSK"])
    row = _terminal(session, terminal_id)
    _update(row, data)
    session.commit()
    return reply(row.doc)


# --- financial advice confirmations --------------------------------------------------------------


def create_financial_advice(
    session: DbSession,
    authorization_reference: str,
    total_incl: Decimal,
    total_excl: Decimal,
    currency: str,
    eft_data: list[str],
    capture_status: str,
    message: str | None = None,
) -> dict[str, Any]:
    """Record the FAC for a capture (the caller commits, then sends it with `service`)."""
    now = utcnow()
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "authorization_reference": authorization_reference,
        "total_costs": Price(total_excl, total_incl).to_json(VERSION),
        "currency": currency,
        "eft_data": eft_data,
        "capture_status_code": capture_status,
        "last_updated": envelope.format_datetime(now),
    }
    if message:
        doc["capture_status_message"] = message
    objects.parse_financial_advice(doc)
    session.add(
        OcpiFinancialAdvice(
            fac_id=ci(doc["id"]),
            authorization_reference=ci(authorization_reference),
            doc=json.loads(json.dumps(doc)),
            last_updated=now,
        )
    )
    session.flush()
    return doc


@bp.get("/financial-advice-confirmations")
def fac_list() -> Response:
    date_from, date_to = window()
    return paginated(
        changed_since(OcpiFinancialAdvice, db.session(), date_from, date_to), lambda row: row.doc
    )


@bp.get("/financial-advice-confirmations/<fac_id>")
def fac_get(fac_id: str) -> Response:
    row = db.session().scalar(sa.select(OcpiFinancialAdvice).filter_by(fac_id=ci(fac_id)))
    if row is None:
        raise OcpiError(Status.CLIENT_ERROR, f"unknown Financial Advice Confirmation {fac_id}", 404)
    return reply(row.doc)
