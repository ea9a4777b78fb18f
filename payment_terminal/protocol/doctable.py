"""The message and BMP tables as Markdown, for docs/zvt.md (`kiosk zvt table`)."""

from __future__ import annotations

from payment_terminal.protocol.bmp import BMP_BY_NUMBER, FieldCodec, Var
from payment_terminal.protocol.commands import MESSAGES


def _codec(codec: FieldCodec) -> str:
    if isinstance(codec, Var):
        return f"{'L' * codec.digits}VAR {type(codec.inner).__name__}"
    size = getattr(codec, "size", None)
    return type(codec).__name__ + (f"({size})" if size else "")


def markdown_tables() -> str:
    lines = [
        "| code | name | direction | positional fields | BMPs (typical) |",
        "|---|---|---|---|---|",
    ]
    for spec in MESSAGES.values():
        positional = ", ".join(
            f"`{p.key}` ({p.description or _codec(p.codec)})" for p in spec.positional
        )
        bmps = " ".join(f"{n:02X}" for n in spec.typical_bmps) if spec.bmps else "none"
        lines.append(
            f"| {spec.code_hex} | {spec.name} | {spec.direction} | {positional or '-'} | {bmps} |"
        )
    lines += ["", "| BMP | field key | codec |", "|---|---|---|"]
    for number, bmp in sorted(BMP_BY_NUMBER.items()):
        lines.append(f"| {number:02X} | `{bmp.key}` | {_codec(bmp.codec)} |")
    return "\n".join(lines) + "\n"
