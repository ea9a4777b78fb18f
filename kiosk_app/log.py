"""Logging: a request id on every line, optional JSON lines, and no secrets or card numbers.

The request id comes from the caller's `X-Request-ID` header when it sends one (so a CPO's
request can be followed through our logs) or is generated; outside a request it is `-`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# 13 to 19 digits, optionally grouped: the shape of a card number.
_PAN = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")


class ContextFilter(logging.Filter):
    """Stamps the request id and masks secrets and card numbers in the message."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True

    def mask(self, text: str) -> str:
        for value in self.secrets:
            text = text.replace(value, "********")
        return mask_card_numbers(text)


def mask_card_numbers(text: str) -> str:
    """`text` with every card number replaced (logs, operator pages).

    A run shaped like `_PAN` is masked when it holds a card number: 13 to 19 digits, not
    starting with 0, passing the Luhn check, made of the whole run or of whole groups of it (so
    "4111111111111111 50" is still caught). References and request ids stay readable."""
    return _PAN.sub(lambda m: "PAN-REDACTED" if _holds_card_number(m.group()) else m.group(), text)


def _holds_card_number(run: str) -> bool:
    groups = re.split(r"[ -]", run)
    candidates = (
        "".join(groups[i:j]) for i in range(len(groups)) for j in range(i + 1, len(groups) + 1)
    )
    return any(
        13 <= len(digits) <= 19 and digits[0] != "0" and _luhn_valid(digits)
        for digits in candidates
    )


def _luhn_valid(digits: str) -> bool:
    values = [int(c) for c in digits]
    checksum = sum(values[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in values[-2::-2])
    return checksum % 10 == 0


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the `sys.stderr` of the moment, which a supervisor or a test may have replaced."""

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # type: ignore[no-untyped-def]
        pass


def configure(level: str, as_json: bool, secrets: list[str]) -> None:
    """Install one handler on the root logger (idempotent: replaces an earlier one)."""
    handler = StderrHandler()
    handler.addFilter(ContextFilter(secrets))
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "kiosk", False)]:
        root.removeHandler(old)
    handler.kiosk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
