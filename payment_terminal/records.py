"""Records the ECR session returns: reservations, captures, releases, totals, statuses."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from payment_terminal.protocol.codes import status_key
from payment_terminal.protocol.tlv import Tlv

# BMP 8A card types -> brand, for PTs that send no card name (BMP 8B).
CARD_TYPES = {0x05: "girocard", 0x06: "Mastercard", 0x0A: "Visa", 0x2E: "Maestro", 0x08: "Amex"}
# EMV application id prefixes (TLV 43) -> brand, for a Read Card answer without 8A/8B (Feig
# sends the card's applications only). Longest prefix first: Maestro shares Mastercard's RID.
AID_BRANDS = (
    ("a0000000043060", "Maestro"),
    ("a000000004", "Mastercard"),
    ("a000000003", "Visa"),
    ("a000000359", "girocard"),
    ("a000000025", "Amex"),
)


@dataclass(frozen=True)
class StatusUpdate:
    """An intermediate status (04 FF) for the screen: code, stable message key, PT text."""

    code: int
    key: str
    text: str = ""

    @classmethod
    def of(cls, code: int, text: str) -> StatusUpdate:
        return cls(code, status_key(code), text)


@dataclass(frozen=True)
class Reservation:
    """A pre-authorisation held on the card (from the 04 0F of 06 22).

    `aid` is BMP 3B, the authorisation attribute the PT needs back for booking; `auth_code`
    is the same value as printed on receipts. `masked_pan` keeps only the last 4 digits.
    `card_reference` identifies the card for "present the same card again" (see docs/zvt.md).
    """

    amount_minor: int
    currency: str
    receipt_no: int
    trace_no: int | None
    terminal_id: str
    aid: str
    card_brand: str
    masked_pan: str
    auth_code: str
    timestamp: datetime | None
    reference: str
    card_reference: str


@dataclass(frozen=True)
class CardRead:
    """A card presented to Read Card (06 C0). `masked_pan` keeps only the last 4 digits;
    `card_reference` equals the one of a `Reservation` paid with the same card ("" when the PT
    sent nothing to recognise the card by)."""

    card_brand: str
    masked_pan: str
    card_reference: str


@dataclass(frozen=True)
class OpenPreauthorisation:
    """An open pre-authorisation reported by the PT (06 23 87 FFFF): only its receipt number."""

    receipt_no: int
    currency: str
    amount_minor: int | None = None


@dataclass(frozen=True)
class CaptureResult:
    captured_minor: int
    currency: str
    receipt_no: int | None
    trace_no: int | None
    timestamp: datetime | None
    released: bool = False
    receipt_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleaseResult:
    released_minor: int
    currency: str
    receipt_no: int | None
    trace_no: int | None
    command: str
    receipt_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class EndOfDayTotals:
    total_minor: int
    currency: str
    receipt_from: int | None
    receipt_to: int | None
    groups: dict[str, dict[str, int]] = field(default_factory=dict)
    receipt_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class TerminalStatus:
    code: int
    text: str
    sw_version: str
    terminal_id: str


@dataclass(frozen=True)
class Registration:
    terminal_id: str
    currency_code: int | None
    status_byte: int | None


def masked_pan(pan: str) -> str:
    """Only the last 4 digits; every other position becomes '*'."""
    digits = pan.rstrip("f")
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def visible_pan(fields: dict) -> str:
    """The PAN as the PT shows it (`e` = masked digit): BMP 22, else the PAN part of track 2
    (BMP 23, before the `D` separator), which is all a PT sends after Read Card."""
    pan = str(fields.get("pan", "")).lower()
    if pan:
        return pan
    return str(fields.get("track2", "")).lower().split("d", 1)[0]


def card_reference(fields: dict, key: bytes = b"") -> str:
    """A stable id of the card without the PAN, equal for the 04 0F of a pre-authorisation
    (06 22, BMP 22) and of a Read Card (06 C0, track 2): HMAC-SHA256 (key may be empty) over
    the BIN (first 6, when shown) and the last 4 digits. Only when the PT shows no PAN digits,
    over the PT's card identifier TLV 1F14. "" when neither is sent. 32 hex digits.

    Card type, sequence number and 1F14 are not mixed into a PAN-based reference: a Feig PT
    sends them after one command and not the other (docs/zvt.md, "Card reference")."""
    pan = visible_pan(fields)
    last4 = pan[-4:]
    if len(last4) == 4 and last4.isdigit():
        bin6 = pan[:6] if pan[:6].isdigit() and len(pan) >= 10 else ""
        basis = f"pan|{bin6}|{last4}"
    else:
        tlv = fields.get("tlv")
        card_id = tlv.find(0x1F14) if isinstance(tlv, Tlv) else None
        if not isinstance(card_id, bytes) or not card_id:
            return ""
        basis = f"id|{card_id.hex()}"
    return hmac.new(key, basis.encode(), hashlib.sha256).hexdigest()[:32]


def card_brand(fields: dict) -> str:
    """The card name (8B), else the brand of the card type (8A), else of the first EMV
    application the PT lists (TLV 43); "" when unknown."""
    name = str(fields.get("card_name", "")).strip()
    if name or fields.get("card_type") in CARD_TYPES:
        return name or CARD_TYPES[fields["card_type"]]
    tlv = fields.get("tlv")
    aid = tlv.find(0x43) if isinstance(tlv, Tlv) else None
    if isinstance(aid, bytes):
        return next((brand for prefix, brand in AID_BRANDS if aid.hex().startswith(prefix)), "")
    return ""


def pt_timestamp(fields: dict, timezone: str, now: datetime | None = None) -> datetime | None:
    """Date and time of a 04 0F in the PT's zone; the year is guessed when only MMDD is sent."""
    time_text = fields.get("time")
    if not time_text:
        return None
    zone = ZoneInfo(timezone)
    now = now or datetime.now(zone)
    hour, minute, second = (int(part) for part in str(time_text).split(":"))
    if "date_full" in fields:
        year, month, day = (int(part) for part in str(fields["date_full"]).split("-"))
    elif "date" in fields:
        month, day = (int(part) for part in str(fields["date"]).split("-"))
        year = now.year
    else:
        year, month, day = now.year, now.month, now.day
    try:
        stamp = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        return None
    if "date_full" not in fields and (stamp - now).days > 1:
        stamp = stamp.replace(year=year - 1)
    return stamp
