"""Character sets of ZVT texts: CP437 by default, others as agreed through TLV tag 14."""

from __future__ import annotations

DEFAULT_CHARSET = 0xFF

# TLV tag 14 values (PA00P015 ch. 9): 00 ASCII, 01..10 ISO-8859-1..16, FE UTF-8, FF CP437.
_SPECIAL = {0x00: "ascii", 0xFE: "utf-8", 0xFF: "cp437"}


_CODECS = _SPECIAL | {n: f"iso8859_{n}" for n in range(0x01, 0x11) if n != 0x0C}


def codec_name(charset: int) -> str:
    """Python codec for a TLV-14 charset byte; raises ValueError for values ZVT does not define."""
    try:
        return _CODECS[charset]
    except KeyError:
        raise ValueError(f"unknown ZVT character set 0x{charset:02X}") from None


def decode_text(raw: bytes, charset: int = DEFAULT_CHARSET) -> str:
    """Text bytes from the PT; undecodable bytes become U+FFFD rather than failing a message."""
    return raw.decode(_CODECS.get(charset) or codec_name(charset), "replace")


def encode_text(text: str, charset: int = DEFAULT_CHARSET) -> bytes:
    """Text for the PT; characters outside the charset become '?'."""
    return text.encode(_CODECS.get(charset) or codec_name(charset), "replace")
