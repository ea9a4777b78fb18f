"""The S.A.F.E. Transparenzsoftware XML container for signed meter data.

`<values><value><signedData format="OCMF" encoding="plain">OCMF|…</signedData>
<publicKey encoding="hex">…</publicKey></value></values>`. The signed data is written with no
whitespace around it: the tool verifies the element text as it stands.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr


@dataclass(frozen=True)
class SignedValue:
    ocmf: str
    public_key: str | None
    context: str | None = None


class ContainerError(ValueError):
    """An XML container that cannot be read; the message says where."""


def export(values: Sequence[SignedValue], transaction_id: str) -> bytes:
    """The XML container for `values` (one `<value>` each), UTF-8 bytes."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<values>\n']
    for value in values:
        context = f" context={quoteattr(value.context)}" if value.context else ""
        parts.append(f"  <value transactionId={quoteattr(transaction_id)}{context}>\n")
        parts.append(
            f'    <signedData format="OCMF" encoding="plain">{escape(value.ocmf)}</signedData>\n'
        )
        if value.public_key:
            encoding = "hex" if _is_hex(value.public_key) else "base64"
            parts.append(
                f'    <publicKey encoding="{encoding}">{escape(value.public_key)}</publicKey>\n'
            )
        parts.append("  </value>\n")
    parts.append("</values>\n")
    return "".join(parts).encode("utf-8")


def read(data: bytes) -> list[SignedValue]:
    """The OCMF values of a container, each signed string exactly as in the file."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise ContainerError(f"line {line}, column {column}: not well-formed XML") from None
    if root.tag != "values":
        raise ContainerError(f"root element is <{root.tag}>, expected <values>")
    found = []
    for index, value in enumerate(root.findall("value")):
        signed = value.find("signedData")
        if signed is None or signed.text is None:
            raise ContainerError(f"value[{index}]: no signedData")
        if signed.get("format", "OCMF") != "OCMF":
            continue
        key = value.find("publicKey")
        key_text = "".join(key.text.split()) if key is not None and key.text else None
        found.append(SignedValue(signed.text, key_text, value.get("context")))
    return found


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)
