"""Serial framing, sans-IO: `DLE STX <APDU, DLE doubled> DLE ETX CRC-lo CRC-hi`, ACK/NAK bytes.

The CRC is CRC-16/KERMIT over the unstuffed APDU plus ETX; the two CRC bytes are sent raw.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from payment_terminal.protocol.errors import ProtocolError

DLE, STX, ETX = 0x10, 0x02, 0x03
ACK, NAK = 0x06, 0x15
# An APDU is at most 5 + 65535 bytes; anything longer is noise.
MAX_APDU = 5 + 0xFFFF


def _kermit_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _kermit_table()


def crc16_kermit(data: bytes) -> int:
    """CRC-16/KERMIT (reflected 0x1021, init 0, no final XOR)."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def frame(apdu: bytes) -> bytes:
    """The serial frame for one APDU."""
    crc = crc16_kermit(apdu + bytes([ETX]))
    return (
        bytes([DLE, STX])
        + apdu.replace(b"\x10", b"\x10\x10")
        + bytes([DLE, ETX])
        + crc.to_bytes(2, "little")
    )


@dataclass(frozen=True)
class FrameReceived:
    apdu: bytes
    crc_ok: bool


@dataclass(frozen=True)
class AckReceived:
    pass


@dataclass(frozen=True)
class NakReceived:
    pass


@dataclass(frozen=True)
class BadFrame:
    """A frame that broke off (DLE followed by an unexpected byte, oversize): answer NAK."""

    reason: str


LinkEvent = FrameReceived | AckReceived | NakReceived | BadFrame


class _State(Enum):
    IDLE = auto()
    IDLE_DLE = auto()
    DATA = auto()
    DATA_DLE = auto()
    CRC_LO = auto()
    CRC_HI = auto()


class Deframer:
    """Bytes in, link events out. Bytes outside frames other than ACK/NAK are ignored."""

    def __init__(self) -> None:
        self._state = _State.IDLE
        self._apdu = bytearray()
        self._crc_lo = 0

    @property
    def in_frame(self) -> bool:
        """True between DLE STX and the last CRC byte (the T1 inter-byte timer runs)."""
        return self._state not in (_State.IDLE, _State.IDLE_DLE)

    def reset(self) -> None:
        self._state = _State.IDLE
        self._apdu.clear()

    def feed(self, data: bytes) -> list[LinkEvent]:
        events: list[LinkEvent] = []
        for byte in data:
            event = self._step(byte)
            if event is not None:
                events.append(event)
        return events

    def _step(self, byte: int) -> LinkEvent | None:
        state = self._state
        if state is _State.IDLE:
            if byte == DLE:
                self._state = _State.IDLE_DLE
            elif byte == ACK:
                return AckReceived()
            elif byte == NAK:
                return NakReceived()
        elif state is _State.IDLE_DLE:
            self._state = _State.DATA if byte == STX else _State.IDLE
            self._apdu.clear()
        elif state is _State.DATA:
            if byte == DLE:
                self._state = _State.DATA_DLE
            elif len(self._apdu) >= MAX_APDU:
                self.reset()
                return BadFrame("frame longer than the longest APDU")
            else:
                self._apdu.append(byte)
        elif state is _State.DATA_DLE:
            if byte == DLE:
                self._apdu.append(DLE)
                self._state = _State.DATA
            elif byte == ETX:
                self._state = _State.CRC_LO
            else:
                self.reset()
                return BadFrame(f"DLE followed by 0x{byte:02X} inside a frame")
        elif state is _State.CRC_LO:
            self._crc_lo = byte
            self._state = _State.CRC_HI
        else:
            apdu = bytes(self._apdu)
            received = self._crc_lo | byte << 8
            self.reset()
            return FrameReceived(apdu, received == crc16_kermit(apdu + bytes([ETX])))
        return None


def unframe(raw: bytes) -> FrameReceived:
    """Exactly one serial frame (for decoding captures); the CRC result is reported, not raised."""
    if raw[:2] != bytes([DLE, STX]):
        raise ProtocolError(0, "DLE STX (10 02)", raw[:2].hex(" ") or "end of data")
    apdu = bytearray()
    pos = 2
    while True:
        if pos >= len(raw):
            raise ProtocolError(pos, "DLE ETX (10 03) closing the frame", "end of data")
        byte = raw[pos]
        if byte != DLE:
            apdu.append(byte)
            pos += 1
            continue
        follow = raw[pos + 1] if pos + 1 < len(raw) else None
        if follow == DLE:
            apdu.append(DLE)
            pos += 2
        elif follow == ETX:
            break
        else:
            found = "end of data" if follow is None else f"0x{follow:02X}"
            raise ProtocolError(pos + 1, "10 (stuffed DLE) or 03 (ETX) after DLE", found)
    crc_at = pos + 2
    if len(raw) != crc_at + 2:
        raise ProtocolError(crc_at, "exactly 2 CRC bytes after DLE ETX", f"{len(raw) - crc_at}")
    received = int.from_bytes(raw[crc_at:], "little")
    return FrameReceived(bytes(apdu), received == crc16_kermit(bytes(apdu) + bytes([ETX])))
