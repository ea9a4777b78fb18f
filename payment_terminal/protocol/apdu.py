"""APDU framing: `CLASS INSTR LEN data`, LEN 00..FE or `FF lo hi` (little-endian)."""

from __future__ import annotations

from payment_terminal.protocol.errors import ProtocolError


def encode_length(length: int) -> bytes:
    if length < 0xFF:
        return bytes([length])
    if length <= 0xFFFF:
        return b"\xff" + length.to_bytes(2, "little")
    raise ValueError(f"APDU data of {length} bytes exceeds 65535")


def header_size(buf: bytes) -> int | None:
    """Size of the control field plus length field, or None while `buf` is too short to tell."""
    if len(buf) < 3:
        return None
    return 5 if buf[2] == 0xFF else 3


def total_size(buf: bytes) -> int | None:
    """Size of the whole APDU that `buf` begins with, or None while the header is incomplete."""
    head = header_size(buf)
    if head is None or len(buf) < head:
        return None
    length = buf[2] if head == 3 else int.from_bytes(buf[3:5], "little")
    return head + length


def split_apdu(raw: bytes) -> tuple[int, int]:
    """(control field, header size) of exactly one APDU, checking its length field."""
    if len(raw) < 3:
        raise ProtocolError(len(raw), "control field and length byte (3 bytes)", "end of data")
    if raw[2] != 0xFF:
        head, declared = 3, raw[2]
    elif len(raw) >= 5:
        head, declared = 5, int.from_bytes(raw[3:5], "little")
    else:
        raise ProtocolError(len(raw), "extended length FF lo hi", "end of data")
    if len(raw) != head + declared:
        raise ProtocolError(
            2,
            f"a length field matching the data ({len(raw) - head} bytes)",
            f"length {declared}",
        )
    return (raw[0] << 8) | raw[1], head


class ApduStream:
    """Reassembles APDUs from an arbitrarily segmented byte stream (TCP)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out = []
        while (size := total_size(self._buf)) is not None and len(self._buf) >= size:
            out.append(bytes(self._buf[:size]))
            del self._buf[:size]
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)
