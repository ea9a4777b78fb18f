"""Calls toward a CPO over HTTP (requests): a pooled session, connect/read timeouts, retries
only for idempotent GETs (never for commands or pushes), and every answer read through the
envelope. No database here; `service.py` ties the client to storage.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from kiosk_app.ocpi import envelope, objects, transport, versions
from kiosk_app.ocpi.envelope import Envelope, OcpiError, Status
from kiosk_app.ocpi.transport import Routing, TokenEncoding

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Peer:
    """What we need to call one peer: its token for us, version, encoding and endpoints."""

    token: str
    version: str | None = None
    encoding: TokenEncoding = "auto"
    endpoints: dict[str, str] | None = None
    routing: Routing | None = None

    def endpoint(self, module: str, *parts: str) -> str:
        """The module's URL as the peer announced it, or with `parts` appended."""
        url = (self.endpoints or {}).get(module)
        if not url:
            raise OcpiError(Status.NO_MATCHING_ENDPOINTS, f"peer offers no {module} endpoint")
        return "/".join([url.rstrip("/"), *parts]) if parts else url


class ClientError(OcpiError):
    """The peer could not be reached or answered something unusable (OCPI 3001)."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(Status.CLIENT_API_UNUSABLE, message)
        self.peer_http_status = http_status


class OcpiClient:
    """One pooled HTTP session for all calls to CPOs."""

    def __init__(
        self, connect_timeout: float = 5.0, read_timeout: float = 30.0, get_retries: int = 2
    ) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self.http = requests.Session()
        retry = Retry(
            total=get_retries,
            backoff_factor=0.2,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"GET"}),  # commands and pushes are never repeated
            raise_on_status=False,
        )
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=retry)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)

    def close(self) -> None:
        self.http.close()

    # --- plumbing --------------------------------------------------------------------------------

    def request(
        self,
        peer: Peer,
        method: str,
        url: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> tuple[Envelope, requests.Response]:
        headers = transport.request_headers(
            token=peer.token,
            version=peer.version,
            encoding=peer.encoding,
            correlation_id=correlation_id,
            routing=peer.routing,
        )
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, default=str).encode()
        try:
            response = self.http.request(
                method, url, headers=headers, data=data, params=params, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise ClientError(f"{method} {url}: {type(exc).__name__}") from None
        if response.status_code in (401, 403):
            raise ClientError(
                f"{method} {url}: HTTP {response.status_code} (token refused)", response.status_code
            )
        try:
            answer = envelope.parse(response.content)
        except OcpiError:
            raise ClientError(
                f"{method} {url}: HTTP {response.status_code}, not an OCPI envelope",
                response.status_code,
            ) from None
        if response.status_code >= 400 and answer.ok:
            raise ClientError(f"{method} {url}: HTTP {response.status_code}", response.status_code)
        return answer, response

    def call(self, peer: Peer, method: str, url: str, body: Any = None, **kw: Any) -> Any:
        """`request` that raises unless the envelope says success; returns `data`."""
        answer, _ = self.request(peer, method, url, body, **kw)
        if not answer.ok:
            raise OcpiError(
                answer.status_code,
                f"{method} {url}: OCPI {answer.status_code} {answer.status_message or ''}".strip(),
            )
        return answer.data

    # --- versions and credentials ----------------------------------------------------------------

    def detect_versions(self, versions_url: str, peer: Peer) -> tuple[Peer, dict[str, str]]:
        """GET the versions list. In `auto` mode a peer that refuses the Base64 token is tried
        with the raw token (a GET, so trying twice is harmless); the encoding that worked is
        returned in the Peer."""
        tries = [peer.encoding] if peer.encoding != "auto" else ["base64", "raw"]
        last: ClientError | None = None
        for encoding in tries:
            candidate = replace(peer, encoding=encoding)
            try:
                data = self.call(candidate, "GET", versions_url)
            except ClientError as exc:
                if exc.peer_http_status not in (401, 403):
                    raise
                last = exc
                continue
            return candidate, versions.parse_versions(data)
        assert last is not None
        raise last

    def version_details(self, peer: Peer, details_url: str) -> dict[str, str]:
        return versions.peer_endpoints(self.call(peer, "GET", details_url))

    def post_credentials(self, peer: Peer, credentials: dict[str, Any]) -> objects.Credentials:
        data = self.call(peer, "POST", peer.endpoint("credentials"), credentials)
        return objects.parse_credentials(data, peer.version or "2.2.1")

    # --- pulls -----------------------------------------------------------------------------------

    def iter_pages(
        self, peer: Peer, url: str, date_from: datetime | None = None, limit: int | None = None
    ) -> Iterator[Any]:
        """Every item of a paginated list, following `Link: rel="next"` (filters kept)."""
        params: dict[str, Any] | None = {}
        if date_from is not None:
            params["date_from"] = envelope.format_datetime(date_from)
        if limit is not None:
            params["limit"] = limit
        next_url: str | None = url
        while next_url:
            answer, response = self.request(peer, "GET", next_url, params=params)
            if not answer.ok:
                raise OcpiError(answer.status_code, f"GET {next_url}: {answer.status_message}")
            if not isinstance(answer.data, list):
                raise ClientError(f"GET {next_url}: data is not a list")
            yield from answer.data
            next_url = transport.next_link(response.headers.get("Link"))
            params = None  # the next link carries the filters

    def locations(self, peer: Peer, date_from: datetime | None = None) -> Iterator[Any]:
        return self.iter_pages(peer, peer.endpoint("locations"), date_from)

    def tariffs(self, peer: Peer, date_from: datetime | None = None) -> Iterator[Any]:
        return self.iter_pages(peer, peer.endpoint("tariffs"), date_from)

    def sessions(self, peer: Peer, date_from: datetime | None = None) -> Iterator[Any]:
        return self.iter_pages(peer, peer.endpoint("sessions"), date_from)

    # --- commands and tokens ---------------------------------------------------------------------

    def command(self, peer: Peer, command: str, body: dict[str, Any]) -> objects.CommandResponse:
        """POST a command once (never retried). Raises OcpiError when there is no usable
        CommandResponse."""
        data = self.call(peer, "POST", peer.endpoint("commands", command), body)
        return objects.parse_command_response(data)

    def push_token(self, peer: Peer, token: dict[str, Any]) -> None:
        url = (
            f"{peer.endpoint('tokens')}/{token['country_code']}/{token['party_id']}/{token['uid']}"
        )
        self.call(peer, "PUT", url, token, params={"type": token["type"]})

    def post_financial_advice(self, peer: Peer, fac: dict[str, Any]) -> None:
        self.call(peer, "POST", peer.endpoint("payments", "financial-advice-confirmations"), fac)
