"""Result codes (BMP 27, 06 1E), intermediate statuses (04 FF) and terminal statuses (06 0F)."""

from __future__ import annotations

from enum import Enum


class Outcome(Enum):
    """What a result code means for the kiosk."""

    APPROVED = "approved"
    DECLINED = "declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    CARD_UNREADABLE = "card_unreadable"
    CARD_EXPIRED = "card_expired"
    CUSTOMER_ABORT_OR_TIMEOUT = "customer_abort_or_timeout"
    PIN_ERROR = "pin_error"
    TERMINAL_NOT_READY = "terminal_not_ready"
    NOT_POSSIBLE = "not_possible"
    PREAUTH_ERROR = "preauth_error"
    PROTOCOL_ERROR = "protocol_error"
    SYSTEM_ERROR = "system_error"


_O = Outcome

# PA00P015 ch. 10; 01..63 are host (ISO 8583) codes sent as binary, e.g. 0x33 = host "51".
RESULT_CODES: dict[int, tuple[str, Outcome]] = {
    0x00: ("no error", _O.APPROVED),
    0x05: ("do not honour", _O.DECLINED),
    0x0E: ("invalid card number", _O.DECLINED),
    0x21: ("expired card", _O.CARD_EXPIRED),
    0x26: ("PIN tries exceeded", _O.PIN_ERROR),
    0x33: ("insufficient funds", _O.INSUFFICIENT_FUNDS),
    0x36: ("expired card", _O.CARD_EXPIRED),
    0x37: ("incorrect PIN", _O.PIN_ERROR),
    0x4B: ("PIN tries exceeded", _O.PIN_ERROR),
    0x64: ("card not readable", _O.CARD_UNREADABLE),
    0x65: ("card data not present", _O.CARD_UNREADABLE),
    0x66: ("processing error", _O.SYSTEM_ERROR),
    0x67: ("function not permitted for ec and Maestro cards", _O.NOT_POSSIBLE),
    0x68: ("function not permitted for credit and tank cards", _O.NOT_POSSIBLE),
    0x6A: ("turnover file full", _O.TERMINAL_NOT_READY),
    0x6B: ("function deactivated (PT not registered)", _O.TERMINAL_NOT_READY),
    0x6C: ("abort via timeout or abort key", _O.CUSTOMER_ABORT_OR_TIMEOUT),
    0x6E: ("card in blocked list", _O.DECLINED),
    0x6F: ("wrong currency", _O.NOT_POSSIBLE),
    0x71: ("credit not sufficient (chip)", _O.INSUFFICIENT_FUNDS),
    0x72: ("chip error", _O.CARD_UNREADABLE),
    0x73: ("card data incorrect", _O.CARD_UNREADABLE),
    0x78: ("card expired", _O.CARD_EXPIRED),
    0x79: ("card not yet valid", _O.DECLINED),
    0x7A: ("card unknown", _O.DECLINED),
    0x7D: ("communication error", _O.SYSTEM_ERROR),
    0x83: ("function not possible", _O.NOT_POSSIBLE),
    0x85: ("key missing", _O.TERMINAL_NOT_READY),
    0x89: ("wrong PIN", _O.PIN_ERROR),
    0x9A: ("ZVT protocol error", _O.PROTOCOL_ERROR),
    0x9B: ("error from dial-up/communication fault", _O.SYSTEM_ERROR),
    0x9C: ("please wait", _O.TERMINAL_NOT_READY),
    0xA0: ("receiver not ready", _O.TERMINAL_NOT_READY),
    0xA1: ("remote station does not respond", _O.SYSTEM_ERROR),
    0xA3: ("no connection", _O.SYSTEM_ERROR),
    0xB1: ("memory full", _O.TERMINAL_NOT_READY),
    0xB2: ("merchant journal full", _O.TERMINAL_NOT_READY),
    0xB4: ("already reversed", _O.NOT_POSSIBLE),
    0xB5: ("reversal not possible", _O.NOT_POSSIBLE),
    0xB7: ("pre-authorisation incorrect (amount wrong)", _O.PREAUTH_ERROR),
    0xB8: ("error pre-authorisation", _O.PREAUTH_ERROR),
    0xC2: ("diagnosis required", _O.TERMINAL_NOT_READY),
    0xC3: ("maximum amount exceeded", _O.DECLINED),
    0xC5: ("payment method not supported", _O.NOT_POSSIBLE),
    0xC8: ("amount too small", _O.DECLINED),
    0xCC: ("printer not ready", _O.TERMINAL_NOT_READY),
    0xDC: ("card inserted", _O.TERMINAL_NOT_READY),
    0xE4: ("terminal activation required", _O.TERMINAL_NOT_READY),
    0xF0: ("open end-of-day batch present", _O.TERMINAL_NOT_READY),
    0xFF: ("system error", _O.SYSTEM_ERROR),
}


