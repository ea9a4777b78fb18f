"""Events the machine reacts to, from the driver, an operator, the terminal, the CPO and timers.

Events are plain immutable values. Amounts arrive already converted to integer minor units by
the shell (the OCPI adapter converts Decimal totals with the currency's exponent).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kiosk_app.charging.states import Reservation, TimerKind


class DeclineOutcome(enum.StrEnum):
    DECLINED = "DECLINED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    CARD_UNREADABLE = "CARD_UNREADABLE"
    CUSTOMER_ABORT_OR_TIMEOUT = "CUSTOMER_ABORT_OR_TIMEOUT"
    PIN_ERROR = "PIN_ERROR"
    TERMINAL_NOT_READY = "TERMINAL_NOT_READY"
    PROTOCOL_ERROR = "PROTOCOL_ERROR"


class Event:
    """Base of every event; `source` says who sent it (shown on the operator's timeline)."""

    source = ""


# --- the driver at the kiosk ---------------------------------------------------------------


@dataclass(frozen=True)
class Pay(Event):
    source = "kiosk"


@dataclass(frozen=True)
class Cancel(Event):
    source = "kiosk"


@dataclass(frozen=True)
class Stop(Event):
    source = "kiosk"


# --- an operator in the back office --------------------------------------------------------


@dataclass(frozen=True)
class OperatorRetryCapture(Event):
    operator: str
    source = "operator"


@dataclass(frozen=True)
class OperatorRelease(Event):
    operator: str
    source = "operator"


@dataclass(frozen=True)
class OperatorStop(Event):
    operator: str
    source = "operator"


@dataclass(frozen=True)
class OperatorMarkReviewed(Event):
    operator: str
    note: str = ""
    source = "operator"


@dataclass(frozen=True)
class OperatorRecordRefund(Event):
    """An operator refunded `amount_minor` at the acquirer (merchant portal) under the
    acquirer's `acquirer_reference`; recorded against the refund due."""

    operator: str
    amount_minor: int
    acquirer_reference: str
    source = "operator"


# --- the card terminal ---------------------------------------------------------------------


@dataclass(frozen=True)
class TerminalStatus(Event):
    """An intermediate status (ZVT 04 FF) to show to the driver."""

    code: int
    message_key: str
    text: str = ""
    source = "terminal"


@dataclass(frozen=True)
class PreauthApproved(Event):
    reservation: Reservation
    source = "terminal"


@dataclass(frozen=True)
class PreauthDeclined(Event):
    outcome: DeclineOutcome
    result_code: int | None = None
    text: str = ""
    source = "terminal"


@dataclass(frozen=True)
class TerminalUncertain(Event):
    """A terminal command ended without an answer (timeout, link lost): outcome unknown."""

    error: str
    source = "terminal"


@dataclass(frozen=True)
class HoldChecked(Event):
    """Answer to CheckHold: our pre-authorisation is still open on the terminal, or not."""

    reservation: Reservation | None
    source = "terminal"


@dataclass(frozen=True)
class OpenHoldFound(Event):
    """Recovery found a pre-authorisation with our reference still open on the terminal,
    although this transaction is finished."""

    reservation: Reservation
    source = "terminal"


@dataclass(frozen=True)
class Captured(Event):
    amount_minor: int
    source = "terminal"


@dataclass(frozen=True)
class CaptureFailed(Event):
    result_code: int | None = None
    text: str = ""
    source = "terminal"


@dataclass(frozen=True)
class Released(Event):
    source = "terminal"


@dataclass(frozen=True)
class ReleaseFailed(Event):
    result_code: int | None = None
    text: str = ""
    source = "terminal"


# --- the charge point operator (OCPI) ------------------------------------------------------


class CommandResult(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


class Command(enum.StrEnum):
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"


@dataclass(frozen=True)
class CommandResponded(Event):
    """The synchronous CommandResponse; `result` None means the HTTP call itself failed."""

    command: Command
    result: CommandResult | None
    timeout_s: int | None = None
    error: str = ""
    source = "cpo"


@dataclass(frozen=True)
class CommandResultReceived(Event):
    """The asynchronous CommandResult posted to our response_url."""

    command: Command
    result: CommandResult
    source = "cpo"


class SessionStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    RESERVATION = "RESERVATION"


@dataclass(frozen=True)
class SessionUpdated(Event):
    """A Session PUT/PATCH. `cost_minor` is the CPO's total_cost, or our live price of it."""

    session_id: str
    status: SessionStatus
    kwh: Decimal = Decimal(0)
    cost_minor: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    power_kw: Decimal | None = None
    source = "cpo"


@dataclass(frozen=True)
class CdrReceived(Event):
    """A CDR. `our_total_minor` is our own pricing of it (None when it could not be priced)."""

    cdr_id: str
    total_minor: int
    total_energy_kwh: Decimal = Decimal(0)
    credit: bool = False
    credit_reference_id: str | None = None
    our_total_minor: int | None = None
    source = "cpo"


@dataclass(frozen=True)
class AdviceSent(Event):
    source = "cpo"


@dataclass(frozen=True)
class AdviceFailed(Event):
    error: str
    source = "cpo"


# --- receipts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptIssued(Event):
    number: str
    link: str
    total_minor: int
    source = "receipts"


@dataclass(frozen=True)
class ReceiptFailed(Event):
    error: str
    source = "receipts"


@dataclass(frozen=True)
class VoucherIssued(Event):
    number: str
    source = "receipts"


@dataclass(frozen=True)
class VoucherFailed(Event):
    error: str
    source = "receipts"


@dataclass(frozen=True)
class CreditNoteIssued(Event):
    """The credit note of refund payment `index` (0-based, in recording order)."""

    index: int
    number: str
    source = "receipts"


@dataclass(frozen=True)
class CreditNoteFailed(Event):
    """The credit note of refund payment `index` could not be issued."""

    index: int
    error: str
    source = "receipts"


# --- timers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimerFired(Event):
    kind: TimerKind
    due_at: datetime
    source = "timer"


# Every concrete event class, for tests and for reading the log back.
ALL_EVENTS: tuple[type[Event], ...] = (
    Pay,
    Cancel,
    Stop,
    OperatorRetryCapture,
    OperatorRelease,
    OperatorStop,
    OperatorMarkReviewed,
    OperatorRecordRefund,
    TerminalStatus,
    PreauthApproved,
    PreauthDeclined,
    TerminalUncertain,
    HoldChecked,
    OpenHoldFound,
    Captured,
    CaptureFailed,
    Released,
    ReleaseFailed,
    CommandResponded,
    CommandResultReceived,
    SessionUpdated,
    CdrReceived,
    AdviceSent,
    AdviceFailed,
    ReceiptIssued,
    ReceiptFailed,
    VoucherIssued,
    VoucherFailed,
    CreditNoteIssued,
    CreditNoteFailed,
    TimerFired,
)
