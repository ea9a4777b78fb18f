"""Errors raised by the ZVT protocol core, the transports and the ECR session."""

from __future__ import annotations

from payment_terminal.protocol.codes import Outcome


class ZvtError(Exception):
    """Base of every error this library raises."""


class ProtocolError(ZvtError):
    """Bytes that do not form a valid ZVT message.

    `offset` is the byte position (within the APDU, frame or TLV being parsed) where the
    problem was found; `expected` says what should have been there.
    """

    def __init__(self, offset: int, expected: str, found: str = "") -> None:
        self.offset = offset
        self.expected = expected
        self.found = found
        detail = f"at offset {offset}: expected {expected}"
        if found:
            detail += f", found {found}"
        super().__init__(detail)

    def shifted(self, base: int) -> ProtocolError:
        """The same error with its offset moved by `base` (for a field nested in a larger unit)."""
        return ProtocolError(self.offset + base, self.expected, self.found)


class TransmissionError(ZvtError):
    """The link gave up: no ACK after the repeats, NAKs, a dropped connection."""


class TerminalTimeout(ZvtError):
    """A protocol timer (T3 first answer, T4 completion) expired without an answer."""


class CommandRefused(ZvtError):
    """The PT refused a command outright with a negative acknowledgement `84 xx`."""

    def __init__(self, code: int, text: str) -> None:
        self.code = code
        self.text = text
        super().__init__(f"command refused by the terminal: 84 {code:02X} ({text})")


class PaymentDeclined(ZvtError):
    """The PT ran the command and reports failure (06 1E, or 04 0F with a result code != 00).

    `outcome` is the typed meaning, `result_code` the numeric code, `text` the PT's text
    (TLV 1F17 or BMP 3C) or the spec's wording, `extended_code` TLV 1F16 as hex if sent.
    """

    def __init__(
        self, outcome: Outcome, result_code: int, text: str, extended_code: str = ""
    ) -> None:
        self.outcome = outcome
        self.result_code = result_code
        self.text = text
        self.extended_code = extended_code
        super().__init__(f"{outcome.value} (result code 0x{result_code:02X}): {text}")
