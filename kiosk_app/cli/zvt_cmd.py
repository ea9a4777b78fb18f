"""`kiosk zvt decode HEX`: decode a ZVT APDU or serial frame to JSON."""

from __future__ import annotations

import json

import click

from payment_terminal.protocol.commands import decode_message
from payment_terminal.protocol.doctable import markdown_tables
from payment_terminal.protocol.errors import ProtocolError
from payment_terminal.protocol.framing import unframe
from payment_terminal.protocol.jsonview import message_to_json


@click.group()
def zvt() -> None:
    """ZVT protocol tools."""


def _parse_hex(text: str) -> bytes:
    digits = "".join(ch for ch in text if ch not in " :\t\n")
    for index, ch in enumerate(digits):
        if ch not in "0123456789abcdefABCDEF":
            raise click.ClickException(f"not hex: {ch!r} at hex digit {index}")
    if len(digits) % 2:
        raise click.ClickException(f"odd number of hex digits ({len(digits)})")
    return bytes.fromhex(digits)


@zvt.command("decode")
@click.argument("hex_bytes", metavar="HEX", nargs=-1, required=True)
def decode(hex_bytes: tuple[str, ...]) -> None:
    """Decode an APDU, or a serial frame starting 10 02, and print it as JSON."""
    raw = _parse_hex(" ".join(hex_bytes))
    frame_info = None
    try:
        if raw[:2] == b"\x10\x02":
            received = unframe(raw)
            raw, frame_info = received.apdu, {"crc_ok": received.crc_ok}
        message = decode_message(raw)
    except ProtocolError as exc:
        where = "frame" if frame_info is None and raw[:2] == b"\x10\x02" else "APDU"
        raise click.ClickException(f"malformed {where}: {exc}") from None
    result = message_to_json(message)
    if frame_info is not None:
        result["frame"] = frame_info
    click.echo(json.dumps(result, ensure_ascii=False))


@zvt.command("table")
def table() -> None:
    """Print the declared message and BMP tables as Markdown (for docs/zvt.md)."""
    click.echo(markdown_tables(), nl=False)
