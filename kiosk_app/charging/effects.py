"""Effects: what the machine asks the shell to do. Plain values; the runner performs them.

`route` tells the runner who performs an effect: "db" effects are applied in the same commit as
the transition (timers, flags, display lines); the others are recorded as intents and then
performed through a port: the terminal of the transaction's kiosk (one command at a time),
the terminal's abort line (which must not wait for the running command), the CPO, receipts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk_app.charging.states import TimerKind


class Effect:
    route = "db"


# --- the terminal ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Preauthorise(Effect):
    reference: str
    amount_minor: int
    currency: str
    route = "terminal"


@dataclass(frozen=True)
class AbortPayment(Effect):
    route = "abort"


@dataclass(frozen=True)
class Capture(Effect):
    """Book `amount_minor` of the hold `receipt_no` (the terminal profile picks 06 24 or 06 23)."""

    reference: str
    receipt_no: int
    held_minor: int
    amount_minor: int
    route = "terminal"


@dataclass(frozen=True)
class Release(Effect):
    """Release the hold; `receipt_no` None means: find it by our reference among open holds."""

    reference: str
    receipt_no: int | None
    held_minor: int
    route = "terminal"


@dataclass(frozen=True)
class CheckHold(Effect):
    """Ask the terminal whether our pre-authorisation is still open (after an unknown outcome)."""

    reference: str
    route = "terminal"


# --- the CPO ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartSession(Effect):
    reference: str
    location_id: str
    evse_uid: str
    connector_id: str
    route = "cpo"


@dataclass(frozen=True)
class StopSession(Effect):
    session_id: str
    reference: str
    route = "cpo"


@dataclass(frozen=True)
class SendAdvice(Effect):
    """OCPI 2.3.0 FinancialAdviceConfirmation for the captured amount."""

    reference: str
    amount_minor: int
    route = "cpo"


# --- receipts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueReceipt(Effect):
    reference: str
    amount_minor: int
    route = "receipts"


@dataclass(frozen=True)
class IssueVoucher(Effect):
    """The "nothing charged, hold released" voucher."""

    reference: str
    route = "receipts"


@dataclass(frozen=True)
class IssueCreditNote(Effect):
    """The driver's credit note for refund payment `index` of the transaction."""

    reference: str
    index: int
    amount_minor: int
    route = "receipts"


# --- the database (same commit as the transition) --------------------------------------------


@dataclass(frozen=True)
class ScheduleTimer(Effect):
    kind: TimerKind
    due_at: datetime


@dataclass(frozen=True)
class CancelTimer(Effect):
    kind: TimerKind


@dataclass(frozen=True)
class FlagForReview(Effect):
    reason: str


@dataclass(frozen=True)
class Notify(Effect):
    """A line for the driver's screen: a translatable key plus optional terminal text."""

    key: str
    text: str = ""
