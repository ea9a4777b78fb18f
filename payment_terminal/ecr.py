"""The ECR session: a blocking, thread-safe API over one terminal, one command at a time."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from payment_terminal.profile import CURRENCY_BY_NUMBER, TerminalProfile, currency_number
from payment_terminal.protocol.bmp import RECEIPT_FFFF, BcdNumber
from payment_terminal.protocol.codes import TERMINAL_STATUS, Outcome, outcome_for, result_text
from payment_terminal.protocol.commands import Message, command
from payment_terminal.protocol.connection import (
    Aborted,
    Completed,
    EcrConnection,
    Event,
    IntermediateStatus,
    PrintBlock,
    PrintLine,
    Refused,
    StatusInformation,
)
from payment_terminal.protocol.errors import (
    CommandRefused,
    PaymentDeclined,
    ProtocolError,
    TerminalTimeout,
    TransmissionError,
)
from payment_terminal.protocol.timers import Timers
from payment_terminal.protocol.tlv import Tlv
from payment_terminal.records import (
    CaptureResult,
    CardRead,
    EndOfDayTotals,
    OpenPreauthorisation,
    Registration,
    ReleaseResult,
    Reservation,
    StatusUpdate,
    TerminalStatus,
    card_brand,
    card_reference,
    masked_pan,
    pt_timestamp,
    visible_pan,
)
from payment_terminal.transport import Link
from payment_terminal.transport.tcp_link import TcpLink
from payment_terminal.transport.urls import open_ecr_link

# How often a waiting command looks for an abort request from another thread.
_POLL = 0.05
_NOT_POSSIBLE = 0x83
_ABORT_OR_TIMEOUT = 0x6C
# Commands the PT may send us during a transaction (TLV 26, permitted commands).
_PERMITTED = (0x040F, 0x060F, 0x061E, 0x04FF, 0x06D1)


@dataclass
class _Exchange:
    """Everything the PT sent for one command."""

    refused: int | None = None
    statuses: list[Message] = field(default_factory=list)
    completion: Message | None = None
    abort: Message | None = None
    receipt_lines: list[str] = field(default_factory=list)

    def add(self, event: Event) -> None:
        if isinstance(event, Refused):
            self.refused = event.code
        elif isinstance(event, StatusInformation):
            self.statuses.append(event.message)
        elif isinstance(event, PrintLine):
            self.receipt_lines.append(event.text)
        elif isinstance(event, PrintBlock):
            self.receipt_lines.extend(event.lines)
        elif isinstance(event, Completed):
            self.completion = event.message
        elif isinstance(event, Aborted):
            self.abort = event.message

    @property
    def status(self) -> Message | None:
        return self.statuses[-1] if self.statuses else None


class Terminal:
    """A ZVT payment terminal seen from the ECR.

    `link` is a serial device or pyserial URL (`/dev/ttyUSB0`, `socket://`, `rfc2217://`,
    `loop://`) or `tcp://host:port`. `on_status` receives every intermediate status (04 FF)
    and is called from the thread running the command. All methods block until the PT
    completes; they are serialised by a lock, except `abort()`, which interrupts a running
    command.
    """

    def __init__(
        self,
        link: str,
        profile: TerminalProfile | None = None,
        on_status: Callable[[StatusUpdate], None] | None = None,
    ) -> None:
        self.url = link
        self.profile = profile or TerminalProfile()
        self.on_status = on_status
        self.terminal_id = ""
        self._link: Link | None = None
        self._lock = threading.Lock()
        self._abort_requested = threading.Event()

    def connect(self) -> None:
        with self._lock:
            if self._link is None:
                link = open_ecr_link(self.url, self.profile.timers, self.profile.baudrate)
                link.open()
                self._link = link

    def close(self) -> None:
        with self._lock:
            if self._link is not None:
                self._link.close()
                self._link = None

    def __enter__(self) -> Terminal:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- commands -----------------------------------------------------------------------

    def register(self) -> Registration:
        """Registration 06 00: password, config byte, currency and the permitted commands."""
        profile = self.profile
        tlv = None
        if profile.tlv:
            permitted = _PERMITTED + ((0x06D3,) if profile.receipts == "print_lines" else ())
            tlv = Tlv.of((0x26, Tlv.of(*((0x0A, code.to_bytes(2, "big")) for code in permitted))))
        exchange = self._run(
            command(
                0x0600,
                password=profile.password,
                config_byte=profile.config_byte,
                currency_code=currency_number(profile.currency),
                service_byte=0x00,
                tlv=tlv,
            )
        )
        fields = _completion_fields(exchange)
        self.terminal_id = str(fields.get("terminal_id", self.terminal_id))
        return Registration(
            self.terminal_id, fields.get("currency_code"), fields.get("payment_type")
        )

    def status_enquiry(self) -> TerminalStatus:
        """Status-Enquiry 05 01: the terminal status byte and software version."""
        exchange = self._run(command(0x0501, password=self.profile.password))
        fields = _completion_fields(exchange)
        code = int(fields.get("terminal_status", 0))
        return TerminalStatus(
            code,
            TERMINAL_STATUS.get(code, f"status 0x{code:02X}"),
            str(fields.get("sw_version", "")),
            self.terminal_id,
        )

    def preauthorise(self, amount_minor: int, currency: str, reference: str) -> Reservation:
        """Pre-Authorisation 06 22 of `amount_minor`; raises PaymentDeclined when refused."""
        _check_amount(amount_minor, positive=True)
        cc = currency_number(currency)
        exchange = self._run(
            command(
                0x0622,
                amount=amount_minor,
                currency_code=cc,
                payment_type=self.profile.payment_type,
                tlv=self._reference_tlv(reference),
            )
        )
        info = _require_status(exchange, "Status-Information (04 0F) with the reservation")
        fields = info.fields
        if "receipt_no" not in fields:
            raise ProtocolError(0, "BMP 87 receipt number in the reservation's 04 0F")
        return self._reservation(fields, currency.upper(), reference, amount_minor)

    def capture(self, reservation: Reservation, final_amount_minor: int) -> CaptureResult:
        """Settle `final_amount_minor` of a reservation: 06 24 (used amount) or 06 23 (unused
        amount) per profile.capture_style; 0 releases the reservation instead."""
        _check_amount(final_amount_minor, positive=False)
        if final_amount_minor > reservation.amount_minor:
            raise ValueError(
                f"final amount {final_amount_minor} exceeds the reservation "
                f"{reservation.amount_minor}"
            )
        if final_amount_minor == 0:
            released = self.release(reservation)
            return CaptureResult(
                0,
                reservation.currency,
                released.receipt_no,
                released.trace_no,
                None,
                released=True,
                receipt_lines=released.receipt_lines,
            )
        book_total = self.profile.capture_style == "book_total"
        exchange = self._run(
            command(
                0x0624 if book_total else 0x0623,
                receipt_no=reservation.receipt_no,
                amount=final_amount_minor
                if book_total
                else reservation.amount_minor - final_amount_minor,
                currency_code=currency_number(reservation.currency),
                trace_no=reservation.trace_no,
                aid=reservation.aid or None,
                tlv=self._reference_tlv(reservation.reference),
            )
        )
        fields = exchange.status.fields if exchange.status else {}
        return CaptureResult(
            final_amount_minor,
            reservation.currency,
            fields.get("receipt_no"),
            fields.get("trace_no"),
            pt_timestamp(fields, self.profile.timezone),
            receipt_lines=tuple(exchange.receipt_lines),
        )

    def release(self, reservation: Reservation | OpenPreauthorisation) -> ReleaseResult:
        """Pre-Authorisation Reversal 06 25; with release_fallback_reversal, Reversal 06 30
        when the PT says the function is not possible."""
        cc = currency_number(reservation.currency)
        amount = reservation.amount_minor
        try:
            exchange = self._run(
                command(0x0625, receipt_no=reservation.receipt_no, amount=amount, currency_code=cc)
            )
            name = "06 25"
        except (CommandRefused, PaymentDeclined) as exc:
            code = exc.code if isinstance(exc, CommandRefused) else exc.result_code
            if not (self.profile.release_fallback_reversal and code == _NOT_POSSIBLE):
                raise
            exchange = self._run(
                command(0x0630, password=self.profile.password, receipt_no=reservation.receipt_no)
            )
            name = "06 30"
        fields = exchange.status.fields if exchange.status else {}
        return ReleaseResult(
            amount or 0,
            reservation.currency,
            fields.get("receipt_no"),
            fields.get("trace_no"),
            name,
            tuple(exchange.receipt_lines),
        )

    def reversal(self, receipt_no: int) -> ReleaseResult:
        """Reversal 06 30 of a booked transaction."""
        exchange = self._run(command(0x0630, password=self.profile.password, receipt_no=receipt_no))
        fields = exchange.status.fields if exchange.status else {}
        return ReleaseResult(
            int(fields.get("amount", 0)),
            CURRENCY_BY_NUMBER.get(fields.get("currency_code", 0), self.profile.currency),
            fields.get("receipt_no"),
            fields.get("trace_no"),
            "06 30",
            tuple(exchange.receipt_lines),
        )

    def read_card(self, timeout_s: int) -> CardRead | None:
        """Read Card 06 C0: the PT waits up to `timeout_s` (1-255 s) for a card and reports it
        without a payment. None when no card was presented (result 6C: the PT's timeout, its
        abort key, or `abort()` from another thread); other refusals raise PaymentDeclined."""
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, int):
            raise TypeError(f"timeout_s must be an int, got {type(timeout_s).__name__}")
        if not 1 <= timeout_s <= 255:
            raise ValueError(f"timeout_s {timeout_s} out of range 1..255 for Read Card")
        timers = self.profile.timers
        # The PT may stay silent for the whole card wait: T4 must not expire before it does.
        timers = dataclasses.replace(timers, t4=max(timers.t4, timeout_s + timers.t3))
        try:
            exchange = self._run(command(0x06C0, timeout=timeout_s), timers=timers)
        except PaymentDeclined as exc:
            if exc.result_code == _ABORT_OR_TIMEOUT:
                return None
            raise
        fields = _require_status(exchange, "Status-Information (04 0F) with the card data").fields
        return CardRead(
            card_brand=card_brand(fields),
            masked_pan=masked_pan(visible_pan(fields)),
            card_reference=card_reference(fields, self.profile.card_reference_key),
        )

    def abort(self) -> None:
        """Abort 06 B0: interrupts the running command (which then raises PaymentDeclined with
        CUSTOMER_ABORT_OR_TIMEOUT) or, when idle, is sent on its own."""
        if self._lock.acquire(blocking=False):
            try:
                self._exchange(command(0x06B0), self.profile.timers)
            finally:
                self._lock.release()
        else:
            self._abort_requested.set()

    def end_of_day(self) -> EndOfDayTotals:
        """End-of-Day 06 50: the totals from BMP 04/60 of the 04 0F."""
        exchange = self._run(command(0x0650, password=self.profile.password))
        fields = exchange.status.fields if exchange.status else {}
        totals = fields.get("totals") or {}
        return EndOfDayTotals(
            int(fields.get("amount", 0)),
            CURRENCY_BY_NUMBER.get(fields.get("currency_code", 0), self.profile.currency),
            totals.get("receipt_from"),
            totals.get("receipt_to"),
            totals.get("groups", {}),
            tuple(exchange.receipt_lines),
        )

    def log_off(self) -> None:
        """Log-Off 06 02: the PT forgets the registration (config byte 86, no TLV)."""
        self._run(command(0x0602))

    def repeat_receipt(self) -> Reservation | None:
        """Repeat Receipt 06 20: the last transaction's 04 0F, e.g. after a lost one."""
        exchange = self._run(command(0x0620, password=self.profile.password))
        status = exchange.status
        if status is None or "receipt_no" not in status.fields:
            return None
        fields = status.fields
        currency = CURRENCY_BY_NUMBER.get(fields.get("currency_code", 0), self.profile.currency)
        return self._reservation(fields, currency, _reference_of(fields), 0)

    def open_preauthorisations(self) -> list[OpenPreauthorisation]:
        """Open pre-authorisations (06 23 87 FFFF): the receipt numbers the PT still holds.

        Without TLV the PT names one receipt per enquiry; release it and ask again.
        """
        exchange = self._run(command(0x0623, receipt_no=RECEIPT_FFFF), raise_abort=False)
        abort = exchange.abort
        if abort is None:
            return []
        code = abort.fields.get("result_code", 0)
        if code != 0xB8:
            raise _declined(abort)
        receipts = set()
        if abort.fields.get("receipt_no", RECEIPT_FFFF) != RECEIPT_FFFF:
            receipts.add(abort.fields["receipt_no"])
        tlv = abort.fields.get("tlv")
        listing = tlv.get(0x23) if isinstance(tlv, Tlv) else None
        if isinstance(listing, Tlv):
            for raw in listing.all(0x08):
                if isinstance(raw, bytes) and raw != b"\xff\xff":
                    receipts.add(BcdNumber(2).decode(raw, 0, 0)[0])
        currency = self.profile.currency
        return [OpenPreauthorisation(receipt, currency) for receipt in sorted(receipts)]

    # --- machinery ----------------------------------------------------------------------

    def _run(
        self, message: Message, raise_abort: bool = True, timers: Timers | None = None
    ) -> _Exchange:
        with self._lock:
            exchange = self._exchange(message, timers or self.profile.timers)
        if exchange.refused is not None:
            raise CommandRefused(exchange.refused, result_text(exchange.refused))
        if raise_abort and exchange.abort is not None:
            raise _declined(exchange.abort)
        status = exchange.status
        if status is not None and status.fields.get("result_code", 0) != 0:
            raise _declined(status)
        return exchange

    def _exchange(self, message: Message, timers: Timers) -> _Exchange:
        if self._link is None:
            raise TransmissionError(f"terminal {self.url} is not connected")
        link = self._link
        self._abort_requested.clear()
        # Leftovers of an earlier, failed exchange must not answer this command; unacknowledged
        # 04 0F are reversed by the PT, which is the safe side.
        with contextlib.suppress(TransmissionError):
            while link.receive(0) is not None:
                pass
        connection = EcrConnection(timers, self.profile.charset)
        exchange = _Exchange()
        try:
            link.send(connection.start(message))
            epoch, deadline = -1, 0.0
            while not connection.done:
                if connection.timer_epoch != epoch:
                    epoch = connection.timer_epoch
                    deadline = time.monotonic() + connection.timeout
                if self._abort_requested.is_set():
                    self._abort_requested.clear()
                    link.send(connection.abort())
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TerminalTimeout(
                        f"no answer to {message.code_hex} within {connection.timeout:g} s"
                    )
                raw = link.receive(min(remaining, _POLL))
                if raw is None:
                    continue
                events = connection.receive(raw)
                for answer in connection.outgoing:
                    link.send(answer)
                connection.outgoing.clear()
                for event in events:
                    exchange.add(event)
                    self._notify(event)
        except (TerminalTimeout, TransmissionError, ProtocolError):
            if isinstance(link, TcpLink):
                # On TCP the waiting side closes; the next command reconnects.
                link.close()
            raise
        return exchange

    def _notify(self, event: Event) -> None:
        if isinstance(event, IntermediateStatus) and self.on_status is not None:
            self.on_status(StatusUpdate.of(event.code, event.text))

    def _reference_tlv(self, reference: str) -> Tlv | None:
        if not (self.profile.tlv and reference):
            return None
        ident = self.profile.reference_id.encode("ascii")
        return Tlv.of((0xE9, Tlv.of((0x1F62, ident), (0x1F63, reference.encode("utf-8")))))

    def _reservation(
        self, fields: dict, currency: str, reference: str, requested: int
    ) -> Reservation:
        aid = str(fields.get("aid", ""))
        return Reservation(
            amount_minor=int(fields.get("amount", requested)),
            currency=currency,
            receipt_no=int(fields["receipt_no"]),
            trace_no=fields.get("trace_no"),
            terminal_id=str(fields.get("terminal_id", self.terminal_id)),
            aid=aid,
            card_brand=card_brand(fields),
            masked_pan=masked_pan(visible_pan(fields)),
            auth_code=aid,
            timestamp=pt_timestamp(fields, self.profile.timezone),
            reference=reference,
            card_reference=card_reference(fields, self.profile.card_reference_key),
        )


