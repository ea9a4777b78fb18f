"""Events the OCPI side hands to the transaction engine, and a tiny in-process dispatcher.

Every event carries the OCPI `authorization_reference`, which is our transaction reference.
Publishers hand their events over inside the database transaction that records them, and commit
once all handlers have run (`commit_and_publish`): a handler records what the event means to it
in the same transaction, so that the CPO's push and its consequence are committed together or
not at all, in one commit. A handler that acts outside the database (wakes a thread, records a
test's observation) does so once the transaction has committed (`kiosk_app.db.after_commit`).

Handlers run synchronously in the publishing thread; an exception in one handler is logged and
does not stop the others or fail the CPO's request. A handler that writes does so under a
savepoint of its own, so that its failure rolls back its own writes and nothing else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandResponseReceived:
    """The CPO's synchronous answer to START_SESSION/STOP_SESSION. `result` is an OCPI
    CommandResponseType, or "ERROR" when the request failed (no answer, HTTP error, bad data)."""

    authorization_reference: str
    command: str
    result: str
    timeout_s: int | None
    message: str | None


@dataclass(frozen=True)
class CommandResultReceived:
    """The CPO's asynchronous CommandResult, POSTed to our per-command response_url."""

    authorization_reference: str
    command: str
    result: str
    message: str | None


@dataclass(frozen=True)
class SessionUpdated:
    authorization_reference: str | None
    session_id: str
    status: str
    kwh: Decimal
    total_cost: Decimal | None  # incl. taxes when known, else before taxes; None = not sent
    currency: str
    start: datetime
    end: datetime | None
    last_updated: datetime
    raw: dict[str, Any]  # the Session as stored (after a PATCH: merged), for our own pricing
    # Charging power now, from the charging periods (`ocpi.power`); None = not known.
    power_kw: Decimal | None = None


@dataclass(frozen=True)
class CdrReceived:
    authorization_reference: str | None
    cdr_id: str
    total_cost_incl: Decimal | None
    total_cost_excl: Decimal
    total_energy: Decimal
    credit: bool
    credit_reference_id: str | None
    invoice_reference_id: str | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class LocationUpdated:
    location_id: str
    evse_uid: str | None
    status: str | None


@dataclass(frozen=True)
class TariffUpdated:
    tariff_id: str
    deleted: bool = False


Event = (
    CommandResponseReceived
    | CommandResultReceived
    | SessionUpdated
    | CdrReceived
    | LocationUpdated
    | TariffUpdated
)
# Called with the publisher's open database session (the caller commits) and the event.
Handler = Callable[[Session, Event], None]

_handlers: list[Handler] = []
_lock = threading.Lock()


def subscribe(handler: Handler) -> Callable[[], None]:
    """Register `handler` for every event; returns a function that unsubscribes it."""
    with _lock:
        _handlers.append(handler)

    def unsubscribe() -> None:
        with _lock:
            if handler in _handlers:
                _handlers.remove(handler)

    return unsubscribe


def commit_and_publish(session: Session, evts: list[Event]) -> None:
    """Hand `evts` to every subscriber inside `session`'s transaction, then commit it."""
    with _lock:
        handlers = list(_handlers)
    for event in evts:
        for handler in handlers:
            try:
                handler(session, event)
            except Exception:
                log.exception("OCPI event handler %r failed on %s", handler, type(event).__name__)
    session.commit()
