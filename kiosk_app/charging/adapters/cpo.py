"""The Cpo port on `kiosk_app.ocpi` (commands out), and the bridge that feeds the CPO's pushes
(`kiosk_app.ocpi.events`) into the engine (events in)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk_app.charging.events import CommandResult
from kiosk_app.charging.ports import CommandResponse, CpoUnavailable, RemoteCdr, RemoteSession
from kiosk_app.charging.runner import UnknownTransaction
from kiosk_app.charging.service import ChargingService
from kiosk_app.config import OcpiConfig
from kiosk_app.db import Database
from kiosk_app.models.ocpi import OcpiCdr, OcpiSession
from kiosk_app.ocpi import events, objects, payments
from kiosk_app.ocpi.envelope import OcpiError
from kiosk_app.ocpi.pricing.money import from_minor
from kiosk_app.ocpi.service import OcpiService

log = logging.getLogger(__name__)


def reference_of(authorization_reference: str | None) -> str:
    """Our transaction reference from an OCPI CiString (stored upper-case; ours are lower-case
    hex)."""
    return (authorization_reference or "").lower()


class OcpiCpo:
    """START/STOP_SESSION, the 2.3.0 advice, and what the CPO told us, for recovery.

    `config` is read on every call: `kiosk demo` learns its public URL only once it serves."""

    def __init__(self, database: Database, config: Callable[[], OcpiConfig]) -> None:
        self.database = database
        self.config = config

    def _service(self) -> OcpiService:
        return OcpiService(self.database, self.config())

    def _command(
        self, call: Callable[[OcpiService], objects.CommandResponse | None]
    ) -> CommandResponse:
        service = self._service()
        try:
            response = call(service)
        except OcpiError as exc:
            raise CpoUnavailable(exc.message) from exc
        finally:
            service.client.close()
        if response is None:
            raise CpoUnavailable("no CommandResponse could be read")
        try:
            result = CommandResult(response.result)
        except ValueError as exc:
            raise CpoUnavailable(f"unknown CommandResponse {response.result!r}") from exc
        return CommandResponse(result, response.timeout_s)

    def start_session(
        self,
        authorization_reference: str,
        location_id: str,
        evse_uid: str,
        connector_id: str,
        token_uid: str,
    ) -> CommandResponse:
        # The one-time token is made by the OCPI service; `token_uid` is our reference.
        return self._command(
            lambda s: s.start_session(
                authorization_reference, location_id, evse_uid, connector_id or None
            )
        )

    def stop_session(self, session_id: str, authorization_reference: str) -> CommandResponse:
        return self._command(lambda s: s.stop_session(authorization_reference))

    def send_advice(self, authorization_reference: str, amount_minor: int, currency: str) -> None:
        """Record the Financial Advice Confirmation of a capture and POST it (OCPI 2.3.0)."""
        total = from_minor(amount_minor, currency)
        with self.database.session() as db:
            doc = payments.create_financial_advice(
                db, authorization_reference, total, total, currency, [], "SUCCESS"
            )
            db.commit()
        service = self._service()
        try:
            service.send_financial_advice(doc["id"])
        except OcpiError as exc:
            raise CpoUnavailable(exc.message) from exc
        finally:
            service.client.close()

    def get_sessions(self, since: datetime) -> list[RemoteSession]:
        """The Sessions the CPO pushed (after a pull of its Sessions when it offers them)."""
        self._resync()
        with self.database.session() as db:
            rows = db.scalars(
                sa.select(OcpiSession).where(
                    OcpiSession.last_updated >= since,
                    OcpiSession.authorization_reference.is_not(None),
                )
            ).all()
            return [
                RemoteSession(
                    reference_of(row.authorization_reference),
                    row.session_id,
                    row.status,
                    row.kwh,
                    None
                    if row.total_cost_minor is None
                    else from_minor(row.total_cost_minor, row.currency),
                    doc=row.doc,
                )
                for row in rows
            ]

    def get_cdrs(self, since: datetime) -> list[RemoteCdr]:
        with self.database.session() as db:
            rows = db.scalars(
                sa.select(OcpiCdr)
                .where(OcpiCdr.received_at >= since, OcpiCdr.authorization_reference.is_not(None))
                .order_by(OcpiCdr.id)
            ).all()
            return [
                RemoteCdr(
                    reference_of(row.authorization_reference),
                    row.cdr_id,
                    from_minor(row.total_cost_minor, row.currency),
                    _total_energy(row.doc),
                    row.credit,
                    row.credit_reference_id,
                    row.doc,
                )
                for row in rows
            ]

    def _resync(self) -> None:
        service = self._service()
        try:
            service.sync(modules=("sessions",))
        except OcpiError as exc:
            log.info("sessions not pulled from the CPO: %s", exc.message)
        finally:
            service.client.close()


def _total_energy(doc: dict) -> Decimal:
    return Decimal(str(doc.get("total_energy", 0)))


class EventBridge:
    """Feeds CommandResults, Sessions and CDRs pushed by the CPO into the engine."""

    def __init__(self, service: ChargingService) -> None:
        self.service = service
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._unsubscribe = events.subscribe(self.handle)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def handle(self, session: Session, event: events.Event) -> None:
        """Record `event` in the receiver's open database transaction `session`."""
        reference = reference_of(getattr(event, "authorization_reference", None))
        if not reference:
            return
        try:
            self._feed(session, reference, event)
        except UnknownTransaction:
            log.info("%s for unknown transaction %s ignored", type(event).__name__, reference)
        except ValueError as exc:  # a status or result the engine does not know
            log.warning("%s for %s not understood: %s", type(event).__name__, reference, exc)

    def _feed(self, session: Session, reference: str, event: events.Event) -> None:
        if isinstance(event, events.CommandResultReceived):
            self.service.on_command_result(reference, event.command, event.result, within=session)
        elif isinstance(event, events.SessionUpdated):
            self.service.on_session(
                reference,
                event.session_id,
                event.status,
                event.kwh,
                event.total_cost,
                event.start,
                event.end,
                event.power_kw,
                event.raw,
                within=session,
            )
        elif isinstance(event, events.CdrReceived):
            total = event.total_cost_incl
            cdr = RemoteCdr(
                reference,
                event.cdr_id,
                event.total_cost_excl if total is None else total,
                event.total_energy,
                event.credit,
                event.credit_reference_id,
                event.raw,
            )
            self.service.on_cdr(cdr, within=session)
