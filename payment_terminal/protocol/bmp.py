"""Field codecs and the BMP (bitmap) table of PA00P015 ch. 13.

Each codec turns wire bytes into a plain Python value and back: amounts and numbers as int
(minor units, BCD decoded), ids and digits as str, texts as str in the agreed charset, opaque
data as lower-case hex. `decode` reads at `pos` of `data` and returns (value, next position);
it raises ProtocolError with the offset of the offending byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from payment_terminal.protocol.charsets import decode_text, encode_text
from payment_terminal.protocol.errors import ProtocolError
from payment_terminal.protocol.tlv import Tlv, decode_tlv, encode_length, encode_tlv, read_length

# Receipt number FFFF: "all / none" in the open pre-authorisation enquiry (not valid BCD).
RECEIPT_FFFF = 0xFFFF


class FieldCodec(Protocol):
    expected: str

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[Any, int]: ...

    def encode(self, value: Any, charset: int) -> bytes: ...


def _take(data: bytes, pos: int, size: int, what: str | FieldCodec) -> bytes:
    """`size` bytes at `pos`; `what` (a codec's `expected`, built only on error) names them."""
    chunk = data[pos : pos + size]
    if len(chunk) != size:
        expected = what if isinstance(what, str) else what.expected
        raise ProtocolError(pos, expected, f"only {len(chunk)} byte(s) left")
    return chunk


def bcd_digits(raw: bytes, pos: int, what: str | FieldCodec) -> str:
    digits = raw.hex()
    if digits.isdigit() or not digits:
        return digits
    bad = next(i for i, ch in enumerate(digits) if not ch.isdigit())
    expected = what if isinstance(what, str) else what.expected
    raise ProtocolError(pos + bad // 2, expected, f"nibble {digits[bad].upper()}")


def read_bcd(data: bytes, pos: int, size: int, what: str | FieldCodec) -> str:
    """The digits of `size` BCD bytes at `pos` (fast path first: this is the hot loop)."""
    digits = data[pos : pos + size].hex()
    if len(digits) == 2 * size and digits.isdigit():
        return digits
    return bcd_digits(_take(data, pos, size, what), pos, what)


def bcd_bytes(digits: str, size: int) -> bytes:
    if len(digits) <= 2 * size and digits.isdigit():
        return bytes.fromhex(digits.zfill(2 * size))
    raise ValueError(f"{digits!r} does not fit {size} BCD bytes")


@dataclass(frozen=True)
class Byte:
    """One binary byte as int (result codes, card types, config and service bytes)."""

    expected: str = "1 byte"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[int, int]:
        if pos < len(data):
            return data[pos], pos + 1
        raise ProtocolError(pos, self.expected, "end of data")

    def encode(self, value: int, charset: int) -> bytes:
        return bytes([value])


@dataclass(frozen=True)
class BcdNumber:
    """`size` BCD bytes as int (amount, trace, currency code, card sequence number)."""

    size: int

    @property
    def expected(self) -> str:
        return f"{self.size} BCD bytes"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[int, int]:
        end = pos + self.size
        digits = data[pos:end].hex()
        if len(digits) != 2 * self.size or not digits.isdigit():
            digits = read_bcd(data, pos, self.size, self)
        return int(digits), end

    def encode(self, value: int, charset: int) -> bytes:
        width = 2 * self.size
        digits = f"{value:0{width}d}"
        if value < 0 or len(digits) > width:
            raise ValueError(f"{value} does not fit {self.size} BCD bytes")
        return bytes.fromhex(digits)


@dataclass(frozen=True)
class ReceiptNumber:
    """BMP 87: 2 BCD bytes, or the special FFFF."""

    expected: str = "2 BCD bytes or FFFF"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[int, int]:
        if data[pos : pos + 2] == b"\xff\xff":
            return RECEIPT_FFFF, pos + 2
        return int(read_bcd(data, pos, 2, self)), pos + 2

    def encode(self, value: int, charset: int) -> bytes:
        return b"\xff\xff" if value == RECEIPT_FFFF else bcd_bytes(str(value), 2)


@dataclass(frozen=True)
class BcdText:
    """`size` BCD bytes kept as a digit string (password, terminal id, expiry)."""

    size: int

    @property
    def expected(self) -> str:
        return f"{self.size} BCD bytes"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[str, int]:
        return read_bcd(data, pos, self.size, self), pos + self.size

    def encode(self, value: str, charset: int) -> bytes:
        return bcd_bytes(value, self.size)


@dataclass(frozen=True)
class BcdClock:
    """Time HHMMSS, date MMDD or date YYMMDD as a readable string."""

    size: int
    separator: str
    century: str = ""

    @property
    def expected(self) -> str:
        return f"{self.size} BCD bytes (date/time)"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[str, int]:
        d = data[pos : pos + self.size].hex()
        if len(d) != 2 * self.size or not d.isdigit():
            d = read_bcd(data, pos, self.size, self)
        sep = self.separator
        text = f"{d[:2]}{sep}{d[2:4]}{sep}{d[4:]}" if self.size == 3 else f"{d[:2]}{sep}{d[2:]}"
        return self.century + text, pos + self.size

    def encode(self, value: str, charset: int) -> bytes:
        digits = value.removeprefix(self.century).replace(self.separator, "")
        if len(digits) == 2 * self.size and digits.isdigit():
            return bytes.fromhex(digits)
        return bcd_bytes(digits, self.size)


@dataclass(frozen=True)
class FixedText:
    """`size` bytes of text, zero- or space-padded on the wire (AID, VU number)."""

    size: int
    pad: bytes = b"\x00"

    @property
    def expected(self) -> str:
        return f"{self.size} text bytes"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[str, int]:
        raw = data[pos : pos + self.size]
        if len(raw) != self.size:
            _take(data, pos, self.size, self)
        return decode_text(raw.rstrip(b"\x00"), charset), pos + self.size

    def encode(self, value: str, charset: int) -> bytes:
        raw = encode_text(value, charset)
        if len(raw) > self.size:
            raise ValueError(f"{value!r} is longer than {self.size} bytes")
        return raw.ljust(self.size, self.pad)


@dataclass(frozen=True)
class Hex:
    """Opaque bytes as lower-case hex; `size` None means "the rest" (inside an LLVAR)."""

    size: int | None = None

    @property
    def expected(self) -> str:
        return f"{self.size} bytes" if self.size else "bytes"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[str, int]:
        size = len(data) - pos if self.size is None else self.size
        return _take(data, pos, size, self).hex(), pos + size

    def encode(self, value: str, charset: int) -> bytes:
        raw = bytes.fromhex(value)
        if self.size is not None and len(raw) != self.size:
            raise ValueError(f"expected {self.size} bytes, got {len(raw)}")
        return raw


@dataclass(frozen=True)
class Text:
    """The rest of the data as text in the session charset; `nul` drops/adds a final 00."""

    nul: bool = False
    expected: str = "text"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[str, int]:
        raw = data[pos:]
        if self.nul and raw.endswith(b"\x00"):
            raw = raw[:-1]
        return decode_text(raw, charset), len(data)

    def encode(self, value: str, charset: int) -> bytes:
        return encode_text(value, charset) + (b"\x00" if self.nul else b"")


@dataclass(frozen=True)
class Digits:
    """BCD nibbles as sent (PAN with E = masked digit, track data), F padding removed."""

    expected: str = "BCD digits"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[str, int]:
        return data[pos:].hex().rstrip("f"), len(data)

    def encode(self, value: str, charset: int) -> bytes:
        return bytes.fromhex(value + "f" * (len(value) % 2))


# BMP 60 card groups, in wire order (PA00P015 BMP 60 "individual totals").
TOTALS_GROUPS = ("girocard", "jcb", "eurocard", "amex", "visa", "diners", "others")


@dataclass(frozen=True)
class Totals:
    """BMP 60 content: receipt range, then count (1 BCD) + amount (6 BCD) per card group."""

    expected: str = "End-of-Day totals (4 + 7 x 7 bytes)"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[dict, int]:
        start = pos
        receipt_from, pos = BcdNumber(2).decode(data, pos, charset)
        receipt_to, pos = BcdNumber(2).decode(data, pos, charset)
        groups = {}
        for name in TOTALS_GROUPS:
            count, pos = BcdNumber(1).decode(data, pos, charset)
            amount, pos = BcdNumber(6).decode(data, pos, charset)
            groups[name] = {"count": count, "amount": amount}
        if pos != len(data):
            raise ProtocolError(start, self.expected, f"{len(data) - start} bytes")
        return {"receipt_from": receipt_from, "receipt_to": receipt_to, "groups": groups}, pos

    def encode(self, value: dict, charset: int) -> bytes:
        out = bcd_bytes(str(value["receipt_from"]), 2) + bcd_bytes(str(value["receipt_to"]), 2)
        for name in TOTALS_GROUPS:
            group = value["groups"].get(name, {"count": 0, "amount": 0})
            out += bcd_bytes(str(group["count"]), 1) + bcd_bytes(str(group["amount"]), 6)
        return out


# LLVAR / LLLVAR length fields, precomputed both ways: F1 F2 <-> 12.
_TO_LL = bytes.maketrans(b"0123456789", bytes(range(0xF0, 0xFA)))
_LL_HEADS = {
    digits: [f"{n:0{digits}d}".encode().translate(_TO_LL) for n in range(10**digits)]
    for digits in (2, 3)
}
_LL_LENGTHS = {head: n for heads in _LL_HEADS.values() for n, head in enumerate(heads)}


@dataclass(frozen=True)
class Var:
    """LLVAR (`digits` 2) or LLLVAR (3): `Fx Fy [Fz]` length, then content for `inner`."""

    digits: int
    inner: FieldCodec

    @property
    def expected(self) -> str:
        return f"{'L' * self.digits}VAR length ({' '.join(['Fx'] * self.digits)})"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[Any, int]:
        head = data[pos : pos + self.digits]
        length = _LL_LENGTHS.get(head)
        if length is None or len(head) != self.digits:
            head = _take(data, pos, self.digits, self)
            bad = next(i for i, b in enumerate(head) if b >> 4 != 0xF or b & 0x0F > 9)
            raise ProtocolError(pos + bad, self.expected, f"0x{head[bad]:02X}")
        body_at = pos + self.digits
        body = data[body_at : body_at + length]
        if len(body) != length:
            _take(data, body_at, length, f"{length} bytes of variable field")
        try:
            value, end = self.inner.decode(body, 0, charset)
        except ProtocolError as exc:
            raise exc.shifted(body_at) from None
        if end != length:
            raise ProtocolError(body_at + end, f"end of {length}-byte field")
        return value, body_at + length

    def encode(self, value: Any, charset: int) -> bytes:
        body = self.inner.encode(value, charset)
        if len(body) >= 10**self.digits:
            raise ValueError(f"variable field of {len(body)} bytes is too long")
        return _LL_HEADS[self.digits][len(body)] + body


@dataclass(frozen=True)
class TlvField:
    """BMP 06: BER length, then TLV content."""

    expected: str = "TLV container"

    def decode(self, data: bytes, pos: int, charset: int) -> tuple[Tlv, int]:
        length, body_at = read_length(data, pos)
        if body_at + length > len(data):
            left = len(data) - body_at
            raise ProtocolError(pos, f"a TLV container length of at most {left}", str(length))
        body = data[body_at : body_at + length]
        return decode_tlv(body, body_at), body_at + length

    def encode(self, value: Tlv, charset: int) -> bytes:
        body = encode_tlv(value)
        return encode_length(len(body)) + body


@dataclass(frozen=True)
class Bmp:
    number: int
    key: str
    codec: FieldCodec


_BMPS = (
    Bmp(0x01, "timeout", Byte()),
    Bmp(0x02, "max_status_infos", Byte()),
    Bmp(0x03, "service_byte", Byte()),
    Bmp(0x04, "amount", BcdNumber(6)),
    Bmp(0x05, "pump_no", Byte()),
    Bmp(0x06, "tlv", TlvField()),
    Bmp(0x0B, "trace_no", BcdNumber(3)),
    Bmp(0x0C, "time", BcdClock(3, ":")),
    Bmp(0x0D, "date", BcdClock(2, "-")),
    Bmp(0x0E, "expiry", BcdText(2)),
    Bmp(0x17, "card_seq_no", BcdNumber(2)),
    Bmp(0x19, "payment_type", Byte()),
    Bmp(0x22, "pan", Var(2, Digits())),
    Bmp(0x23, "track2", Var(2, Digits())),
    Bmp(0x24, "track3", Var(3, Digits())),
    Bmp(0x27, "result_code", Byte()),
    Bmp(0x29, "terminal_id", BcdText(4)),
    Bmp(0x2A, "vu_number", FixedText(15, b" ")),
    Bmp(0x2D, "track1", Var(2, Hex())),
    Bmp(0x2E, "sync_chip_data", Var(3, Hex())),
    Bmp(0x37, "original_trace_no", BcdNumber(3)),
    Bmp(0x3A, "cvv", BcdText(2)),
    Bmp(0x3B, "aid", FixedText(8)),
    Bmp(0x3C, "additional_text", Var(3, Text())),
    Bmp(0x3D, "password", BcdText(3)),
    Bmp(0x49, "currency_code", BcdNumber(2)),
    Bmp(0x60, "totals", Var(3, Totals())),
    Bmp(0x87, "receipt_no", ReceiptNumber()),
    Bmp(0x88, "turnover_no", BcdNumber(3)),
    Bmp(0x8A, "card_type", Byte()),
    Bmp(0x8B, "card_name", Var(2, Text(nul=True))),
    Bmp(0x8C, "card_type_id", Byte()),
    Bmp(0x92, "ec_cash_data", Var(3, Hex())),
    Bmp(0x9A, "geldkarte_data", Var(3, Hex())),
    Bmp(0xA0, "result_code_as", Byte()),
    Bmp(0xA7, "chip_data", Var(2, Hex())),
    Bmp(0xAA, "date_full", BcdClock(3, "-", "20")),
    Bmp(0xAF, "ef_id", Var(3, Hex())),
    Bmp(0xBA, "aid_parameter", Hex(5)),
    Bmp(0xD0, "algorithm_key", Byte()),
    Bmp(0xD1, "card_offset", Var(2, Hex())),
    Bmp(0xD2, "direct_debit", Byte()),
    Bmp(0xD3, "number_of_cards", Byte()),
    Bmp(0xE0, "min_length", Byte()),
    *(Bmp(0xE0 + n, f"text_e{n}", Var(2, Text())) for n in range(1, 9)),
    Bmp(0xE9, "max_length", Byte()),
    Bmp(0xEA, "echo", Byte()),
    Bmp(0xEB, "hide", Byte()),
    Bmp(0xF0, "display_duration", Byte()),
    *(Bmp(0xF0 + n, f"line{n}", Var(2, Text())) for n in range(1, 9)),
    Bmp(0xF9, "beeps", Byte()),
    Bmp(0xFA, "status", Byte()),
    Bmp(0xFB, "ok_required", Byte()),
    Bmp(0xFC, "dialog_control", Byte()),
)

BMP_BY_NUMBER: dict[int, Bmp] = {bmp.number: bmp for bmp in _BMPS}
BMP_BY_KEY: dict[str, Bmp] = {bmp.key: bmp for bmp in _BMPS}
