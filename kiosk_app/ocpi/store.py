"""Persisting the CPO's objects and our commands. Each function validates, writes through the
given SQLAlchemy session (flush only) and returns the events, which the caller publishes in
the same transaction before it commits (`events.commit_and_publish`). No Flask here: the
receiver, the client sync and tests all use it.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from kiosk_app.models.ocpi import (
    OcpiCdr,
    OcpiCommand,
    OcpiEvse,
    OcpiLocation,
    OcpiSession,
    OcpiTariff,
    OcpiToken,
    utcnow,
)
from kiosk_app.ocpi import objects
from kiosk_app.ocpi.envelope import ObjectError, OcpiError, Status
from kiosk_app.ocpi.events import (
    CdrReceived,
    CommandResultReceived,
    Event,
    LocationUpdated,
    SessionUpdated,
    TariffUpdated,
)
from kiosk_app.ocpi.money import to_minor
from kiosk_app.ocpi.objects import ci
from kiosk_app.ocpi.power import live_power_kw


def _same_id(path_value: str, body: dict[str, Any], key: str) -> None:
    """A client-owned object's URL ids must match the body (when the body carries them)."""
    value = body.get(key)
    if isinstance(value, str) and ci(value) != ci(path_value):
        raise ObjectError(key, f"{value!r} does not match the URL ({path_value!r})")


# --- locations -----------------------------------------------------------------------------------


def find(
    db: DbSession, id_column: Any, cc: str, pid: str, object_id: str, lock: bool = False
) -> Any:
    """A party's stored object by its CiString id, e.g. `find(db, OcpiTariff.tariff_id, …)`;
    with `lock`, row-locked until the commit (SQLite serialises writers anyway)."""
    model = id_column.class_
    query = sa.select(model).where(
        model.country_code == ci(cc), model.party_id == ci(pid), id_column == ci(object_id)
    )
    return db.scalar(query.with_for_update() if lock else query)


def _find_location(db: DbSession, cc: str, pid: str, location_id: str) -> OcpiLocation | None:
    # Locked: pushes for two EVSEs of one Location each merge into the same document, and on
    # PostgreSQL the second would otherwise overwrite the first's EVSE with what it read.
    return find(db, OcpiLocation.location_id, cc, pid, location_id, lock=True)


def _find_in(items: list[dict[str, Any]], key: str, value: str) -> int | None:
    for i, item in enumerate(items):
        if isinstance(item.get(key), str) and ci(item[key]) == ci(value):
            return i
    return None


