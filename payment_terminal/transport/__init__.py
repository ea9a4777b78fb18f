"""Transports: serial framing over pyserial or a pty, bare APDUs over TCP.

A link moves whole APDUs: `send(apdu)` (raises TransmissionError) and `receive(timeout)`
(an APDU, or None when nothing arrived in time).
"""

from __future__ import annotations

from typing import Protocol


class Link(Protocol):
    def open(self) -> None: ...

    def close(self) -> None: ...

    def send(self, apdu: bytes) -> None: ...

    def receive(self, timeout: float) -> bytes | None: ...
