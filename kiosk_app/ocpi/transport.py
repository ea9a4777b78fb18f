"""HTTP-level OCPI rules without doing I/O: the Authorization token, request ids, routing
headers and pagination (transport_and_format). Both the client and the receiver use these.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# How a peer writes the `Authorization: Token …` value. OCPI 2.2+ says Base64, 2.1.1 says raw,
# and many 2.2 peers still send raw: `auto` accepts both and sends what the version demands.
TokenEncoding = Literal["auto", "base64", "raw"]

_LINK_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?', re.IGNORECASE)


def uses_base64(version: str | None) -> bool:
    """Whether `version` defines the token as Base64 (2.2 and later)."""
    return version is not None and version >= "2.2"


def authorization_header(token: str, version: str | None, encoding: TokenEncoding) -> str:
    """The header value we send: Base64 for 2.2+ unless the peer is configured as raw."""
    if encoding == "raw" or (encoding == "auto" and not uses_base64(version)):
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode()).decode("ascii")


@dataclass(frozen=True)
class TokenCandidate:
    token: str
    encoding: Literal["base64", "raw"]


def token_candidates(header: str | None) -> list[TokenCandidate]:
    """Every token the `Authorization` header may carry: as sent, and Base64-decoded when the
    value decodes to printable ASCII. The caller checks which one it knows."""
    if not header:
        return []
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    found = [TokenCandidate(value, "raw")]
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return found
    if decoded and decoded.isprintable() and decoded != value:
        found.insert(0, TokenCandidate(decoded, "base64"))
    return found


def hash_token(token: str) -> str:
    """How tokens others present to us are stored: SHA-256 hex. Tokens are random, so no salt."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_request_id() -> str:
    return str(uuid.uuid4())


def request_headers(
    *,
    token: str,
    version: str | None,
    encoding: TokenEncoding,
    correlation_id: str | None = None,
    routing: Routing | None = None,
) -> dict[str, str]:
    """Headers for one outgoing OCPI request (a fresh X-Request-ID every time)."""
    headers = {
        "Authorization": authorization_header(token, version, encoding),
        "Accept": "application/json",
    }
    if version is None or version >= "2.2":
        headers["X-Request-ID"] = new_request_id()
        headers["X-Correlation-ID"] = correlation_id or new_request_id()
        if routing is not None:
            headers.update(routing.headers())
    return headers


@dataclass(frozen=True)
class Routing:
    """Peer-to-peer routing: FROM is the requester, TO the receiver."""

    from_country_code: str
    from_party_id: str
    to_country_code: str
    to_party_id: str

    def headers(self) -> dict[str, str]:
        return {
            "OCPI-from-country-code": self.from_country_code,
            "OCPI-from-party-id": self.from_party_id,
            "OCPI-to-country-code": self.to_country_code,
            "OCPI-to-party-id": self.to_party_id,
        }

    def reversed(self) -> Routing:
        return Routing(
            self.to_country_code, self.to_party_id, self.from_country_code, self.from_party_id
        )

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Routing | None:
        values = [
            headers.get(f"OCPI-{d}-{f}", "")
            for d in ("from", "to")
            for f in ("country-code", "party-id")
        ]
        return cls(*values) if all(values) else None


# --- pagination -------------------------------------------------------------------------------


def next_link(link_header: str | None) -> str | None:
    """The `rel="next"` URL of a `Link` header, if any."""
    if not link_header:
        return None
    match = _LINK_NEXT.search(link_header)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Page:
    """One page of a list answered by us: the slice and the headers that describe it."""

    offset: int
    limit: int
    total: int

    def headers(self, url: str, max_limit: int) -> dict[str, str]:
        headers = {"X-Total-Count": str(self.total), "X-Limit": str(max_limit)}
        following = self.offset + self.limit
        if following < self.total:
            headers["Link"] = f'<{with_query(url, offset=following, limit=self.limit)}>; rel="next"'
        return headers


def with_query(url: str, **params: object) -> str:
    """`url` with `params` set in its query string (other parameters kept)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({k: str(v) for k, v in params.items() if v is not None})
    return urlunsplit(parts._replace(query=urlencode(query)))
