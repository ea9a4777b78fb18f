"""The OCPI response envelope and status codes (transport_and_format, status_codes). Sans-IO."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any


class Status(IntEnum):
    """OCPI status codes we send or act on."""

    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    CLIENT_API_UNUSABLE = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003


class OcpiError(Exception):
    """An OCPI-level failure: answered with HTTP `http_status` and an envelope `status_code`.

    Client errors about content travel as HTTP 200 with a 2xxx code, as the spec demands for
    valid JSON sent to an existing resource.
    """

    def __init__(self, status: int, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.status = int(status)
        self.message = message
        self.http_status = http_status


class ObjectError(OcpiError):
    """An OCPI object failed validation; the message starts with the field path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(Status.INVALID_PARAMETERS, f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Envelope:
    data: Any
    status_code: int
    status_message: str | None
    timestamp: str | None

    @property
    def ok(self) -> bool:
        return 1000 <= self.status_code < 2000


def format_datetime(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, seconds precision (what every peer parses)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc() -> datetime:
    return datetime.now(UTC)


def build(data: Any = None, status: int = Status.SUCCESS, message: str | None = None) -> dict:
    """An envelope dict; `data` is left out when None (errors, PUT acknowledgements)."""
    body: dict[str, Any] = {"status_code": int(status)}
    if data is not None:
        body["data"] = data
    if message:
        body["status_message"] = message
    body["timestamp"] = format_datetime(now_utc())
    return body


def parse(body: bytes | str | dict) -> Envelope:
    """Read a peer's envelope; raises OcpiError(3001) when it is not one."""
    if not isinstance(body, dict):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise OcpiError(Status.CLIENT_API_UNUSABLE, f"response is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise OcpiError(Status.CLIENT_API_UNUSABLE, "response is not an OCPI envelope object")
    code = body.get("status_code")
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool):
        raise OcpiError(Status.CLIENT_API_UNUSABLE, "response envelope lacks status_code")
    message = body.get("status_message")
    return Envelope(
        data=body.get("data"),
        status_code=code,
        status_message=message if isinstance(message, str) else None,
        timestamp=body.get("timestamp") if isinstance(body.get("timestamp"), str) else None,
    )
