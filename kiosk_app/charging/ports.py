"""The engine's ports: what it needs from the card terminal, the CPO, pricing and receipts.

Adapters to the real libraries (`payment_terminal`, `kiosk_app.ocpi`, `kiosk_app.ocpi.pricing`,
`receipts`) implement these protocols; they translate the libraries' own errors into the two
terminal exceptions below, and OCPI transport failures into `CpoUnavailable`. The engine never
sees a PAN: the terminal adapter hands over an opaque card reference, which the engine hashes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from kiosk_app.charging.events import CommandResult, DeclineOutcome
from kiosk_app.charging.states import TxState

# (code, message_key, text) of a ZVT intermediate status (04 FF).
StatusCallback = Callable[[int, str, str], None]


class Declined(Exception):
    """The terminal answered and refused (a result code other than 00)."""

    def __init__(self, outcome: DeclineOutcome, result_code: int | None = None, text: str = ""):
        super().__init__(f"{outcome} ({result_code}): {text}")
        self.outcome, self.result_code, self.text = outcome, result_code, text


class NoAnswer(Exception):
    """The terminal did not answer (timeout, link lost, protocol error): the outcome is unknown."""


class CpoUnavailable(Exception):
    """The CPO could not be reached or answered with an HTTP or OCPI error."""


@dataclass(frozen=True)
class TerminalReservation:
    """A pre-authorisation as the terminal library reports it (04 0F of 06 22)."""

    receipt_no: int
    amount_minor: int
    reference: str
    trace_no: int | None = None
    terminal_id: str = ""
    aid: str = ""
    card_brand: str = ""
    masked_pan: str = ""  # e.g. "############1234"; only the last four are kept
    auth_code: str = ""
    timestamp: datetime | None = None
    card_reference: str = ""  # opaque per-card value from the terminal, hashed with a salt


@dataclass(frozen=True)
class BrandTotal:
    """One card brand's line of an end-of-day report."""

    brand: str
    count: int
    total_minor: int


@dataclass(frozen=True)
class EndOfDayTotals:
    """The terminal's end-of-day (ZVT 06 50) report: what it booked since the last closing."""

    currency: str
    total_minor: int
    count: int
    brands: tuple[BrandTotal, ...] = ()
    closed_at: datetime | None = None  # the terminal's own time of the closing, if it says
    raw: dict[str, str] = field(default_factory=dict)  # decoded fields, never card data


class Terminal(Protocol):
    """One card terminal (ZVT). Calls block until the terminal answers."""

    def preauthorise(
        self, amount_minor: int, currency: str, reference: str, on_status: StatusCallback
    ) -> TerminalReservation: ...

    def capture(self, reservation: TerminalReservation, final_amount_minor: int) -> None: ...

    def release(self, reservation: TerminalReservation) -> None: ...

    def abort(self) -> None: ...

    def open_preauthorisations(self) -> list[TerminalReservation]: ...

    def read_card_reference(self, timeout_s: int) -> str | None:
        """Read a presented card (ZVT 06 C0) and return its card reference, or None."""
        ...

    def end_of_day(self) -> EndOfDayTotals:
        """Close the terminal's day (ZVT 06 50) and report its totals."""
        ...


@dataclass(frozen=True)
class CommandResponse:
    result: CommandResult
    timeout_s: int | None = None


@dataclass(frozen=True)
class RemoteSession:
    """A Session as the CPO reports it."""

    authorization_reference: str
    session_id: str
    status: str
    kwh: Decimal
    total_cost: Decimal | None
    start: datetime | None = None
    end: datetime | None = None
    power_kw: Decimal | None = None
    doc: dict[str, Any] | None = None  # the OCPI object, which our own pricing reads


@dataclass(frozen=True)
class RemoteCdr:
    authorization_reference: str
    cdr_id: str
    total_cost: Decimal  # incl. VAT, in major units
    total_energy: Decimal
    credit: bool = False
    credit_reference_id: str | None = None
    doc: dict[str, Any] | None = None  # the OCPI object, which our own pricing reads


class Cpo(Protocol):
    """The CPO's OCPI interface, as our client sees it."""

    def start_session(
        self,
        authorization_reference: str,
        location_id: str,
        evse_uid: str,
        connector_id: str,
        token_uid: str,
    ) -> CommandResponse: ...

    def stop_session(self, session_id: str, authorization_reference: str) -> CommandResponse: ...

    def send_advice(self, authorization_reference: str, amount_minor: int, currency: str) -> None:
        """OCPI 2.3.0 FinancialAdviceConfirmation."""
        ...

    def get_sessions(self, since: datetime) -> list[RemoteSession]: ...

    def get_cdrs(self, since: datetime) -> list[RemoteCdr]: ...


@dataclass(frozen=True)
class EvseInfo:
    evse_uid: str
    location_id: str
    connector_id: str
    available: bool
    currency: str


class Pricing(Protocol):
    """Our own tariff engine, seen per transaction."""

    def hold_amount_minor(self, evse: EvseInfo, default_minor: int, maximum_minor: int) -> int: ...

    def live_cost_minor(self, tx: TxState, session: RemoteSession, at: datetime) -> int | None:
        """Our price of `session` so far (None when it cannot be priced)."""
        ...

    def price_cdr_minor(self, tx: TxState, cdr: RemoteCdr) -> int | None:
        """Our price of `cdr` (None when it cannot be priced)."""
        ...


class Directory(Protocol):
    """The EVSEs a kiosk serves, from the OCPI Locations."""

    def evse(self, kiosk_id: str, evse_uid: str) -> EvseInfo | None: ...


@dataclass(frozen=True)
class IssuedReceipt:
    number: str
    link: str
    total_minor: int


class Receipts(Protocol):
    """Receipt issuing; idempotent per transaction reference."""

    def issue_receipt(self, tx: TxState) -> IssuedReceipt: ...

    def issue_voucher(self, tx: TxState) -> str: ...

    def issue_credit_note(self, tx: TxState, index: int, amount_minor: int) -> str:
        """The credit note for refund payment `index` of `amount_minor`; its number.
        Idempotent per transaction and index."""
        ...


@dataclass
class Ports:
    """Everything the runner talks to. `terminals` maps a kiosk id to its terminal."""

    terminals: dict[str, Terminal]
    cpo: Cpo
    pricing: Pricing
    directory: Directory
    receipts: Receipts
