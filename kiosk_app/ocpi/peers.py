"""Peers and the credentials handshake in both directions.

Tokens others present to us are stored only as SHA-256 hashes. Token A (issued out of band by
`issue_token`) opens versions and credentials only; the handshake replaces it with a token we
generate (C when the CPO registers with us, B when we register with the CPO).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from kiosk_app.config import OcpiConfig
from kiosk_app.models.ocpi import OcpiPeer
from kiosk_app.ocpi import objects, transport, versions
from kiosk_app.ocpi.client import OcpiClient, Peer
from kiosk_app.ocpi.envelope import OcpiError, Status
from kiosk_app.ocpi.transport import Routing

log = logging.getLogger(__name__)

PENDING, REGISTERED, UNREGISTERED = "pending", "registered", "unregistered"


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 43 characters, within CiString(64)


def issue_token(db: DbSession, encoding: transport.TokenEncoding = "auto") -> str:
    """Create a token A for a CPO that will register with us; returned once, stored hashed."""
    token = new_token()
    db.add(
        OcpiPeer(
            status=PENDING,
            incoming_token_hash=transport.hash_token(token),
            token_encoding=encoding,
            endpoints={},
        )
    )
    db.flush()
    return token


@dataclass(frozen=True)
class Caller:
    """Who is calling: a snapshot of the peer row (read with one light query per request)."""

    peer_id: int
    status: str
    country_code: str | None
    party_id: str | None
    token: str
    encoding: str  # how this request carried the token: base64 | raw

    def peer(self, db: DbSession) -> OcpiPeer:
        """The peer's row, for the credentials endpoints that change it."""
        return db.get_one(OcpiPeer, self.peer_id)


# Built once: every request of every peer runs it (its compiled form is cached).
_CALLER_QUERY = sa.select(
    OcpiPeer.id,
    OcpiPeer.status,
    OcpiPeer.country_code,
    OcpiPeer.party_id,
    OcpiPeer.token_encoding,
).where(OcpiPeer.incoming_token_hash == sa.bindparam("digest"))


class RecentCallers:
    """Callers authenticated in the last `ttl_s` seconds, by `Authorization` header.

    A charging car's Session is PATCHed every few seconds: this spares each PATCH the token
    query. A change of credentials clears it in the process that made it; other web workers
    notice within `ttl_s`. Only registered callers are kept: a new token, or a handshake that
    completes in another process or outside a request, takes effect at once.
    """

    def __init__(self, ttl_s: float = 2.0, size: int = 64) -> None:
        self.ttl_s, self.size = ttl_s, size
        self._callers: dict[str, tuple[float, Caller]] = {}

    def get(self, header: str) -> Caller | None:
        found = self._callers.get(header)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, header: str, caller: Caller) -> None:
        if len(self._callers) >= self.size:  # only peers' headers land here: a handful
            self._callers.clear()
        self._callers[header] = (time.monotonic() + self.ttl_s, caller)

    def clear(self) -> None:
        self._callers.clear()


def authenticate(db: DbSession, header: str | None) -> Caller | None:
    """The peer behind an `Authorization: Token …` header, or None (→ HTTP 401)."""
    for candidate in transport.token_candidates(header):
        digest = transport.hash_token(candidate.token)
        row = db.connection().execute(_CALLER_QUERY, {"digest": digest}).first()
        if row is None or row.status == UNREGISTERED:
            continue
        if row.token_encoding in ("auto", candidate.encoding):
            return Caller(
                row.id,
                row.status,
                row.country_code,
                row.party_id,
                candidate.token,
                candidate.encoding,
            )
    return None


def peer_connection(peer: OcpiPeer, config: OcpiConfig) -> Peer:
    """How to call `peer`."""
    if peer.status != REGISTERED or not peer.outgoing_token:
        raise OcpiError(Status.CLIENT_API_UNUSABLE, "no registered CPO")
    routing = None
    if peer.country_code and peer.party_id:
        routing = Routing(config.country_code, config.party_id, peer.country_code, peer.party_id)
    return Peer(
        token=peer.outgoing_token,
        version=peer.version,
        encoding=peer.token_encoding,  # type: ignore[arg-type]
        endpoints=peer.endpoints,
        routing=routing,
    )


def current_cpo(db: DbSession) -> OcpiPeer | None:
    """The registered CPO (the most recently registered one when there are several)."""
    return db.scalar(
        sa.select(OcpiPeer).filter_by(status=REGISTERED).order_by(OcpiPeer.updated_at.desc())
    )


def our_credentials(config: OcpiConfig, token: str, version: str) -> dict:
    return objects.credentials_document(
        token,
        f"{config.public_url}/versions",
        config.country_code,
        config.party_id,
        config.business_name,
        version,
    )


