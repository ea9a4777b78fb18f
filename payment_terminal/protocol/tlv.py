"""ZVT TLV container (BMP 06): BER tags and lengths, nested constructed tags.

Tags keep their wire form as an int (`0x1F16`, `0xE9`, `0xFF40`). A tag is constructed when
bit 6 of its first byte is set, except Feig's `FFxx` tags, which are primitive on the wire.
Lengths are `0..7F`, `81 xx` or `82 hi lo` (big-endian, unlike the APDU's extended length).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from payment_terminal.protocol.errors import ProtocolError

# One TLV data object, (tag, value): value is bytes (primitive) or a nested Tlv (constructed).
# A plain tuple: the decoder creates one per object and this is its hottest allocation.
TlvItem = tuple[int, "bytes | Tlv"]


@dataclass(slots=True)
class Tlv:
    """An ordered list of TLV items; tags may repeat (print lines, permitted commands)."""

    items: tuple[TlvItem, ...] = ()

    @classmethod
    def of(cls, *pairs: tuple[int, bytes | Tlv]) -> Tlv:
        return cls(pairs)

    def __iter__(self) -> Iterator[TlvItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, tag: int) -> bytes | Tlv | None:
        """The value of the first item with `tag`, or None."""
        for item_tag, value in self.items:
            if item_tag == tag:
                return value
        return None

    def all(self, tag: int) -> list[bytes | Tlv]:
        return [value for item_tag, value in self.items if item_tag == tag]

    def find(self, tag: int) -> bytes | Tlv | None:
        """Depth-first search for `tag` through nested containers."""
        for item_tag, value in self.items:
            if item_tag == tag:
                return value
            if isinstance(value, Tlv):
                found = value.find(tag)
                if found is not None:
                    return found
        return None


def _tag_size(tag: int) -> int:
    return max(1, (tag.bit_length() + 7) // 8)


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    if length <= 0xFF:
        return bytes([0x81, length])
    if length <= 0xFFFF:
        return bytes([0x82]) + length.to_bytes(2, "big")
    raise ValueError(f"TLV length {length} exceeds 65535")


def encode_tlv(tlv: Tlv) -> bytes:
    """The content of a TLV container (without the BMP 06 byte and the outer length)."""
    out = bytearray()
    for tag, value in tlv.items:
        if isinstance(value, Tlv):
            value = encode_tlv(value)
        if tag < 0x100:
            out.append(tag)
        else:
            out += tag.to_bytes(_tag_size(tag), "big")
        size = len(value)
        if size < 0x80:
            out.append(size)
        else:
            out += encode_length(size)
        out += value
    return bytes(out)


def read_length(data: bytes, pos: int) -> tuple[int, int]:
    """A BER length at `pos`: (length, position after it)."""
    if pos >= len(data):
        raise ProtocolError(pos, "a TLV length byte", "end of data")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    size = first & 0x7F
    if size not in (1, 2):
        raise ProtocolError(pos, "a TLV length 00..7F, 81 xx or 82 hi lo", f"0x{first:02X}")
    if pos + 1 + size > len(data):
        raise ProtocolError(pos + 1, f"{size} more TLV length byte(s)", "end of data")
    return int.from_bytes(data[pos + 1 : pos + 1 + size], "big"), pos + 1 + size


def _read_tag(data: bytes, pos: int) -> tuple[int, int]:
    start = pos
    first = data[pos]
    pos += 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise ProtocolError(pos, "a further TLV tag byte", "end of data")
            byte = data[pos]
            pos += 1
            if not byte & 0x80:
                break
            if pos - start >= 4:
                raise ProtocolError(start, "a TLV tag of at most 4 bytes")
    return int.from_bytes(data[start:pos], "big"), pos


def decode_tlv(data: bytes, base: int = 0) -> Tlv:
    """Parse TLV content; `base` is the offset of `data` in the enclosing APDU, for errors."""
    items: list[TlvItem] = []
    pos = 0
    size = len(data)
    try:
        while pos < size:
            tag_at = pos
            first = data[pos]
            if first & 0x1F != 0x1F:
                tag, pos = first, pos + 1
            else:
                tag, pos = _read_tag(data, pos)
            length = data[pos] if pos < size else 0x80
            if length < 0x80:
                pos += 1
            else:
                length, pos = read_length(data, pos)
            if pos + length > size:
                raise ProtocolError(
                    tag_at,
                    f"{length} value bytes for TLV tag {tag:02X}",
                    f"only {size - pos} left",
                )
            raw = data[pos : pos + length]
            # Constructed: bit 6 of the first tag byte, except Feig's primitive FFxx tags.
            value: bytes | Tlv = decode_tlv(raw, pos) if first & 0x20 and first != 0xFF else raw
            items.append((tag, value))
            pos += length
    except ProtocolError as exc:
        raise exc.shifted(base) from None
    return Tlv(tuple(items))
