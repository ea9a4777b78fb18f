"""Request and response helpers shared by the OCPI blueprints (receiver, payments)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, current_app, g, request

from kiosk_app import db
from kiosk_app.ocpi import envelope, events, transport
from kiosk_app.ocpi.client import OcpiClient
from kiosk_app.ocpi.envelope import OcpiError, Status
from kiosk_app.ocpi.schema import DateTime


def ocpi_config():  # type: ignore[no-untyped-def]
    return current_app.config["KIOSK"].ocpi


def http_client() -> OcpiClient:
    """The app's pooled client (created on first use)."""
    client = current_app.extensions.get("kiosk.ocpi_client")
    if client is None:
        cfg = ocpi_config()
        client = OcpiClient(cfg.connect_timeout_s, cfg.read_timeout_s, cfg.get_retries)
        current_app.extensions["kiosk.ocpi_client"] = client
    return client


def reply(
    data: Any = None,
    status: int = Status.SUCCESS,
    message: str | None = None,
    http: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = Response(
        json.dumps(envelope.build(data, status, message), default=str),
        status=http,
        mimetype="application/json",
    )
    response.headers["X-Correlation-ID"] = (
        g.get("ocpi_correlation_id") or transport.new_request_id()
    )
    routing = transport.Routing.from_headers(request.headers)
    if routing is not None:
        response.headers.update(routing.reversed().headers())
    response.headers.update(headers or {})
    return response


def body() -> Any:
    """The request's JSON body; HTTP 400 when it is not JSON."""
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OcpiError(Status.CLIENT_ERROR, f"invalid JSON: {exc}", 400) from None


def commit_and_publish(evts: list[events.Event]) -> None:
    """Publish `evts` in the request's database transaction and commit it: one commit for the
    pushed object and what the engine made of it."""
    events.commit_and_publish(db.session(), evts)


def paginated(query, to_json: Callable[[Any], Any]) -> Response:  # type: ignore[no-untyped-def]
    max_limit = ocpi_config().page_limit
    try:
        offset = int(request.args.get("offset", 0))
        limit = min(int(request.args.get("limit", max_limit)), max_limit)
    except ValueError:
        raise OcpiError(Status.INVALID_PARAMETERS, "offset/limit: expected integers") from None
    if offset < 0 or limit < 1:
        raise OcpiError(Status.INVALID_PARAMETERS, "offset/limit: out of range")
    session = db.session()
    rows = list(session.scalars(query))
    page = transport.Page(offset, limit, len(rows))
    items = [to_json(r) for r in rows[offset : offset + limit]]
    return reply(items, headers=page.headers(request.url, max_limit))


def window() -> tuple[datetime | None, datetime | None]:
    parsed = []
    for name in ("date_from", "date_to"):
        value = request.args.get(name)
        parsed.append(DateTime(value, name) if value else None)
    return parsed[0], parsed[1]