def result_text(code: int) -> str:
    if code in RESULT_CODES:
        return RESULT_CODES[code][0]
    if 0x01 <= code <= 0x63:
        return f"declined by the host (code {code:02d})"
    return f"error 0x{code:02X}"


def outcome_for(code: int) -> Outcome:
    """Typed outcome of a result code; unknown host codes are declines, others system errors."""
    if code in RESULT_CODES:
        return RESULT_CODES[code][1]
    return Outcome.DECLINED if 0x01 <= code <= 0x63 else Outcome.SYSTEM_ERROR


# 04 FF intermediate status -> message key the kiosk translates (PA00P015 table 17).
_STATUS_KEYS: dict[int, str] = {
    0x00: "confirm_amount",
    0x01: "enter_pin",
    0x02: "enter_pin",
    0x03: "not_accepted",
    0x04: "please_wait",
    0x05: "reversing",
    0x06: "please_wait",
    0x07: "card_not_admitted",
    0x08: "card_unknown",
    0x09: "card_expired",
    0x0A: "insert_card",
    0x0B: "remove_card",
    0x0C: "card_unreadable",
    0x0D: "processing_error",
    0x0E: "please_wait",
    0x0F: "please_wait",
    0x10: "invalid_card",
    0x11: "show_balance",
    0x12: "system_malfunction",
    0x13: "payment_not_possible",
    0x14: "insufficient_funds",
    0x15: "incorrect_pin",
    0x16: "limit_not_sufficient",
    0x17: "please_wait",
    0x18: "pin_try_limit_exceeded",
    0x19: "card_data_incorrect",
    0x1A: "service_mode",
    0x1B: "approved",
    0x1C: "approved",
    0x1D: "declined",
    0x26: "enter_pin",
    0xD2: "connecting",
    0xD3: "connection_established",
    0xE0: "please_wait",
    0xF1: "offline",
    0xF2: "online",
    0xF3: "offline_transaction",
    0xFF: "text",
}


def status_key(code: int) -> str:
    """Message key for an 04 FF code; 41..5D are the same as 01..1D plus "remove card"."""
    if 0x41 <= code <= 0x5D:
        return _STATUS_KEYS.get(code - 0x40, "please_wait") + "+remove_card"
    return _STATUS_KEYS.get(code, "please_wait")


# 06 0F terminal status after Status-Enquiry (ch. 11).
TERMINAL_STATUS: dict[int, str] = {
    0x00: "ready",
    0x51: "initialisation required",
    0x62: "date/time incorrect",
    0x9C: "please wait",
    0x9D: "partial issue of goods",
    0xB1: "memory full",
    0xB2: "merchant journal full",
    0xBF: "voltage supply too low",
    0xC2: "diagnosis required",
    0xC4: "card profile invalid",
    0xCC: "printer not ready",
    0xDC: "card inserted",
    0xDF: "out of order",
    0xE0: "remote maintenance activated",
    0xE1: "card not completely removed",
    0xE2: "card reader defective",
    0xE3: "shutter closed",
    0xE4: "terminal activation required",
    0xF0: "reconciliation required",
    0xF6: "OPT data not available",
}
