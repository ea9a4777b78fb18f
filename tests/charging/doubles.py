"""TEST DOUBLES of the engine's ports, for the engine's own tests (fast, with a clock the test
moves). The end-to-end tests on the real adapters and simulators are in tests/integration/.

The scripted terminal keeps its own journal of holds (what a real terminal would print at
end-of-day), so tests compare the engine's books with the terminal's, and it refuses a second
command while one runs (one command at a time per terminal).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kiosk_app.charging.events import CommandResult, DeclineOutcome
from kiosk_app.charging.ports import (
    BrandTotal,
    CommandResponse,
    Declined,
    EndOfDayTotals,
    EvseInfo,
    IssuedReceipt,
    NoAnswer,
    Ports,
    RemoteCdr,
    RemoteSession,
    StatusCallback,
    TerminalReservation,
)
from kiosk_app.charging.service import ChargingService
from kiosk_app.charging.states import State, TxState
from kiosk_app.config import Config


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


@dataclass
class Hold:
    reservation: TerminalReservation
    status: str = "open"  # open | captured | released
    captured_minor: int = 0


class ScriptedTerminal:
    """A card terminal that answers from a script and keeps a journal of its holds."""

    def __init__(self) -> None:
        self.journal: dict[int, Hold] = {}
        self.script: list[str] = []  # next answers: ok | decline | noanswer | noanswer_done
        self.statuses: list[tuple[int, str, str]] = [(0x0A, "insert_card", "Karte bitte")]
        self.calls: list[str] = []
        self.next_receipt = 1
        self.card_reference: str | None = "card-ref-A"
        self.closed: set[int] = set()  # receipt numbers already in an end-of-day
        self.eod_extra_minor = 0
        self._busy = threading.Lock()

    def _answer(self) -> str:
        return self.script.pop(0) if self.script else "ok"

    def _enter(self, name: str) -> None:
        if not self._busy.acquire(blocking=False):
            raise AssertionError(f"{name} while another terminal command runs")
        self.calls.append(name)

    def preauthorise(
        self, amount_minor: int, currency: str, reference: str, on_status: StatusCallback
    ) -> TerminalReservation:
        self._enter("preauthorise")
        try:
            for status in self.statuses:
                on_status(*status)
            answer = self._answer()
            if answer == "decline":
                raise Declined(DeclineOutcome.INSUFFICIENT_FUNDS, 0x71, "credit not sufficient")
            if answer == "abort":
                raise Declined(DeclineOutcome.CUSTOMER_ABORT_OR_TIMEOUT, 0x6C, "abort")
            if answer == "noanswer":
                raise NoAnswer("T4 expired")
            reservation = TerminalReservation(
                receipt_no=self.next_receipt,
                amount_minor=amount_minor,
                reference=reference,
                trace_no=1000 + self.next_receipt,
                terminal_id="52500001",
                card_brand="Girocard",
                masked_pan="############4321",
                auth_code="A1",
                timestamp=datetime(2026, 11, 21, 12, 0, tzinfo=UTC),
                card_reference=self.card_reference,
            )
            self.journal[reservation.receipt_no] = Hold(reservation)
            self.next_receipt += 1
            if answer == "noanswer_done":
                raise NoAnswer("completion lost")
            return reservation
        finally:
            self._busy.release()

    def capture(self, reservation: TerminalReservation, final_amount_minor: int) -> None:
        self._enter("capture")
        try:
            hold = self.journal[reservation.receipt_no]
            assert hold.status == "open", f"capture of a {hold.status} hold"
            assert final_amount_minor <= hold.reservation.amount_minor
            answer = self._answer()
            if answer == "decline":
                raise Declined(DeclineOutcome.DECLINED, 0x66, "processing error")
            if answer == "noanswer":
                raise NoAnswer("T4 expired")
            hold.status, hold.captured_minor = "captured", final_amount_minor
            if answer == "noanswer_done":
                raise NoAnswer("completion lost")
        finally:
            self._busy.release()

    def release(self, reservation: TerminalReservation) -> None:
        self._enter("release")
        try:
            hold = self.journal[reservation.receipt_no]
            answer = self._answer()
            if answer == "decline" or hold.status == "captured":
                raise Declined(DeclineOutcome.DECLINED, 0xB5, "reversal not possible")
            if answer == "noanswer":
                raise NoAnswer("T4 expired")
            hold.status = "released"
        finally:
            self._busy.release()

    def abort(self) -> None:
        self.calls.append("abort")

    def open_preauthorisations(self) -> list[TerminalReservation]:
        self._enter("open_preauthorisations")
        try:
            return [h.reservation for h in self.journal.values() if h.status == "open"]
        finally:
            self._busy.release()

    def read_card_reference(self, timeout_s: int) -> str | None:
        return self.card_reference

    def end_of_day(self) -> EndOfDayTotals:
        """Totals of the captures booked since the last closing, per brand, as a terminal
        prints them; `eod_extra_minor` plants a difference the back office must find."""
        self._enter("end_of_day")
        try:
            if self._answer() == "noanswer":
                raise NoAnswer("T4 expired")
            booked = [
                h
                for no, h in sorted(self.journal.items())
                if h.status == "captured" and no not in self.closed
            ]
            self.closed.update(h.reservation.receipt_no for h in booked)
            brands: dict[str, list[int]] = {}
            for hold in booked:
                brands.setdefault(hold.reservation.card_brand, []).append(hold.captured_minor)
            lines = tuple(BrandTotal(b, len(a), sum(a)) for b, a in sorted(brands.items()))
            total = sum(h.captured_minor for h in booked) + self.eod_extra_minor
            return EndOfDayTotals("EUR", total, len(booked), lines, raw={"result": "00"})
        finally:
            self._busy.release()


class ScriptedCpo:
    def __init__(self) -> None:
        self.start_answers: list[CommandResult | Exception] = []
        self.stop_answers: list[CommandResult | Exception] = []
        self.calls: list[tuple[str, ...]] = []
        self.sessions: list[RemoteSession] = []
        self.cdrs: list[RemoteCdr] = []
        self.advices: list[tuple[str, int]] = []

    @staticmethod
    def _answer(answers: list[CommandResult | Exception]) -> CommandResponse:
        answer = answers.pop(0) if answers else CommandResult.ACCEPTED
        if isinstance(answer, Exception):
            raise answer
        return CommandResponse(answer, 30)

    def start_session(
        self,
        authorization_reference: str,
        location_id: str,
        evse_uid: str,
        connector_id: str,
        token_uid: str,
    ) -> CommandResponse:
        self.calls.append(("START_SESSION", authorization_reference, evse_uid))
        return self._answer(self.start_answers)

    def stop_session(self, session_id: str, authorization_reference: str) -> CommandResponse:
        self.calls.append(("STOP_SESSION", session_id))
        return self._answer(self.stop_answers)

    def send_advice(self, authorization_reference: str, amount_minor: int, currency: str) -> None:
        self.advices.append((authorization_reference, amount_minor))

    def get_sessions(self, since: datetime) -> list[RemoteSession]:
        return list(self.sessions)

    def get_cdrs(self, since: datetime) -> list[RemoteCdr]:
        return list(self.cdrs)


class FlatPricing:
    """Our 'tariff': the CDR's own total, unless told otherwise; live cost 0.40 per kWh."""

    def __init__(self) -> None:
        self.cdr_price: int | None = None

    def hold_amount_minor(self, evse: EvseInfo, default_minor: int, maximum_minor: int) -> int:
        return default_minor

    def live_cost_minor(self, tx: TxState, session: RemoteSession, at: datetime) -> int | None:
        return int(session.kwh * 40)

    def price_cdr_minor(self, tx: TxState, cdr: RemoteCdr) -> int | None:
        if self.cdr_price is not None:
            return self.cdr_price
        return int(cdr.total_cost * 100)