def put_location(
    db: DbSession,
    version: str,
    cc: str,
    pid: str,
    location_id: str,
    body: Any,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> tuple[bool, list[Event]]:
    """PUT at location, EVSE or connector level. Returns (created, events)."""
    row = _find_location(db, cc, pid, location_id)
    if evse_uid is None:
        objects.parse_location(body, version)
        _same_id(location_id, body, "id")
        _same_id(cc, body, "country_code")
        _same_id(pid, body, "party_id")
        doc = copy.deepcopy(body)
        created = row is None
    else:
        if row is None:
            raise OcpiError(Status.UNKNOWN_LOCATION, f"unknown Location {location_id}")
        doc = copy.deepcopy(row.doc)
        evses = doc.setdefault("evses", [])
        index = _find_in(evses, "uid", evse_uid)
        if connector_id is None:
            objects.parse_evse(body)
            _same_id(evse_uid, body, "uid")
            created = index is None
            if index is None:
                evses.append(body)
            else:
                evses[index] = body
        else:
            if index is None:
                raise OcpiError(Status.UNKNOWN_LOCATION, f"unknown EVSE {evse_uid}")
            if "last_updated" not in objects.parse_connector(body):
                # Optional inside an EVSE (the spec's own examples omit it), not on its own.
                raise ObjectError("last_updated", "missing")
            _same_id(connector_id, body, "id")
            connectors = evses[index].setdefault("connectors", [])
            cindex = _find_in(connectors, "id", connector_id)
            created = cindex is None
            if cindex is None:
                connectors.append(body)
            else:
                connectors[cindex] = body
        doc["last_updated"] = body["last_updated"]
    return created, _save_location(db, version, cc, pid, location_id, row, doc, evse_uid)


def patch_location(
    db: DbSession,
    version: str,
    cc: str,
    pid: str,
    location_id: str,
    body: Any,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> list[Event]:
    """PATCH at location, EVSE or connector level; the merged object is validated whole."""
    row = _find_location(db, cc, pid, location_id)
    if row is None:
        raise OcpiError(Status.UNKNOWN_LOCATION, f"unknown Location {location_id}")
    doc = copy.deepcopy(row.doc)
    if evse_uid is None:
        objects.parse_location(body, version, partial=True)
        target = doc
    else:
        evses = doc.setdefault("evses", [])
        index = _find_in(evses, "uid", evse_uid)
        if index is None:
            raise OcpiError(Status.UNKNOWN_LOCATION, f"unknown EVSE {evse_uid}")
        target = evses[index]
        if connector_id is None:
            objects.parse_evse(body, partial=True)
        else:
            objects.parse_connector(body, partial=True)
            cindex = _find_in(target.get("connectors", []), "id", connector_id)
            if cindex is None:
                raise OcpiError(Status.UNKNOWN_LOCATION, f"unknown Connector {connector_id}")
            target = target["connectors"][cindex]
    target.update(copy.deepcopy(body))
    doc["last_updated"] = body["last_updated"]
    objects.parse_location(doc, version)  # the merge must still be a valid Location
    return _save_location(db, version, cc, pid, location_id, row, doc, evse_uid)


def _save_location(
    db: DbSession,
    version: str,
    cc: str,
    pid: str,
    location_id: str,
    row: OcpiLocation | None,
    doc: dict[str, Any],
    evse_uid: str | None,
) -> list[Event]:
    parsed = objects.parse_location(doc, version)
    if row is None:
        row = OcpiLocation(country_code=ci(cc), party_id=ci(pid), location_id=ci(location_id))
        db.add(row)
    row.doc = doc
    row.last_updated = parsed["last_updated"]
    db.flush()
    existing = {
        e.evse_uid: e for e in db.scalars(sa.select(OcpiEvse).filter_by(location_pk=row.id))
    }
    events: list[Event] = []
    for evse in parsed.get("evses", []):
        uid = ci(evse["uid"])
        entry = existing.pop(uid, None) or OcpiEvse(location_pk=row.id, evse_uid=uid)
        changed = entry.status != evse["status"]
        entry.evse_id, entry.status = evse.get("evse_id"), evse["status"]
        entry.last_updated = evse["last_updated"]
        db.add(entry)
        if changed or (evse_uid is not None and ci(evse_uid) == uid):
            events.append(LocationUpdated(row.location_id, uid, evse["status"]))
    for gone in existing.values():
        db.delete(gone)
    if evse_uid is None:
        events.insert(0, LocationUpdated(row.location_id, None, None))
    db.flush()
    return events


# --- tariffs -------------------------------------------------------------------------------------


def put_tariff(
    db: DbSession, version: str, cc: str, pid: str, tariff_id: str, body: Any
) -> tuple[bool, list[Event]]:
    fields = objects.validate_tariff_content(body, version)
    _same_id(tariff_id, body, "id")
    _same_id(cc, body, "country_code")
    _same_id(pid, body, "party_id")
    row = find(db, OcpiTariff.tariff_id, cc, pid, tariff_id)
    created = row is None
    if row is None:
        row = OcpiTariff(country_code=ci(cc), party_id=ci(pid), tariff_id=ci(tariff_id))
        db.add(row)
    row.currency, row.doc, row.last_updated = fields["currency"], body, fields["last_updated"]
    db.flush()
    return created, [TariffUpdated(row.tariff_id)]


def delete_tariff(db: DbSession, cc: str, pid: str, tariff_id: str) -> list[Event]:
    row = find(db, OcpiTariff.tariff_id, cc, pid, tariff_id)
    if row is None:
        raise OcpiError(Status.INVALID_PARAMETERS, f"unknown Tariff {tariff_id}")
    db.delete(row)
    db.flush()
    return [TariffUpdated(ci(tariff_id), deleted=True)]


# --- sessions ------------------------------------------------------------------------------------


def _reference_for_token(db: DbSession, token_uid: str | None) -> str | None:
    """Our transaction reference for a one-time token (2.1.1 Sessions carry no reference)."""
    if not token_uid:
        return None
    return db.scalar(
        sa.select(OcpiToken.authorization_reference).filter_by(uid=ci(token_uid))
    ) or db.scalar(
        sa.select(OcpiCommand.authorization_reference).filter_by(token_uid=ci(token_uid)).limit(1)
    )


# Sessions are the hot path (a PATCH every few seconds per charging car): plain Core
# statements on the table, no ORM identity map or unit of work.
_SESSIONS = OcpiSession.__table__
# Locked, as a PATCH merges into the stored document (charging periods are appended).
_FIND_SESSION = (
    sa.select(_SESSIONS.c.id, _SESSIONS.c.doc)
    .where(
        _SESSIONS.c.country_code == sa.bindparam("cc"),
        _SESSIONS.c.party_id == sa.bindparam("pid"),
        _SESSIONS.c.session_id == sa.bindparam("sid"),
    )
    .with_for_update()
)
# SET takes its columns from the parameters given at execution.
_UPDATE_SESSION = sa.update(_SESSIONS).where(_SESSIONS.c.id == sa.bindparam("pk"))


def _find_session(db: DbSession, cc: str, pid: str, session_id: str) -> sa.Row | None:
    params = {"cc": ci(cc), "pid": ci(pid), "sid": ci(session_id)}
    return db.connection().execute(_FIND_SESSION, params).first()


def put_session(
    db: DbSession, version: str, cc: str, pid: str, session_id: str, body: Any
) -> tuple[bool, list[Event]]:
    """PUT replaces the Session, charging periods included."""
    objects.check_session(body, version)
    _same_id(session_id, body, "id")
    _same_id(cc, body, "country_code")
    _same_id(pid, body, "party_id")
    row = _find_session(db, cc, pid, session_id)
    pk = None if row is None else row.id
    return row is None, _save_session(db, version, cc, pid, session_id, pk, body)


def patch_session(
    db: DbSession, version: str, cc: str, pid: str, session_id: str, body: Any
) -> list[Event]:
    """PATCH merges changed fields; a `charging_periods` list is appended, not replaced."""
    objects.check_session(body, version, partial=True)
    row = _find_session(db, cc, pid, session_id)
    if row is None:
        raise OcpiError(Status.INVALID_PARAMETERS, f"unknown Session {session_id}")
    # A new top-level dict; nested values are replaced, never mutated, so no deep copy of a
    # document that grows with every charging period.
    doc = dict(row.doc)
    for key, value in body.items():
        if key == "charging_periods":
            doc["charging_periods"] = [*(doc.get("charging_periods") or []), *value]
        else:
            doc[key] = value
    return _save_session(db, version, cc, pid, session_id, row.id, doc)


def _save_session(
    db: DbSession,
    version: str,
    cc: str,
    pid: str,
    session_id: str,
    pk: int | None,
    doc: dict[str, Any],
) -> list[Event]:
    session = objects.parse_session(doc, version)
    reference = session.authorization_reference or _reference_for_token(db, session.token_uid)
    reference = ci(reference) if reference else None
    cost = session.total_cost
    amount = (
        None if cost is None else (cost.incl_vat if cost.incl_vat is not None else cost.excl_vat)
    )
    values = {
        "authorization_reference": reference,
        "status": session.status,
        "kwh": session.kwh,
        "currency": session.currency,
        "total_cost_minor": None if amount is None else to_minor(amount, session.currency),
        "doc": doc,
        "last_updated": session.last_updated,
    }
    if pk is None:
        db.connection().execute(
            sa.insert(_SESSIONS).values(
                country_code=ci(cc), party_id=ci(pid), session_id=ci(session_id), **values
            )
        )
    else:
        db.connection().execute(_UPDATE_SESSION, {"pk": pk, **values})
    return [
        SessionUpdated(
            authorization_reference=reference,
            session_id=ci(session_id),
            status=session.status,
            kwh=session.kwh,
            total_cost=amount,
            currency=session.currency,
            start=session.start,
            end=session.end,
            last_updated=session.last_updated,
            raw=doc,
            power_kw=live_power_kw(session.status, session.fields.get("charging_periods") or []),
        )
    ]


# --- CDRs ----------------------------------------------------------------------------------------


def post_cdr(
    db: DbSession, version: str, cc: str, pid: str, body: Any
) -> tuple[OcpiCdr, bool, list[Event]]:
    """Store a pushed CDR. Returns (row, created, events); a repeat is answered, not re-stored."""
    cdr = objects.parse_cdr(body, version)
    cc, pid = ci(body.get("country_code") or cc), ci(body.get("party_id") or pid)
    row = find(db, OcpiCdr.cdr_id, cc, pid, cdr.id)
    if row is not None:
        return row, False, []  # CDRs are immutable: a repeated POST changes nothing
    reference = cdr.authorization_reference or _reference_for_token(db, cdr.token_uid)
    if reference is None and cdr.session_id:
        reference = db.scalar(
            sa.select(OcpiSession.authorization_reference).filter_by(
                country_code=cc, party_id=pid, session_id=ci(cdr.session_id)
            )
        )
    original = None
    if cdr.credit and cdr.credit_reference_id:
        original = find(db, OcpiCdr.cdr_id, cc, pid, cdr.credit_reference_id)
        if original is not None and reference is None:
            reference = original.authorization_reference
    cost = cdr.total_cost
    amount = cost.incl_vat if cost.incl_vat is not None else cost.excl_vat
    row = OcpiCdr(
        country_code=cc,
        party_id=pid,
        cdr_id=ci(cdr.id),
        authorization_reference=ci(reference) if reference else None,
        session_id=ci(cdr.session_id) if cdr.session_id else None,
        credit=cdr.credit,
        credit_reference_id=ci(cdr.credit_reference_id) if cdr.credit_reference_id else None,
        credited_cdr_pk=original.id if original is not None else None,
        currency=cdr.currency,
        total_cost_minor=to_minor(amount, cdr.currency),
        doc=body,
    )
    db.add(row)
    db.flush()
    event = CdrReceived(
        authorization_reference=row.authorization_reference,
        cdr_id=row.cdr_id,
        total_cost_incl=cost.incl_vat,
        total_cost_excl=cost.excl_vat,
        total_energy=cdr.total_energy,
        credit=cdr.credit,
        credit_reference_id=row.credit_reference_id,
        invoice_reference_id=cdr.invoice_reference_id,
        raw=body,
    )
    return row, True, [event]


# --- commands ------------------------------------------------------------------------------------


def record_result(db: DbSession, command_id: str, body: Any) -> list[Event]:
    """Store the CommandResult POSTed to a command's response_url (first one wins)."""
    command = db.get(OcpiCommand, command_id)
    if command is None:
        raise OcpiError(Status.INVALID_PARAMETERS, f"unknown command {command_id}")
    result = objects.parse_command_result(body)
    if command.result is not None:
        return []  # a repeated callback: already handed to the engine
    command.result, command.result_doc, command.result_at = result.result, body, utcnow()
    db.flush()
    return [
        CommandResultReceived(
            authorization_reference=command.authorization_reference or "",
            command=command.command,
            result=result.result,
            message=result.message,
        )
    ]


def changed_since(model: Any, db: DbSession, date_from: datetime | None, date_to: datetime | None):  # type: ignore[no-untyped-def]
    """A `last_updated` window query for list GETs (date_from inclusive, date_to exclusive)."""
    query = sa.select(model)
    if date_from is not None:
        query = query.where(model.last_updated >= date_from)
    if date_to is not None:
        query = query.where(model.last_updated < date_to)
    return query.order_by(model.last_updated, model.id)
