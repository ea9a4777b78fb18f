"""The Terminal port on `payment_terminal.ecr.Terminal` (ZVT over serial or TCP)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from kiosk_app.charging.events import DeclineOutcome
from kiosk_app.charging.ports import Declined, NoAnswer, StatusCallback, TerminalReservation
from kiosk_app.config import Config
from payment_terminal.ecr import Terminal
from payment_terminal.profile import TerminalProfile
from payment_terminal.protocol.errors import (
    CommandRefused,
    PaymentDeclined,
    ProtocolError,
    TerminalTimeout,
    TransmissionError,
)
from payment_terminal.records import Reservation, StatusUpdate

log = logging.getLogger(__name__)
T = TypeVar("T")

# The terminal library's outcomes the engine tells apart; every other refusal is DECLINED.
_OUTCOMES = {
    "insufficient_funds": DeclineOutcome.INSUFFICIENT_FUNDS,
    "card_unreadable": DeclineOutcome.CARD_UNREADABLE,
    "card_expired": DeclineOutcome.CARD_UNREADABLE,
    "customer_abort_or_timeout": DeclineOutcome.CUSTOMER_ABORT_OR_TIMEOUT,
    "pin_error": DeclineOutcome.PIN_ERROR,
    "terminal_not_ready": DeclineOutcome.TERMINAL_NOT_READY,
    "protocol_error": DeclineOutcome.PROTOCOL_ERROR,
}
# Faults after which the outcome of the command is unknown.
_NO_ANSWER = (TerminalTimeout, TransmissionError, ProtocolError, OSError)

# Our books' view of a hold the terminal reports by receipt number only: (reference, amount).
HoldLookup = Callable[[int], tuple[str, int] | None]


def profile_from(config: Config) -> TerminalProfile:
    """The ZVT profile of the `[terminal]` section; card references keyed with the card salt."""
    terminal = config.terminal
    return TerminalProfile(
        password=terminal.password,
        currency=terminal.currency,
        capture_style=terminal.capture_style,
        release_fallback_reversal=terminal.release_fallback_reversal,
        tlv=terminal.tlv,
        receipts=terminal.receipts,
        timezone=config.operator.timezone,
        card_reference_key=config.secrets.card_hash_salt.encode(),
    )


class ZvtTerminal:
    """One kiosk's card terminal. Connects and registers (06 00) on first use and again after
    the link was lost; library errors become `Declined` (the terminal refused) or `NoAnswer`."""

    def __init__(self, link: str, profile: TerminalProfile, lookup: HoldLookup) -> None:
        self.ecr = Terminal(link, profile)
        self.lookup = lookup
        self._registered = False
        # Why the terminal is not usable, for /readyz; None once a command went through.
        self.problem: str | None = "not connected yet"

    def close(self) -> None:
        self.ecr.close()
        self._registered = False

    def _call(self, action: Callable[[], T]) -> T:
        try:
            if not self._registered:
                self.ecr.connect()
                self.ecr.register()
                self._registered = True
            result = action()
        except PaymentDeclined as exc:
            self.problem = None  # the terminal answered
            outcome = _OUTCOMES.get(exc.outcome.value, DeclineOutcome.DECLINED)
            raise Declined(outcome, exc.result_code, exc.text) from exc
        except CommandRefused as exc:
            self.problem = None
            raise Declined(DeclineOutcome.DECLINED, exc.code, str(exc)) from exc
        except _NO_ANSWER as exc:
            self.close()  # the next command reconnects and registers again
            self.problem = f"{type(exc).__name__}: {exc}"
            raise NoAnswer(self.problem) from exc
        self.problem = None
        return result

    def preauthorise(
        self, amount_minor: int, currency: str, reference: str, on_status: StatusCallback
    ) -> TerminalReservation:
        def forward(update: StatusUpdate) -> None:
            on_status(update.code, update.key, update.text)

        self.ecr.on_status = forward
        try:
            found = self._call(lambda: self.ecr.preauthorise(amount_minor, currency, reference))
        finally:
            self.ecr.on_status = None
        return _port_reservation(found)

    def capture(self, reservation: TerminalReservation, final_amount_minor: int) -> None:
        self._call(lambda: self.ecr.capture(self._library(reservation), final_amount_minor))

    def release(self, reservation: TerminalReservation) -> None:
        self._call(lambda: self.ecr.release(self._library(reservation)))

    def abort(self) -> None:
        try:
            self.ecr.abort()
        except _NO_ANSWER as exc:
            raise NoAnswer(f"{type(exc).__name__}: {exc}") from exc

    def end_of_day(self) -> object:
        """End-of-Day 06 50 (`payment_terminal.records.EndOfDayTotals`)."""
        return self._call(self.ecr.end_of_day)

    def open_preauthorisations(self) -> list[TerminalReservation]:
        """The terminal's open holds, named by our reference.

        The terminal reports receipt numbers only: our books name the hold (`lookup`); a hold
        they do not know yet (the approval was lost in a crash) is named by the terminal's
        repeat receipt (06 20) when it was the terminal's last transaction; otherwise it keeps
        an empty reference and counts as owned by no transaction."""
        holds = self._call(self.ecr.open_preauthorisations)
        found = []
        last: Reservation | None = None
        for hold in holds:
            known = self.lookup(hold.receipt_no)
            if known is None and last is None:
                last = self._call(self.ecr.repeat_receipt)
            if known is None and last is not None and last.receipt_no == hold.receipt_no:
                found.append(_port_reservation(last))
                continue
            reference, amount = known or ("", hold.amount_minor or 0)
            found.append(TerminalReservation(hold.receipt_no, amount, reference))
        return found

    def read_card_reference(self, timeout_s: int) -> str | None:
        """Read Card 06 C0: the presented card's reference, the same the terminal gave for the
        payment with that card. None when no card was presented, the terminal refused, did
        not answer, or sent nothing to recognise the card by: the driver then uses the code."""
        try:
            found = self._call(lambda: self.ecr.read_card(timeout_s))
        except (Declined, NoAnswer) as exc:
            log.info("read card: no card reference (%s)", exc)
            return None
        return found.card_reference if found is not None and found.card_reference else None

    def _library(self, reservation: TerminalReservation) -> Reservation:
        return Reservation(
            amount_minor=reservation.amount_minor,
            currency=self.ecr.profile.currency,
            receipt_no=reservation.receipt_no,
            trace_no=reservation.trace_no,
            terminal_id=reservation.terminal_id,
            aid=reservation.aid,
            card_brand=reservation.card_brand,
            masked_pan=reservation.masked_pan,
            auth_code=reservation.auth_code,
            timestamp=reservation.timestamp,
            reference=reservation.reference,
            card_reference=reservation.card_reference,
        )


def _port_reservation(found: Reservation) -> TerminalReservation:
    return TerminalReservation(
        receipt_no=found.receipt_no,
        amount_minor=found.amount_minor,
        reference=found.reference,
        trace_no=found.trace_no,
        terminal_id=found.terminal_id,
        aid=found.aid,
        card_brand=found.card_brand,
        masked_pan=found.masked_pan,
        auth_code=found.auth_code,
        timestamp=found.timestamp,
        card_reference=found.card_reference,
    )