def _connect(
    client: OcpiClient, versions_url: str, token: str, encoding: str
) -> tuple[Peer, dict[str, str]]:
    """GET versions and the details of the highest common version → a callable Peer."""
    peer, offered = client.detect_versions(versions_url, Peer(token=token, encoding=encoding))  # type: ignore[arg-type]
    version = versions.negotiate(list(offered))
    peer = Peer(token=token, version=version, encoding=peer.encoding)
    data = client.call(peer, "GET", offered[version])
    endpoints = versions.peer_endpoints(data)
    credentials_url = next(
        (e["url"] for e in data.get("endpoints", []) if e.get("identifier") == "credentials"),
        None,
    )
    if credentials_url:
        endpoints["credentials"] = credentials_url
    return Peer(
        token=token, version=version, encoding=peer.encoding, endpoints=endpoints
    ), endpoints


def register_with_cpo(
    session_factory: Callable[[], DbSession],
    client: OcpiClient,
    config: OcpiConfig,
    versions_url: str,
    token_a: str,
    encoding: str = "auto",
) -> OcpiPeer:
    """We register with a CPO: versions → details → POST our credentials with a fresh token B
    → store its token C. Token B is committed before the POST because the CPO calls our
    versions endpoint with it while handling our POST."""
    peer, endpoints = _connect(client, versions_url, token_a, encoding)
    if "credentials" not in endpoints:
        raise OcpiError(Status.NO_MATCHING_ENDPOINTS, "CPO offers no credentials endpoint")
    token_b = new_token()
    with session_factory() as db:
        row = OcpiPeer(
            status=PENDING,
            incoming_token_hash=transport.hash_token(token_b),
            token_encoding=peer.encoding,
            versions_url=versions_url,
            version=peer.version,
            endpoints=endpoints,
        )
        db.add(row)
        db.commit()
        row_id = row.id
    try:
        theirs = client.post_credentials(peer, our_credentials(config, token_b, peer.version or ""))
    except OcpiError:
        with session_factory() as db:
            db.delete(db.get(OcpiPeer, row_id))
            db.commit()
        raise
    with session_factory() as db:
        row = db.get(OcpiPeer, row_id)
        _adopt(row, theirs, peer.version or "", endpoints)
        row.versions_url = versions_url
        db.commit()
        log.info(
            "registered with CPO %s/%s on OCPI %s", row.country_code, row.party_id, row.version
        )
        return row


def _adopt(row: OcpiPeer, theirs: objects.Credentials, version: str, endpoints: dict) -> None:
    row.outgoing_token = theirs.token
    row.country_code, row.party_id = objects.ci(theirs.country_code), objects.ci(theirs.party_id)
    row.name, row.version, row.endpoints = theirs.business_name, version, endpoints
    row.status = REGISTERED


def accept_registration(
    db: DbSession,
    client: OcpiClient,
    config: OcpiConfig,
    caller: Caller,
    body: object,
    version: str,
    update: bool,
) -> dict:
    """A CPO registers with us (POST) or updates its registration (PUT): we call its versions
    with its token B, store its endpoints, issue a new token C (stored hashed) and return our
    credentials carrying it."""
    peer = caller.peer(db)
    if update != (peer.status == REGISTERED):
        verb = "PUT" if update else "POST"
        raise OcpiError(Status.CLIENT_ERROR, f"{verb} credentials not allowed now", 405)
    theirs = objects.parse_credentials(body, version)
    encoding = peer.token_encoding if peer.token_encoding != "auto" else "auto"
    try:
        connected, endpoints = _connect(client, theirs.url, theirs.token, encoding)
    except OcpiError as exc:
        if exc.status in (Status.UNSUPPORTED_VERSION, Status.NO_MATCHING_ENDPOINTS):
            raise
        raise OcpiError(Status.CLIENT_API_UNUSABLE, f"cannot use your API: {exc.message}") from None
    token_c = new_token()
    peer.incoming_token_hash = transport.hash_token(token_c)
    peer.versions_url = theirs.url
    peer.token_encoding = (
        connected.encoding if peer.token_encoding == "auto" else peer.token_encoding
    )
    _adopt(peer, theirs, connected.version or version, endpoints)
    db.flush()
    return our_credentials(config, token_c, connected.version or version)


def unregister(db: DbSession, caller: Caller) -> None:
    """DELETE credentials: the peer's tokens stop working (see `RecentCallers` for how soon)."""
    peer = caller.peer(db)
    if peer.status != REGISTERED:
        raise OcpiError(Status.CLIENT_ERROR, "not registered", 405)
    peer.status = UNREGISTERED
    peer.incoming_token_hash = transport.hash_token(new_token())  # forget the old one
    peer.outgoing_token = None
    db.flush()