@dataclass
class StaticDirectory:
    unavailable: set[str] = field(default_factory=set)

    def evse(self, kiosk_id: str, evse_uid: str) -> EvseInfo | None:
        if not evse_uid.startswith("EVSE-"):
            return None
        return EvseInfo(evse_uid, "LOC-1", "1", evse_uid not in self.unavailable, "EUR")


class ScriptedReceipts:
    def __init__(self) -> None:
        self.issued: dict[str, IssuedReceipt] = {}
        self.vouchers: dict[str, str] = {}
        self.credit_notes: dict[tuple[str, int], str] = {}
        self.fail_next = 0

    def issue_receipt(self, tx: TxState) -> IssuedReceipt:
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("disk full")
        if tx.reference not in self.issued:  # idempotent per transaction
            number = f"K1-{len(self.issued) + 1:06d}"
            self.issued[tx.reference] = IssuedReceipt(
                number, f"https://kiosk.example/r/{number}", tx.captured_minor
            )
        return self.issued[tx.reference]

    def issue_voucher(self, tx: TxState) -> str:
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("disk full")
        return self.vouchers.setdefault(tx.reference, f"V-{len(self.vouchers) + 1}")

    def issue_credit_note(self, tx: TxState, index: int, amount_minor: int) -> str:
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("disk full")
        return self.credit_notes.setdefault((tx.reference, index), f"CN-{index}-{amount_minor}")


def make_ports(config: Config) -> Ports:
    """For `kiosk worker --ports charging.doubles:make_ports` in tests."""
    return Ports(
        terminals={k.id: ScriptedTerminal() for k in config.kiosks},
        cpo=ScriptedCpo(),
        pricing=FlatPricing(),
        directory=StaticDirectory(),
        receipts=ScriptedReceipts(),
    )


def cdr(reference: str, total: str = "12.34", cdr_id: str = "CDR-1") -> RemoteCdr:
    return RemoteCdr(reference, cdr_id, Decimal(total), Decimal("30.5"))


def charge_once(
    service: ChargingService,
    kiosk_id: str,
    evse_uid: str,
    settle: Callable[[str, State], None],
    total: str = "3.20",
) -> str:
    """A driver's whole charge with a cooperative CPO; `settle(ref, state)` lets the engine
    work until the transaction reaches `state` (drain in-line, or wait for a worker)."""
    ref = service.select_evse(kiosk_id, evse_uid, "en")
    service.pay(ref)
    service.pay(ref)  # a double tap
    settle(ref, State.STARTING)
    service.on_command_result(ref, "START_SESSION", "ACCEPTED")
    service.on_session(ref, "S", "ACTIVE", Decimal(1), Decimal("0.40"))
    service.stop(ref)
    service.on_session(ref, "S", "COMPLETED", Decimal(8), Decimal(total))
    service.on_cdr(cdr(ref, total, cdr_id=f"CDR-{ref}"))
    settle(ref, State.RECEIPT_ISSUED)
    return ref
