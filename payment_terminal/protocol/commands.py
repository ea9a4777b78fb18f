"""The ZVT message table: every command and PT message declared once.

The encoder, the decoder, `kiosk zvt decode` and docs/zvt.md all read `MESSAGES`. A message is
positional fields (in order, some optional) followed by BMPs (number byte + value) unless the
spec says the data is free-form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from payment_terminal.protocol.apdu import encode_length as encode_apdu_length
from payment_terminal.protocol.apdu import split_apdu
from payment_terminal.protocol.bmp import (
    BMP_BY_KEY,
    BMP_BY_NUMBER,
    BcdNumber,
    BcdText,
    Byte,
    FieldCodec,
    Hex,
    ReceiptNumber,
    Text,
    TlvField,
    Var,
)
from payment_terminal.protocol.charsets import DEFAULT_CHARSET
from payment_terminal.protocol.errors import ProtocolError
from payment_terminal.protocol.tlv import Tlv

# When an optional positional field is present, given the bytes still unread.
Presence = Callable[[bytes], bool]


def _always(rest: bytes) -> bool:
    return True


def _at_least(size: int) -> Presence:
    return lambda rest: len(rest) >= size


def _starts_llvar(rest: bytes) -> bool:
    return bool(rest) and rest[0] >> 4 == 0xF


@dataclass(frozen=True)
class Positional:
    key: str
    codec: FieldCodec
    present: Presence = _always
    description: str = ""


@dataclass(frozen=True)
class MessageSpec:
    code: int
    name: str
    direction: str
    positional: tuple[Positional, ...] = ()
    bmps: bool = True
    # Which BMPs the spec lists for this message (documentation; decoding accepts any known BMP).
    typical_bmps: tuple[int, ...] = ()

    @property
    def code_hex(self) -> str:
        return f"{self.code >> 8:02X} {self.code & 0xFF:02X}"


PASSWORD = Positional("password", BcdText(3), description="3 BCD bytes")
OPTIONAL_PASSWORD = Positional("password", BcdText(3), _at_least(3), "3 BCD bytes, optional")
SW_VERSION = Positional("sw_version", Var(3, Text()), _starts_llvar, "LLLVAR, optional")
TERMINAL_STATUS = Positional("terminal_status", Byte(), _at_least(1), "1 byte")

_ECR, _PT = "ECR->PT", "PT->ECR"

_SPECS = (
    MessageSpec(
        0x0600,
        "Registration",
        _ECR,
        (
            PASSWORD,
            Positional("config_byte", Byte()),
            Positional("currency_code", BcdNumber(2), _at_least(2), "2 BCD bytes, optional"),
        ),
        typical_bmps=(0x03, 0x06),
    ),
    MessageSpec(0x0501, "Status-Enquiry", _ECR, (OPTIONAL_PASSWORD,), typical_bmps=(0x03, 0x06)),
    MessageSpec(0x0601, "Authorisation", _ECR, typical_bmps=(0x04, 0x49, 0x19, 0x01, 0x02, 0x06)),
    MessageSpec(0x0602, "Log-Off", _ECR),
    MessageSpec(0x0618, "Reset Terminal", _ECR),
    MessageSpec(0x0620, "Repeat Receipt", _ECR, (PASSWORD,), typical_bmps=(0x06,)),
    MessageSpec(
        0x0622,
        "Pre-Authorisation/Reservation",
        _ECR,
        typical_bmps=(0x04, 0x49, 0x19, 0x01, 0x02, 0x0B, 0x3B, 0x06),
    ),
    MessageSpec(
        0x0623,
        "Partial-Reversal/Booking of Reservation",
        _ECR,
        typical_bmps=(0x87, 0x04, 0x49, 0x0B, 0x3B, 0x19, 0x06),
    ),
    MessageSpec(
        0x0624, "Book Total", _ECR, typical_bmps=(0x87, 0x04, 0x49, 0x19, 0x0B, 0x3B, 0x8A, 0x06)
    ),
    MessageSpec(
        0x0625, "Pre-Authorisation Reversal", _ECR, typical_bmps=(0x87, 0x04, 0x49, 0x19, 0x06)
    ),
    MessageSpec(0x0630, "Reversal", _ECR, (PASSWORD,), typical_bmps=(0x87, 0x04, 0x49, 0x06)),
    MessageSpec(0x0631, "Refund", _ECR, (PASSWORD,), typical_bmps=(0x04, 0x49, 0x06)),
    MessageSpec(0x0650, "End-of-Day", _ECR, (PASSWORD,), typical_bmps=(0x06,)),
    MessageSpec(0x0670, "Diagnosis", _ECR, typical_bmps=(0x06,)),
    MessageSpec(0x0693, "Initialisation", _ECR, (PASSWORD,)),
    MessageSpec(0x06B0, "Abort", _ECR),
    MessageSpec(
        0x06C0,
        "Read Card",
        _ECR,
        (Positional("timeout", Byte()),),
        typical_bmps=(0x19, 0xFC, 0x06),
    ),
    MessageSpec(0x06E0, "Display Text", _ECR, typical_bmps=(0xF0, 0xF1, 0xF2, 0xF3, 0xF4)),
    MessageSpec(
        0x040F,
        "Status-Information",
        _PT,
        typical_bmps=(0x27, 0x04, 0x0B, 0x0C, 0x0D, 0x22, 0x29, 0x3B, 0x49, 0x87, 0x8A, 0x06),
    ),
    MessageSpec(
        0x04FF,
        "Intermediate Status-Information",
        _PT,
        (
            Positional("status", Byte()),
            Positional("timeout", Byte(), _at_least(1), "1 byte (BCD minutes), optional"),
        ),
        typical_bmps=(0x06,),
    ),
    MessageSpec(0x040C, "Request for Data (Feig)", _PT, typical_bmps=(0x06,)),
    MessageSpec(0x060F, "Completion", _PT, typical_bmps=(0x27, 0x0C, 0xAA, 0x19, 0x29, 0x49, 0x06)),
    MessageSpec(
        0x061E,
        "Abort (PT->ECR)",
        _PT,
        (Positional("result_code", Byte()),),
        typical_bmps=(0x87, 0x06),
    ),
    MessageSpec(
        0x06D1,
        "Print Line",
        _PT,
        (Positional("attribute", Byte()), Positional("text", Text())),
        bmps=False,
    ),
    MessageSpec(0x06D3, "Print Text-Block", _PT, typical_bmps=(0x06,)),
    MessageSpec(0x0813, "Change Configuration (Feig)", _ECR, typical_bmps=(0x06,)),
    MessageSpec(
        0x0FA1,
        "Feig proprietary (class 0F)",
        _ECR,
        (Positional("data", Hex()),),
        bmps=False,
    ),
)

MESSAGES: dict[int, MessageSpec] = {spec.code: spec for spec in _SPECS}


# Codecs the hot loops handle inline; anything unusual (FFFF receipts, bad nibbles, other
# codecs) falls through to the codec itself, which also produces the precise errors.
_CALL, _BYTE, _BCD_INT, _BCD_TEXT = range(4)


def _inline(codec: FieldCodec) -> tuple[int, int]:
    """(inline kind, width in bytes) of a codec."""
    if isinstance(codec, Byte):
        return _BYTE, 1
    if isinstance(codec, BcdNumber):
        return _BCD_INT, codec.size
    if isinstance(codec, ReceiptNumber):
        return _BCD_INT, 2
    if isinstance(codec, BcdText):
        return _BCD_TEXT, codec.size
    return _CALL, 0


# The BMP table flattened for the hot loops (04 0F carries a dozen and more BMPs): by number
# byte and by field key.
_DECODERS = [
    (bmp.key, *_inline(bmp.codec), bmp.codec.decode)
    if (bmp := BMP_BY_NUMBER.get(n)) is not None
    else None
    for n in range(256)
]
_ENCODERS = {
    key: (bytes([bmp.number]), *_inline(bmp.codec), bmp.codec.encode)
    for key, bmp in BMP_BY_KEY.items()
}

# Completion of a Status-Enquiry: [LLLVAR software version] <terminal status> [BMPs].
_STATUS_COMPLETION = (SW_VERSION, TERMINAL_STATUS)
_PRINT_LINE_TLV = b"\x06"


@dataclass
class Message:
    """A decoded or to-be-encoded ZVT message.

    `fields` maps field keys (see bmp.py and the positional fields above) to values in wire
    order. `rest` holds bytes that follow a BMP unknown to this table (vendor data), with
    `rest_offset` its position in the APDU data; they are kept, never guessed at.
    """

    code: int
    fields: dict[str, Any] = field(default_factory=dict)
    rest: bytes = b""
    rest_offset: int = 0

    @property
    def name(self) -> str:
        if self.code >> 8 in (0x80, 0x84):
            return (
                "Positive Acknowledgement" if self.is_positive_ack else "Negative Acknowledgement"
            )
        spec = MESSAGES.get(self.code)
        return spec.name if spec else "Unknown"

    @property
    def code_hex(self) -> str:
        return f"{self.code >> 8:02X} {self.code & 0xFF:02X}"

    @property
    def is_response(self) -> bool:
        return self.code >> 8 in (0x80, 0x84)

    @property
    def is_positive_ack(self) -> bool:
        """`80 00` and `84 00` both mean the command was accepted."""
        return self.code in (0x8000, 0x8400)


def _positional_for(code: int, after: int | None, data: bytes) -> tuple[Positional, ...]:
    if code == 0x060F and (after == 0x0501 or _starts_llvar(data)):
        return _STATUS_COMPLETION
    spec = MESSAGES.get(code)
    if spec is not None:
        return spec.positional
    return () if code >> 8 in (0x80, 0x84) else (Positional("data", Hex()),)


def _has_bmps(code: int) -> bool:
    spec = MESSAGES.get(code)
    return spec.bmps if spec is not None else code >> 8 in (0x80, 0x84)


def decode_message(raw: bytes, charset: int = DEFAULT_CHARSET, after: int | None = None) -> Message:
    """Decode one APDU. `after` is the command this message answers (06 0F after 05 01).

    Raises ProtocolError (offset within the APDU) for inconsistent lengths or fields.
    """
    code, head = split_apdu(raw)
    try:
        return _decode_data(code, raw[head:], charset, after)
    except ProtocolError as exc:
        raise exc.shifted(head) from None


def _decode_data(code: int, data: bytes, charset: int, after: int | None) -> Message:
    data, tlv = _split_print_line_tlv(data) if code == 0x06D1 else (data, None)
    message = Message(code)
    pos = 0
    for positional in _positional_for(code, after, data):
        if not positional.present(data[pos:]):
            continue
        value, pos = positional.codec.decode(data, pos, charset)
        message.fields[positional.key] = value
    if tlv is not None:
        message.fields["tlv"] = tlv
    if not _has_bmps(code):
        return message
    fields = message.fields
    size = len(data)
    while pos < size:
        decoder = _DECODERS[data[pos]]
        if decoder is None or decoder[0] in fields:
            message.rest, message.rest_offset = data[pos:], pos
            break
        key, kind, width, decode = decoder
        pos += 1
        if kind == _BYTE and pos < size:
            fields[key] = data[pos]
            pos += 1
            continue
        if kind:
            digits = data[pos : pos + width].hex()
            if len(digits) == 2 * width and digits.isdigit():
                fields[key] = int(digits) if kind == _BCD_INT else digits
                pos += width
                continue
        # The codec itself: other types, and the precise error for bad inline fields.
        fields[key], pos = decode(data, pos, charset)
    return message


def _split_print_line_tlv(data: bytes) -> tuple[bytes, Tlv | None]:
    """Some PTs (card complete) append `06 <len> <TLV>` to a print line's text."""
    at = data.find(_PRINT_LINE_TLV, 1)
    while at >= 0:
        try:
            tlv, end = TlvField().decode(data, at + 1, DEFAULT_CHARSET)
        except ProtocolError:
            end = -1
        if end == len(data):
            return data[:at], tlv
        at = data.find(_PRINT_LINE_TLV, at + 1)
    return data, None


