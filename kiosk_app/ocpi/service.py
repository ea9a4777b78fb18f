"""What the rest of the application calls to talk to the CPO: sync Locations and Tariffs,
START_SESSION/STOP_SESSION, token push, Financial Advice Confirmations.

Each command follows intent, act, record: the command row (with its response_url id) is
committed before the HTTP request, because the CPO may POST the CommandResult before its own
response reaches us; the CommandResponse is recorded and published in one commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kiosk_app.config import OcpiConfig
from kiosk_app.db import Database
from kiosk_app.models.ocpi import (
    OcpiCommand,
    OcpiFinancialAdvice,
    OcpiLocation,
    OcpiSession,
    OcpiToken,
    utcnow,
)
from kiosk_app.ocpi import envelope, events, peers, store, versions
from kiosk_app.ocpi.client import OcpiClient, Peer
from kiosk_app.ocpi.envelope import OcpiError, Status
from kiosk_app.ocpi.objects import CommandResponse, ci

log = logging.getLogger(__name__)

ERROR = "ERROR"  # CommandResponseReceived.result when no CommandResponse could be read


@dataclass(frozen=True)
class SyncReport:
    locations: int
    tariffs: int
    rejected: list[str]
    sessions: int = 0


class OcpiService:
    """The kiosk's OCPI actions toward its registered CPO."""

    def __init__(self, database: Database, config: OcpiConfig, client: OcpiClient | None = None):
        self.database = database
        self.config = config
        self.client = client or OcpiClient(
            config.connect_timeout_s, config.read_timeout_s, config.get_retries
        )

    def _peer(self) -> tuple[int, Peer]:
        with self.database.reading() as db:
            row = peers.current_cpo(db)
            if row is None:
                raise OcpiError(Status.CLIENT_API_UNUSABLE, "no CPO registered")
            return row.id, peers.peer_connection(row, self.config)

    # --- handshake -------------------------------------------------------------------------------

    def register(self, versions_url: str, token_a: str) -> str:
        """Register with a CPO (credentials handshake); returns the negotiated version."""
        row = peers.register_with_cpo(
            self.database.sessionmaker,
            self.client,
            self.config,
            versions_url,
            token_a,
            self.config.token_encoding,
        )
        return row.version or ""

    # --- sync ------------------------------------------------------------------------------------

    def sync(
        self, date_from: datetime | None = None, modules: tuple[str, ...] = ("locations", "tariffs")
    ) -> SyncReport:
        """Pull Locations and Tariffs (all, or changed since `date_from`) and store them;
        `modules=("sessions",)` resynchronises Sessions after an outage. Objects that fail
        validation are skipped and named in the report."""
        _, peer = self._peer()
        version = peer.version or "2.2.1"
        rejected: list[str] = []
        counts = dict.fromkeys(modules, 0)
        for module in modules:
            if module != "locations" and module not in (peer.endpoints or {}):
                continue
            items = self.client.iter_pages(peer, peer.endpoint(module), date_from)
            for item in items:
                try:
                    self._store_pulled(module, version, peer, item)
                except OcpiError as exc:
                    rejected.append(f"{module} {_id_of(item)}: {exc.message}")
                    continue
                counts[module] += 1
        for problem in rejected:
            log.warning("sync rejected %s", problem)
        return SyncReport(
            counts.get("locations", 0),
            counts.get("tariffs", 0),
            rejected,
            counts.get("sessions", 0),
        )

    def _store_pulled(self, module: str, version: str, peer: Peer, item: Any) -> None:
        routing = peer.routing
        cc = (item.get("country_code") if isinstance(item, dict) else None) or (
            routing.to_country_code if routing else ""
        )
        pid = (item.get("party_id") if isinstance(item, dict) else None) or (
            routing.to_party_id if routing else ""
        )
        with self.database.session() as db:
            put = {
                "locations": store.put_location,
                "tariffs": store.put_tariff,
                "sessions": store.put_session,
            }[module]
            _, evts = put(db, version, cc, pid, _id_of(item), item)
            events.commit_and_publish(db, evts)

    # --- commands --------------------------------------------------------------------------------

    def start_session(
        self,
        authorization_reference: str,
        location_id: str,
        evse_uid: str,
        connector_id: str | None = None,
    ) -> CommandResponse | None:
        """START_SESSION with a fresh one-time AD_HOC_USER token. Returns the CommandResponse
        (None when none could be read; the event then says ERROR)."""
        peer_id, peer = self._peer()
        version = peer.version or "2.2.1"
        token, token_row = self._new_token(authorization_reference, version)
        connector_id = connector_id or self._required_connector(location_id, evse_uid)
        body: dict[str, Any] = {"token": token, "location_id": location_id, "evse_uid": evse_uid}
        if connector_id:
            body["connector_id"] = connector_id
        if version >= "2.2":
            body["authorization_reference"] = authorization_reference
        push = (lambda: self.client.push_token(peer, token)) if self.config.push_tokens else None
        return self._command(
            peer_id, peer, "START_SESSION", authorization_reference, body, token_row, push
        )

    def stop_session(self, authorization_reference: str) -> CommandResponse | None:
        """STOP_SESSION for the Session that carries `authorization_reference`."""
        peer_id, peer = self._peer()
        with self.database.session() as db:
            session_id = db.scalar(
                sa.select(OcpiSession.session_id)
                .filter_by(authorization_reference=ci(authorization_reference))
                .order_by(OcpiSession.last_updated.desc())
            )
        if session_id is None:
            raise OcpiError(
                Status.INVALID_PARAMETERS, f"no Session known for {authorization_reference}"
            )
        return self._command(
            peer_id, peer, "STOP_SESSION", authorization_reference, {"session_id": session_id}
        )

    def _command(
        self,
        peer_id: int,
        peer: Peer,
        command: str,
        reference: str,
        body: dict[str, Any],
        token: OcpiToken | None = None,
        push_token: Callable[[], None] | None = None,
    ) -> CommandResponse | None:
        """Record the command (with its one-time `token`: one commit), push the token when
        configured, send the command, record and publish the answer."""
        command_id = str(uuid.uuid4())
        base = versions.module_base(self.config.public_url, peer.version or "2.2.1")
        body = {"response_url": f"{base}/commands/{command}/{command_id}", **body}
        with self.database.session() as db:
            if token is not None:
                db.add(token)
            db.add(
                OcpiCommand(
                    id=command_id,
                    peer_id=peer_id,
                    command=command,
                    authorization_reference=ci(reference),
                    token_uid=token.uid if token is not None else None,
                    request=body,
                )
            )
            db.commit()
        response: CommandResponse | None = None
        error: str | None = None
        try:
            if push_token is not None:
                push_token()
            response = self.client.command(peer, command, body)
        except OcpiError as exc:
            error = exc.message[:255]
            log.warning("%s for %s failed: %s", command, reference, error)
        with self.database.session() as db:
            row = db.get(OcpiCommand, command_id)
            row.responded_at = utcnow()
            if response is not None:
                row.response_result, row.response_timeout_s = response.result, response.timeout_s
            else:
                row.response_result, row.response_error = ERROR, error
            answer = events.CommandResponseReceived(
                authorization_reference=ci(reference),
                command=command,
                result=response.result if response else ERROR,
                timeout_s=response.timeout_s if response else None,
                message=response.message if response else error,
            )
            events.commit_and_publish(db, [answer])
        return response

    def _new_token(self, reference: str, version: str) -> tuple[dict[str, Any], OcpiToken]:
        """A one-time AD_HOC_USER token and its row (committed with the command)."""
        uid = uuid.uuid4().hex[:20].upper()
        now = utcnow()
        token: dict[str, Any] = {
            "uid": uid,
            "type": "AD_HOC_USER",
            "issuer": self.config.business_name,
            "valid": True,
            "whitelist": "NEVER",
            "last_updated": envelope.format_datetime(now),
        }
        if version >= "2.2":
            token |= {
                "country_code": self.config.country_code,
                "party_id": self.config.party_id,
                "contract_id": f"{self.config.country_code}-{self.config.party_id}-{uid}",
            }
        else:
            token["auth_id"] = f"{self.config.country_code}-{self.config.party_id}-{uid}"
        row = OcpiToken(uid=uid, authorization_reference=ci(reference), doc=token, last_updated=now)
        return token, row

    def _required_connector(self, location_id: str, evse_uid: str) -> str | None:
        """The connector id when the EVSE demands one and has exactly one connector."""
        with self.database.reading() as db:
            doc = db.scalar(
                sa.select(OcpiLocation.doc).filter_by(location_id=ci(location_id)).limit(1)
            )
        for evse in (doc or {}).get("evses", []):
            if ci(evse.get("uid", "")) != ci(evse_uid):
                continue
            if "START_SESSION_CONNECTOR_REQUIRED" not in evse.get("capabilities", []):
                return None
            connectors = evse.get("connectors", [])
            if len(connectors) == 1:
                return connectors[0]["id"]
            raise OcpiError(Status.INVALID_PARAMETERS, f"EVSE {evse_uid} needs a connector_id")
        return None

    # --- payments --------------------------------------------------------------------------------

    def send_financial_advice(self, fac_id: str) -> None:
        """POST a recorded FAC to the CPO (2.3.0), and note the outcome on it."""
        _, peer = self._peer()
        with self.database.session() as db:
            row = db.scalar(sa.select(OcpiFinancialAdvice).filter_by(fac_id=ci(fac_id)))
            if row is None:
                raise OcpiError(Status.INVALID_PARAMETERS, f"unknown FAC {fac_id}")
            doc = row.doc
        outcome = "failed"
        try:
            self.client.post_financial_advice(peer, doc)
            outcome = "sent"
        except OcpiError as exc:
            outcome = f"failed: {exc.message}"[:64]
            raise
        finally:
            with self.database.session() as db:
                db.scalar(
                    sa.select(OcpiFinancialAdvice).filter_by(fac_id=ci(fac_id))
                ).sent_status = outcome
                db.commit()


def _id_of(item: Any) -> str:
    value = item.get("id") if isinstance(item, dict) else None
    return value if isinstance(value, str) else "?"
