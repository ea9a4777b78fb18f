"""Terminal profiles: what a particular terminal and acquirer configuration accepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from payment_terminal.protocol.charsets import DEFAULT_CHARSET
from payment_terminal.protocol.timers import Timers

# ISO 4217 alphabetic -> numeric code and minor-unit exponent.
CURRENCIES: dict[str, tuple[int, int]] = {
    "CHF": (756, 2),
    "CZK": (203, 2),
    "DKK": (208, 2),
    "EUR": (978, 2),
    "GBP": (826, 2),
    "JPY": (392, 0),
    "NOK": (578, 2),
    "PLN": (985, 2),
    "SEK": (752, 2),
    "USD": (840, 2),
}
CURRENCY_BY_NUMBER = {number: code for code, (number, _) in CURRENCIES.items()}


def currency_number(code: str) -> int:
    try:
        return CURRENCIES[code.upper()][0]
    except KeyError:
        raise ValueError(f"unsupported currency {code!r}") from None


# Config byte bits (PA00P015 table 1).
ECR_PRINTS_PAYMENT = 0x02
ECR_PRINTS_ADMIN = 0x04
INTERMEDIATE_STATUS = 0x08
ECR_CONTROLS_PAYMENT = 0x10
ECR_CONTROLS_ADMIN = 0x20
RECEIPTS_AS_PRINT_LINES = 0x80


@dataclass(frozen=True)
class TerminalProfile:
    """How to drive one terminal.

    capture_style: "book_total" sends 06 24 with the used amount; "partial_reversal" sends
    06 23 with the unused amount. release_fallback_reversal: when 06 25 is refused, release
    with Reversal 06 30. receipts: "status_data" (the ECR builds receipts from 04 0F, the PT
    prints nothing) or "print_lines" (the PT sends 06 D1 / 06 D3, collected as text).
    """

    password: str = "000000"
    currency: str = "EUR"
    capture_style: Literal["book_total", "partial_reversal"] = "book_total"
    release_fallback_reversal: bool = False
    tlv: bool = True
    receipts: Literal["status_data", "print_lines"] = "status_data"
    charset: int = DEFAULT_CHARSET
    payment_type: int = 0x40
    # TLV E9 reference container: 1F62 two-letter identifier, 1F63 our transaction reference.
    reference_id: str = "AC"
    timezone: str = "Europe/Berlin"
    # HMAC key for Reservation.card_reference (e.g. the kiosk's card_hash_salt).
    card_reference_key: bytes = b""
    baudrate: int = 9600
    timers: Timers = field(default_factory=Timers)

    @property
    def config_byte(self) -> int:
        value = (
            ECR_PRINTS_PAYMENT
            | ECR_PRINTS_ADMIN
            | INTERMEDIATE_STATUS
            | ECR_CONTROLS_PAYMENT
            | ECR_CONTROLS_ADMIN
        )
        return value | (RECEIPTS_AS_PRINT_LINES if self.receipts == "print_lines" else 0)
