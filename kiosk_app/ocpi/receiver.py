"""The Flask blueprint under `/ocpi/…` that receives the CPO's calls.

Every answer is an OCPI envelope. Invalid JSON → HTTP 400; valid JSON with bad content → HTTP
200 with OCPI 2001 and the field named; unknown or missing token → HTTP 401. Writes go through
`store`; the view then publishes the events in the same database transaction and commits it
(`events.commit_and_publish`): the pushed object and what the engine made of it are committed
together, in one commit.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from kiosk_app import db
from kiosk_app.models.ocpi import OcpiCdr, OcpiLocation, OcpiSession, OcpiTariff, OcpiToken
from kiosk_app.ocpi import payments, peers, store, transport, versions
from kiosk_app.ocpi.envelope import OcpiError, Status
from kiosk_app.ocpi.objects import ci
from kiosk_app.ocpi.web import (
    body,
    commit_and_publish,
    http_client,
    ocpi_config,
    paginated,
    reply,
    window,
)

log = logging.getLogger(__name__)

bp = Blueprint("ocpi", __name__, url_prefix="/ocpi")

CC_PID_ID = "<cc>/<pid>"


# --- request plumbing ----------------------------------------------------------------------------

_OPEN_TO_PENDING = ("ocpi.versions_list", "ocpi.details", "ocpi.credentials")


@bp.before_request
def _authenticate() -> Response | None:
    g.ocpi_correlation_id = request.headers.get("X-Correlation-ID") or transport.new_request_id()
    version = (request.view_args or {}).get("version")
    if version is not None and version not in versions.SUPPORTED:
        raise OcpiError(Status.UNSUPPORTED_VERSION, f"unsupported version {version}", 404)
    header = request.headers.get("Authorization") or ""
    caller = _recent_callers().get(header)
    if caller is None:
        caller = peers.authenticate(db.session(), header)
        if caller is not None and caller.status == peers.REGISTERED:
            _recent_callers().put(header, caller)
    if caller is None:
        return reply(None, Status.CLIENT_ERROR, "unknown or missing token", http=401)
    if caller.status != peers.REGISTERED and request.endpoint not in _OPEN_TO_PENDING:
        return reply(None, Status.CLIENT_ERROR, "token A opens only versions and credentials", 401)
    g.ocpi_caller = caller
    return None


def _recent_callers() -> peers.RecentCallers:
    return current_app.extensions.setdefault("kiosk.ocpi_callers", peers.RecentCallers())


@bp.errorhandler(OcpiError)
def _ocpi_error(exc: OcpiError) -> Response:
    db.session().rollback()  # nothing of a refused request may be committed after the answer
    log.info("OCPI %s %s → %s: %s", request.method, request.path, exc.status, exc.message)
    return reply(None, exc.status, exc.message, http=exc.http_status)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return reply(None, Status.CLIENT_ERROR, exc.description, http=exc.code or 400)


# --- versions and credentials --------------------------------------------------------------------


@bp.get("/versions")
def versions_list() -> Response:
    return reply(versions.versions_document(ocpi_config().public_url))


@bp.get("/<version>/details")
def details(version: str) -> Response:
    return reply(versions.details_document(ocpi_config().public_url, version))


@bp.route("/<version>/credentials", methods=["GET", "POST", "PUT", "DELETE"])
def credentials(version: str) -> Response:
    caller: peers.Caller = g.ocpi_caller
    cfg = ocpi_config()
    session = db.session()
    if request.method == "GET":
        # We keep only the token's hash (ocpi/ocpi#394); the caller just presented it.
        return reply(peers.our_credentials(cfg, caller.token, version))
    if request.method == "DELETE":
        peers.unregister(session, caller)
        commit_and_publish([])
        _recent_callers().clear()
        return reply()
    data = body()
    ours = peers.accept_registration(
        session, http_client(), cfg, caller, data, version, update=request.method == "PUT"
    )
    commit_and_publish([])
    _recent_callers().clear()
    return reply(ours)


# --- locations -----------------------------------------------------------------------------------


@bp.route("/<role>/<version>/locations/<cc>/<pid>/<location_id>", methods=["GET", "PUT", "PATCH"])
@bp.route(
    "/<role>/<version>/locations/<cc>/<pid>/<location_id>/<evse_uid>",
    methods=["GET", "PUT", "PATCH"],
)
@bp.route(
    "/<role>/<version>/locations/<cc>/<pid>/<location_id>/<evse_uid>/<connector_id>",
    methods=["GET", "PUT", "PATCH"],
)
def locations(
    role: str,
    version: str,
    cc: str,
    pid: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> Response:
    _check_role(role, version)
    session = db.session()
    if request.method == "GET":
        row = store.find(session, OcpiLocation.location_id, cc, pid, location_id)
        if row is None:
            return reply(None, Status.UNKNOWN_LOCATION, "unknown Location", http=404)
        return reply(_pick(row.doc, evse_uid, connector_id))
    data = body()
    if request.method == "PUT":
        created, evts = store.put_location(
            session, version, cc, pid, location_id, data, evse_uid, connector_id
        )
    else:
        created = False
        evts = store.patch_location(
            session, version, cc, pid, location_id, data, evse_uid, connector_id
        )
    commit_and_publish(evts)
    return reply(http=201 if created else 200)


def _pick(doc: dict, evse_uid: str | None, connector_id: str | None) -> Any:
    if evse_uid is None:
        return doc
    for evse in doc.get("evses", []):
        if ci(evse.get("uid", "")) == ci(evse_uid):
            if connector_id is None:
                return evse
            for connector in evse.get("connectors", []):
                if ci(connector.get("id", "")) == ci(connector_id):
                    return connector
    raise OcpiError(Status.UNKNOWN_LOCATION, "unknown EVSE or Connector", 404)


def _stored(id_column: Any, cc: str, pid: str, object_id: str, what: str) -> Response:
    """GET of an object the CPO pushed to us: as stored, or 404."""
    row = store.find(db.session(), id_column, cc, pid, object_id)
    if row is None:
        return reply(None, Status.CLIENT_ERROR, f"unknown {what}", http=404)
    return reply(row.doc)


def _check_role(role: str, version: str) -> None:
    expected = versions.module_base("", version).split("/")[1]
    if role != expected:
        raise OcpiError(Status.CLIENT_ERROR, f"no such endpoint for {version}", 404)


# --- tariffs -------------------------------------------------------------------------------------


@bp.route("/<role>/<version>/tariffs/<cc>/<pid>/<tariff_id>", methods=["GET", "PUT", "DELETE"])
def tariffs(role: str, version: str, cc: str, pid: str, tariff_id: str) -> Response:
    _check_role(role, version)
    session = db.session()
    if request.method == "GET":
        return _stored(OcpiTariff.tariff_id, cc, pid, tariff_id, "Tariff")
    if request.method == "DELETE":
        commit_and_publish(store.delete_tariff(session, cc, pid, tariff_id))
        return reply()
    created, evts = store.put_tariff(session, version, cc, pid, tariff_id, body())
    commit_and_publish(evts)
    return reply(http=201 if created else 200)


# --- sessions ------------------------------------------------------------------------------------


@bp.route("/<role>/<version>/sessions/<cc>/<pid>/<session_id>", methods=["GET", "PUT", "PATCH"])
def sessions(role: str, version: str, cc: str, pid: str, session_id: str) -> Response:
    _check_role(role, version)
    session = db.session()
    if request.method == "GET":
        return _stored(OcpiSession.session_id, cc, pid, session_id, "Session")
    data = body()
    if request.method == "PUT":
        created, evts = store.put_session(session, version, cc, pid, session_id, data)
    else:
        created, evts = False, store.patch_session(session, version, cc, pid, session_id, data)
    commit_and_publish(evts)
    return reply(http=201 if created else 200)


# --- CDRs ----------------------------------------------------------------------------------------


@bp.post("/<role>/<version>/cdrs")
def cdrs_post(role: str, version: str) -> Response:
    _check_role(role, version)
    caller: peers.Caller = g.ocpi_caller
    row, created, evts = store.post_cdr(
        db.session(),
        version,
        caller.country_code or "",
        caller.party_id or "",
        body(),
    )
    commit_and_publish(evts)
    location = f"{request.base_url.rstrip('/')}/{row.country_code}/{row.party_id}/{row.cdr_id}"
    return reply(http=201 if created else 200, headers={"Location": location})


@bp.get("/<role>/<version>/cdrs/<cc>/<pid>/<cdr_id>")
def cdrs_get(role: str, version: str, cc: str, pid: str, cdr_id: str) -> Response:
    _check_role(role, version)
    return _stored(OcpiCdr.cdr_id, cc, pid, cdr_id, "CDR")


# --- commands (our per-command response_url) -----------------------------------------------------


@bp.post("/<role>/<version>/commands/<command>/<command_id>")
def command_result(role: str, version: str, command: str, command_id: str) -> Response:
    _check_role(role, version)
    evts = store.record_result(db.session(), command_id, body())
    commit_and_publish(evts)
    return reply()


# --- tokens (ours, for the CPO to pull) ----------------------------------------------------------


@bp.get("/<role>/<version>/tokens")
def tokens_list(role: str, version: str) -> Response:
    _check_role(role, version)
    date_from, date_to = window()
    return paginated(
        store.changed_since(OcpiToken, db.session(), date_from, date_to), lambda row: row.doc
    )


@bp.route("/<path:rest>", methods=["GET", "PUT", "PATCH", "POST", "DELETE"])
def unknown_endpoint(rest: str) -> Response:
    """Anything under /ocpi that no route takes: an envelope, 405 or 404, never HTML."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in ("GET", "PUT", "PATCH", "POST", "DELETE"):
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "ocpi.unknown_endpoint":
            return reply(None, Status.CLIENT_ERROR, f"{request.method} not allowed here", http=405)
    return reply(None, Status.CLIENT_ERROR, "no such OCPI endpoint", http=404)


bp.register_blueprint(payments.bp)
