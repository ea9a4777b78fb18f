"""The ECR side of one ZVT command exchange, sans-IO (in the manner of h11).

`start(command)` gives the APDU to send. Every APDU from the PT goes into `receive`, which
returns events and queues the ECR's answers (`80 00 00`) in `outgoing`. `timeout` is how long
the shell may wait for the next APDU from the moment `timer_epoch` last changed: T3 until the
PT's first answer, then T4, restarted by every 04 FF and 04 0F (an 04 FF timeout byte in BCD
minutes sets a new T4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, auto

from payment_terminal.protocol.charsets import DEFAULT_CHARSET, decode_text
from payment_terminal.protocol.commands import Message, decode_message, encode_message
from payment_terminal.protocol.errors import ProtocolError
from payment_terminal.protocol.timers import Timers
from payment_terminal.protocol.tlv import Tlv

ACK_APDU = bytes.fromhex("800000")
NOT_POSSIBLE_APDU = bytes.fromhex("848300")

# Commands that end with the PT's `80 00 00`, without a completion.
SINGLE_ANSWER = frozenset({0x0602, 0x06B0, 0x06E0, 0x0618})


@dataclass(frozen=True)
class Accepted:
    """The PT acknowledged the command (80 00 or 84 00)."""


@dataclass(frozen=True)
class Refused:
    """The PT refused the command (84 xx, xx != 00)."""

    code: int


@dataclass(frozen=True)
class IntermediateStatus:
    code: int
    text: str
    timeout_minutes: int | None


@dataclass(frozen=True)
class StatusInformation:
    message: Message


@dataclass(frozen=True)
class PrintLine:
    attribute: int
    text: str


@dataclass(frozen=True)
class PrintBlock:
    lines: tuple[str, ...]
    receipt_type: int | None


@dataclass(frozen=True)
class Completed:
    message: Message


@dataclass(frozen=True)
class Aborted:
    message: Message


Event = (
    Accepted
    | Refused
    | IntermediateStatus
    | StatusInformation
    | PrintLine
    | PrintBlock
    | Completed
    | Aborted
)


class State(Enum):
    IDLE = auto()
    AWAIT_ANSWER = auto()
    AWAIT_COMPLETION = auto()
    DONE = auto()


@dataclass
class EcrConnection:
    timers: Timers = field(default_factory=Timers)
    charset: int = DEFAULT_CHARSET
    state: State = State.IDLE
    timeout: float = 0.0
    timer_epoch: int = 0
    outgoing: list[bytes] = field(default_factory=list)
    _command: int = 0
    _aborting: bool = False

    def start(self, command: Message) -> bytes:
        if self.state not in (State.IDLE, State.DONE):
            raise RuntimeError("a command is already running")
        self._command = command.code
        self._aborting = False
        self.state = State.AWAIT_ANSWER
        self._restart_timer(self.timers.t3)
        return encode_message(command, self.charset)

    def abort(self) -> bytes:
        """06 B0 while the PT runs the command; its answer `80 00` is absorbed."""
        self._aborting = True
        return encode_message(Message(0x06B0), self.charset)

    @property
    def done(self) -> bool:
        return self.state is State.DONE

    def receive(self, raw: bytes) -> list[Event]:
        """One APDU from the PT. Raises ProtocolError for malformed data."""
        message = decode_message(raw, self.charset, after=self._command)
        if message.is_response:
            return self._on_response(message)
        if self.state is State.AWAIT_ANSWER:
            # Some PTs skip `80 00` and go straight to the dialogue.
            self.state = State.AWAIT_COMPLETION
        if self.state is not State.AWAIT_COMPLETION:
            raise ProtocolError(0, "no message while no command runs", message.code_hex)
        return self._on_pt_message(message)

    def _on_response(self, message: Message) -> list[Event]:
        if self._aborting and self.state is State.AWAIT_COMPLETION:
            self._aborting = False
            return []
        if self.state is not State.AWAIT_ANSWER:
            raise ProtocolError(0, "a PT message (04 xx / 06 xx)", message.code_hex)
        if not message.is_positive_ack:
            self.state = State.DONE
            return [Refused(message.code & 0xFF)]
        if self._command in SINGLE_ANSWER:
            self.state = State.DONE
        else:
            self.state = State.AWAIT_COMPLETION
            self._restart_timer(self.timers.t4)
        return [Accepted()]

    def _on_pt_message(self, message: Message) -> list[Event]:
        code, fields = message.code, message.fields
        if code == 0x04FF:
            self._acknowledge()
            minutes = _bcd_minutes(fields.get("timeout"))
            self._restart_timer(minutes * 60.0 if minutes else self.timers.t4)
            return [
                IntermediateStatus(fields["status"], _display_text(fields, self.charset), minutes)
            ]
        if code == 0x040F:
            self._acknowledge()
            self._restart_timer(self.timers.t4)
            return [StatusInformation(message)]
        if code == 0x06D1:
            self._acknowledge()
            return [PrintLine(fields["attribute"], fields.get("text", ""))]
        if code == 0x06D3:
            self._acknowledge()
            return [_print_block(fields.get("tlv"), self.charset)]
        if code in (0x060F, 0x061E):
            self._acknowledge()
            self.state = State.DONE
            return [Completed(message) if code == 0x060F else Aborted(message)]
        self.outgoing.append(NOT_POSSIBLE_APDU)
        return []

    def _acknowledge(self) -> None:
        self.outgoing.append(ACK_APDU)

    def _restart_timer(self, seconds: float) -> None:
        self.timeout = seconds
        self.timer_epoch += 1


def _bcd_minutes(value: int | None) -> int | None:
    if not value:
        return None
    high, low = value >> 4, value & 0x0F
    return high * 10 + low if high <= 9 and low <= 9 else None


def _display_text(fields: dict, charset: int) -> str:
    tlv = fields.get("tlv")
    if not isinstance(tlv, Tlv):
        return ""
    texts = tlv.get(0x24)
    lines = texts.all(0x07) if isinstance(texts, Tlv) else []
    return "\n".join(decode_text(line, charset) for line in lines if isinstance(line, bytes))


def _print_block(tlv: Tlv | None, charset: int) -> PrintBlock:
    if tlv is None:
        return PrintBlock((), None)
    texts = tlv.get(0x25)
    lines = texts.all(0x07) if isinstance(texts, Tlv) else []
    kind = tlv.get(0x1F07)
    return PrintBlock(
        tuple(decode_text(line, charset) for line in lines if isinstance(line, bytes)),
        kind[0] if isinstance(kind, bytes) and kind else None,
    )