def _check_amount(amount: int, positive: bool) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int in minor units, got {type(amount).__name__}")
    if amount < 0 or (positive and amount == 0) or amount > 999_999_999_999:
        raise ValueError(f"amount {amount} out of range for BMP 04")


def _completion_fields(exchange: _Exchange) -> dict:
    return exchange.completion.fields if exchange.completion else {}


def _require_status(exchange: _Exchange, expected: str) -> Message:
    if exchange.status is None:
        raise ProtocolError(0, expected, "a completion without it")
    return exchange.status


def _declined(message: Message) -> PaymentDeclined:
    fields = message.fields
    code = int(fields.get("result_code", 0xFF))
    tlv = fields.get("tlv")
    text_raw = tlv.find(0x1F17) if isinstance(tlv, Tlv) else None
    extended = tlv.find(0x1F16) if isinstance(tlv, Tlv) else None
    if isinstance(text_raw, bytes):
        text = text_raw.decode("utf-8", "replace")
    else:
        text = str(fields.get("additional_text") or result_text(code))
    return PaymentDeclined(
        outcome_for(code) if code else Outcome.SYSTEM_ERROR,
        code,
        text,
        extended.hex() if isinstance(extended, bytes) else "",
    )


def _reference_of(fields: dict) -> str:
    tlv = fields.get("tlv")
    value = tlv.find(0x1F63) if isinstance(tlv, Tlv) else None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""
