"""The states of a charging transaction, the transaction's value object and its policy.

`TxState` is an immutable snapshot: the pure machine returns a new one on every transition, the
runner persists it as JSON beside a few indexed columns. Amounts are integer minor units.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class State(enum.StrEnum):
    SELECTED = "SELECTED"  # EVSE chosen, price and hold shown, nothing on the card
    AUTHORISING = "AUTHORISING"  # pre-authorisation running on the terminal
    AUTHORISED = "AUTHORISED"  # hold taken, START_SESSION being sent
    DECLINED = "DECLINED"  # terminal refused; no hold
    ABORTED = "ABORTED"  # driver left before any hold existed
    STARTING = "STARTING"  # CPO accepted the command, CommandResult awaited
    START_ACCEPTED = "START_ACCEPTED"  # CommandResult ACCEPTED, waiting for the car
    CHARGING = "CHARGING"  # Session ACTIVE
    STOPPING = "STOPPING"  # STOP_SESSION sent, waiting for the Session to complete
    ENDED = "ENDED"  # Session COMPLETED, waiting for the CDR
    CAPTURING = "CAPTURING"  # capture running on the terminal
    CAPTURE_FAILED = "CAPTURE_FAILED"  # capture failed, retry scheduled
    CAPTURED = "CAPTURED"  # final amount booked, receipt being issued
    RECEIPT_ISSUED = "RECEIPT_ISSUED"
    ADVICE_SENT = "ADVICE_SENT"  # OCPI 2.3.0 FinancialAdviceConfirmation delivered
    RELEASING = "RELEASING"  # the hold is being released (see `failure` for why)
    RELEASED = "RELEASED"  # hold released, nothing charged
    NEEDS_ATTENTION = "NEEDS_ATTENTION"  # retries exhausted: an operator must act


# States in which the hold is on the card and neither a capture nor a release is under way.
HOLDING = frozenset(
    {
        State.AUTHORISED,
        State.STARTING,
        State.START_ACCEPTED,
        State.CHARGING,
        State.STOPPING,
        State.ENDED,
    }
)
# States in which a CPO session may be running or about to run.
SESSION_LIVE = frozenset({State.AUTHORISED, State.STARTING, State.START_ACCEPTED, State.CHARGING})
# Nothing more will happen without an outside event (a late push is still handled).
FINAL = frozenset(
    {State.DECLINED, State.ABORTED, State.RELEASED, State.RECEIPT_ISSUED, State.ADVICE_SENT}
)
# States that occupy the EVSE: a session may run or start. After ENDED the EVSE is free for the
# next driver even while this transaction still settles its money.
OCCUPYING = frozenset(
    {
        State.SELECTED,
        State.AUTHORISING,
        State.AUTHORISED,
        State.STARTING,
        State.START_ACCEPTED,
        State.CHARGING,
        State.STOPPING,
    }
)


class TimerKind(enum.StrEnum):
    COMMAND_RESULT = "COMMAND_RESULT"  # CommandResult for START_SESSION overdue
    PLUGIN = "PLUGIN"  # the car was not plugged in within the window
    MAX_DURATION = "MAX_DURATION"
    HOLD_VALIDITY = "HOLD_VALIDITY"  # the issuer will drop the hold soon: settle now
    CDR_WAIT = "CDR_WAIT"
    TERMINAL_RETRY = "TERMINAL_RETRY"  # retry a failed capture/release, or check an unknown outcome
    STOP_RETRY = "STOP_RETRY"
    RECEIPT_RETRY = "RECEIPT_RETRY"
    ADVICE_RETRY = "ADVICE_RETRY"  # send the OCPI 2.3.0 financial advice again
    CREDIT_NOTE_RETRY = "CREDIT_NOTE_RETRY"  # issue the first missing credit note again
    VOUCHER_RETRY = "VOUCHER_RETRY"  # issue the "nothing charged" voucher again


class CapturePolicy(enum.StrEnum):
    CPO = "cpo"  # capture the CDR's total
    OURS = "ours"  # capture our own pricing of the CDR (CDR total when we cannot price it)
    LOWER = "lower"  # the lower of the two


class CdrMissingPolicy(enum.StrEnum):
    CAPTURE_SESSION_TOTAL = "capture_session_total"
    RELEASE = "release"
    ATTENTION = "attention"


@dataclass(frozen=True)
class Policy:
    """Timers and rules, fixed per transaction when it is created (config may change later)."""

    command_result_margin_s: int = 30
    command_result_default_s: int = 60  # when a CommandResponse carries no timeout (OCPI 2.1.1)
    plugin_window_s: int = 300
    stop_at_hold_share: Decimal = Decimal("0.95")
    max_duration_s: int = 12 * 3600
    hold_validity_s: int = 5 * 24 * 3600
    cdr_wait_s: int = 24 * 3600
    cdr_missing_policy: CdrMissingPolicy = CdrMissingPolicy.CAPTURE_SESSION_TOTAL
    capture_policy: CapturePolicy = CapturePolicy.CPO
    cross_check_tolerance_minor: int = 1
    retry_delay_s: int = 60
    max_retries: int = 5


@dataclass(frozen=True)
class Reservation:
    """A pre-authorisation as the terminal reported it. Card data only as brand, last 4, hash."""

    receipt_no: int
    amount_minor: int
    trace_no: int | None = None
    terminal_id: str = ""
    auth_code: str = ""
    aid: str = ""
    card_brand: str = ""
    card_last4: str = ""
    card_hash: str = ""  # salted HMAC of the terminal's card reference; never the PAN
    authorised_at: datetime | None = None


@dataclass(frozen=True)
class Timer:
    kind: TimerKind
    due_at: datetime


@dataclass(frozen=True)
class Credit:
    """A credit CDR, linked to the CDR it corrects. `total_minor` is as the CPO sent it
    (negative); `settled` once it lowered the capture, became a refund due, or found nothing
    captured to give back (see `machine._settle_credits`)."""

    cdr_id: str
    original_cdr_id: str
    total_minor: int
    settled: bool = False
    deducted_minor: int = 0  # taken off the capture before the capture was sent

    @property
    def credited_minor(self) -> int:
        """What the CPO gives back, as a positive amount (a positive "credit" gives nothing)."""
        return max(-self.total_minor, 0)


@dataclass(frozen=True)
class Refund:
    """Money owed back to the card after the capture, because of the credit CDR
    `credit_cdr_id` (one refund due per credit CDR; the credit names the original CDR)."""

    credit_cdr_id: str
    amount_minor: int


@dataclass(frozen=True)
class RefundPayment:
    """A refund an operator executed at the acquirer, recorded in the back office."""

    amount_minor: int
    acquirer_reference: str
    operator: str
    recorded_at: datetime
    credit_note_number: str | None = None  # the driver's credit note, once issued


@dataclass(frozen=True)
class TxState:
    """Everything the machine knows about one transaction."""

    reference: str
    kiosk_id: str
    evse_uid: str
    location_id: str
    connector_id: str
    currency: str
    hold_minor: int  # the amount to hold, shown to the driver before paying
    created_at: datetime
    policy: Policy = field(default_factory=Policy)
    language: str = "de"
    advice_required: bool = False  # OCPI 2.3.0 payments module: send the advice after capture
    state: State = State.SELECTED
    # money
    held_minor: int = 0
    captured_minor: int = 0
    released_minor: int = 0
    captures: int = 0  # successful captures; never more than one
    capture_amount_minor: int | None = None  # the amount of the capture under way
    # what the driver owed when the capture was decided, before capping at the hold
    amount_due_minor: int | None = None
    reservation: Reservation | None = None
    # session
    session_id: str | None = None
    session_status: str | None = None
    session_start: datetime | None = None
    session_end: datetime | None = None
    kwh: Decimal = Decimal(0)
    power_kw: Decimal | None = None
    session_cost_minor: int | None = None
    # billing
    cdr_id: str | None = None
    cdr_total_minor: int | None = None
    cdr_energy_kwh: Decimal | None = None
    our_total_minor: int | None = None
    cross_check: str | None = None  # match | mismatch | unchecked
    credits: tuple[Credit, ...] = ()
    refunds: tuple[Refund, ...] = ()  # owed back after the capture
    refund_payments: tuple[RefundPayment, ...] = ()  # executed and recorded
    receipt_number: str | None = None
    receipt_link: str | None = None
    receipt_total_minor: int | None = None
    voucher_number: str | None = None
    # control
    cancel_requested: bool = False
    stop_reason: str | None = None
    failure: str | None = None  # why the hold was or is being released
    uncertain: bool = False  # the last terminal command's outcome is unknown
    attempts: int = 0  # failed attempts of the current capture/release/stop/receipt
    timers: tuple[Timer, ...] = ()
    review_flags: tuple[str, ...] = ()
    reviewed_by: str | None = None
    updated_at: datetime | None = None

    def timer_due(self, kind: TimerKind) -> datetime | None:
        return next((t.due_at for t in self.timers if t.kind == kind), None)

    @property
    def refund_owed_minor(self) -> int:
        """Everything the credit CDRs made us owe back after the capture."""
        return sum(r.amount_minor for r in self.refunds)

    @property
    def refunded_minor(self) -> int:
        """Everything recorded as paid back to the card."""
        return sum(p.amount_minor for p in self.refund_payments)

    @property
    def refund_due_minor(self) -> int:
        """Owed back and not yet recorded as paid: what the operator still has to refund."""
        return self.refund_owed_minor - self.refunded_minor

    @property
    def open_hold_minor(self) -> int:
        """What is still reserved on the card and neither captured nor released."""
        return self.held_minor - self.captured_minor - self.released_minor
