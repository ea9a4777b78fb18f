"""Decoded messages as JSON-ready dicts (for `kiosk zvt decode` and logs)."""

from __future__ import annotations

from typing import Any

from payment_terminal.protocol.charsets import DEFAULT_CHARSET, decode_text
from payment_terminal.protocol.commands import Message
from payment_terminal.protocol.tlv import Tlv

# TLV tags whose values are texts (PA00P015 ch. 9).
TEXT_TAGS = frozenset({0x07, 0x15, 0x1F17, 0x1F40, 0x1F41, 0x1F62, 0x1F63})


def tlv_to_json(tlv: Tlv, charset: int = DEFAULT_CHARSET) -> dict[str, Any]:
    """{tag in hex: value}; primitives as hex (texts as str), repeated tags as lists."""
    out: dict[str, Any] = {}
    for tag, raw in tlv:
        if isinstance(raw, Tlv):
            value: Any = tlv_to_json(raw, charset)
        elif tag in TEXT_TAGS:
            value = decode_text(raw, charset)
        else:
            value = raw.hex()
        key = f"{tag:02X}"
        if key in out:
            previous = out[key]
            out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[key] = value
    return out


def message_to_json(message: Message) -> dict[str, Any]:
    fields = {k: v for k, v in message.fields.items() if k != "tlv"}
    result: dict[str, Any] = {"command": message.code_hex, "name": message.name, "fields": fields}
    tlv = message.fields.get("tlv")
    if isinstance(tlv, Tlv):
        result["tlv"] = tlv_to_json(tlv)
    if message.rest:
        result["undecoded"] = {"offset": message.rest_offset, "hex": message.rest.hex()}
    return result