def encode_message(message: Message, charset: int = DEFAULT_CHARSET) -> bytes:
    """Encode positional fields in table order, then BMPs in the order of `fields`."""
    fields = message.fields
    code = message.code
    data = bytearray()
    done: set[str] = set()
    positional = _positional_for(code, None, b"\xf0" if "sw_version" in fields else b"")
    for spec in positional:
        if spec.key in fields:
            data += spec.codec.encode(fields[spec.key], charset)
            done.add(spec.key)
    if code == 0x06D1 and "tlv" in fields:
        data += _PRINT_LINE_TLV + TlvField().encode(fields["tlv"], charset)
        done.add("tlv")
    has_bmps = _has_bmps(code)
    for key, value in fields.items():
        if key in done:
            continue
        encoder = _ENCODERS.get(key)
        if encoder is None or not has_bmps:
            raise ValueError(f"field {key!r} cannot be encoded in {message.code_hex}")
        prefix, kind, width, encode = encoder
        data += prefix
        if kind == _BYTE:
            data.append(value)
            continue
        if kind == _BCD_INT and type(value) is int and value >= 0:
            digits = str(value)
        elif kind == _BCD_TEXT:
            digits = value
        else:
            digits = ""
        if len(digits) <= 2 * width and digits.isdigit():
            data += bytes.fromhex(digits.zfill(2 * width))
        else:
            data += encode(value, charset)
    data += message.rest
    return code.to_bytes(2, "big") + encode_apdu_length(len(data)) + data


def command(code: int, **fields: Any) -> Message:
    """Build a message from keyword fields, skipping those that are None."""
    return Message(code, {k: v for k, v in fields.items() if v is not None})
