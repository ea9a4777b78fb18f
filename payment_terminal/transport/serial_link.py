"""Serial link: frames APDUs, ACKs/NAKs every frame, repeats on NAK or T2, enforces T1."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from payment_terminal.protocol.errors import TransmissionError
from payment_terminal.protocol.framing import (
    ACK,
    NAK,
    AckReceived,
    BadFrame,
    Deframer,
    FrameReceived,
    NakReceived,
    frame,
)
from payment_terminal.protocol.timers import Timers


class BytePort(Protocol):
    def open(self) -> None: ...

    def close(self) -> None: ...

    def read(self, timeout: float) -> bytes: ...

    def write(self, data: bytes) -> None: ...


@dataclass
class LinkFaults:
    """One-shot transport faults the simulator injects (never used by the ECR)."""

    corrupt_next_crc: bool = False
    ignore_next_frame: bool = False  # neither ACK nor deliver it: the sender must repeat
    ack_delay: float = 0.0


class SerialLink:
    """APDUs over a byte port with ZVT serial framing."""

    def __init__(self, port: BytePort, timers: Timers | None = None) -> None:
        self.port = port
        self.timers = timers or Timers()
        self.faults = LinkFaults()
        self._deframer = Deframer()
        self._inbox: deque[bytes] = deque()
        # Frames sent again after a NAK or T2 (diagnostics).
        self.repeats = 0

    def open(self) -> None:
        self.port.open()

    def close(self) -> None:
        self.port.close()

    def send(self, apdu: bytes) -> None:
        """Send one APDU; repeat at most `timers.repeats` times after NAK or T2."""
        data = frame(apdu)
        for attempt in range(1 + self.timers.repeats):
            self.repeats += attempt > 0
            if self.faults.corrupt_next_crc:
                self.faults.corrupt_next_crc = False
                self.port.write(data[:-1] + bytes([data[-1] ^ 0xFF]))
            else:
                self.port.write(data)
            if self._await_ack():
                return
        raise TransmissionError(
            f"no ACK for APDU {apdu[:2].hex(' ')} after {self.timers.repeats} repeats"
        )

    def receive(self, timeout: float) -> bytes | None:
        """The next correctly framed APDU (ACKed), or None when `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not self._inbox:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            for event in self._read(remaining):
                self._handle_frame(event)
        return self._inbox.popleft()

    def _await_ack(self) -> bool:
        deadline = time.monotonic() + self.timers.t2
        answer: bool | None = None
        while answer is None and (remaining := deadline - time.monotonic()) > 0:
            for event in self._read(remaining):
                if answer is None and isinstance(event, AckReceived | NakReceived):
                    answer = isinstance(event, AckReceived)
                else:
                    # A frame right behind the ACK in the same read must not be lost.
                    self._handle_frame(event)
        return bool(answer)

    def _read(self, remaining: float) -> list:
        """Read what arrives within `remaining`; a frame stalled for T1 is dropped with a NAK."""
        wait = min(remaining, self.timers.t1) if self._deframer.in_frame else remaining
        chunk = self.port.read(wait)
        if not chunk:
            if self._deframer.in_frame:
                self._deframer.reset()
                self.port.write(bytes([NAK]))
            return []
        return self._deframer.feed(chunk)

    def _handle_frame(self, event: object) -> None:
        if isinstance(event, FrameReceived) and event.crc_ok:
            if self.faults.ignore_next_frame:
                self.faults.ignore_next_frame = False
                return
            self._acknowledge()
            self._inbox.append(event.apdu)
        elif isinstance(event, FrameReceived | BadFrame):
            self.port.write(bytes([NAK]))

    def _acknowledge(self) -> None:
        if self.faults.ack_delay:
            time.sleep(self.faults.ack_delay)
            self.faults.ack_delay = 0.0
        self.port.write(bytes([ACK]))
