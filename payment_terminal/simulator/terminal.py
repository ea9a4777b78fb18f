"""The simulated PT: answers ECR commands over a real link with realistic dialogues."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime
from zoneinfo import ZoneInfo

from payment_terminal.profile import CURRENCY_BY_NUMBER, RECEIPTS_AS_PRINT_LINES
from payment_terminal.protocol.bmp import RECEIPT_FFFF, TOTALS_GROUPS, BcdNumber
from payment_terminal.protocol.codes import result_text
from payment_terminal.protocol.commands import Message, command, decode_message, encode_message
from payment_terminal.protocol.errors import ProtocolError, TransmissionError
from payment_terminal.protocol.timers import Timers
from payment_terminal.protocol.tlv import Tlv
from payment_terminal.records import masked_pan
from payment_terminal.simulator.cards import CARDS, DEFAULT_CARD, SimCard, card_named
from payment_terminal.simulator.journal import TOTALS_GROUP, Journal, JournalEntry
from payment_terminal.simulator.scenarios import (
    TRANSPORT_FAULTS,
    Plan,
    Scenario,
    plan,
    scenario_for_amount,
)
from payment_terminal.transport import Link
from payment_terminal.transport.serial_link import SerialLink
from payment_terminal.transport.tcp_link import TcpServerLink
from payment_terminal.transport.urls import open_pt_link

log = logging.getLogger(__name__)

ACK = bytes.fromhex("800000")
NOT_POSSIBLE = bytes.fromhex("848300")
PROTOCOL_ERROR = bytes.fromhex("849a00")

# Base durations in seconds, multiplied by the speed factor.
CARD_DELAY, PIN_DELAY, HOST_DELAY, NO_CARD_WAIT = 1.0, 1.5, 1.0, 30.0
ABORT_OR_TIMEOUT = 0x6C


class _Aborted(Exception):
    """The ECR sent 06 B0 while the simulated customer was busy."""


class _Gone(Exception):
    """The ECR stopped answering or the connection dropped."""


class TerminalSimulator:
    """A PT on `link`: `pty` (creates a pty pair; see `device_path`), a serial device or
    pyserial URL, or `tcp://host:port` (port 0 picks a free one; see `link_url`).

    `speed` scales every simulated delay (0 = instant). Scenarios for the next transactions
    are queued with `push_scenario`; otherwise the amount's last two digits decide (see
    scenarios.AMOUNT_CONVENTIONS). `receipts` is "lines" (06 D1) or "block" (06 D3, when
    the ECR permitted it) for ECRs that registered for print lines. `preauth_reversal` False
    makes the PT refuse 06 25 (as some acquirers do), so the ECR must fall back to 06 30.
    The simulated customer presents `card` (see cards.CARDS; `present_card` changes it, None
    presents none) for payments and Read Card alike.
    """

    def __init__(
        self,
        link: str = "pty",
        *,
        speed: float = 1.0,
        tlv: bool = True,
        receipts: str = "lines",
        password: str = "000000",
        terminal_id: str = "52523535",
        preauth_reversal: bool = True,
        timezone: str = "Europe/Berlin",
        timers: Timers | None = None,
    ) -> None:
        self.url = link
        self.speed = speed
        self.tlv = tlv
        self.receipts = receipts
        self.password = password
        self.terminal_id = terminal_id
        self.preauth_reversal = preauth_reversal
        self.zone = ZoneInfo(timezone)
        self.timers = timers or Timers()
        self.journal = Journal()
        # Control fields of every command received, for inspection.
        self.received: list[str] = []
        self._scenarios: deque[Plan] = deque()
        self.card: SimCard | None = CARDS[DEFAULT_CARD]
        self._link = open_pt_link(link, self.timers)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._config_byte = 0x86
        self._tlv_active = False
        self._permitted: set[int] = set()
        self._last_status: Message | None = None

    # --- lifecycle and control ----------------------------------------------------------

    def start(self) -> None:
        self._link.open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="zvt-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._link.close()

    def __enter__(self) -> TerminalSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def device_path(self) -> str:
        """The device the ECR opens when the link is `pty`."""
        port = getattr(self._link, "port", None)
        return getattr(port, "device_path", "")

    @property
    def link(self) -> Link:
        """The simulator's own end of the link (for diagnostics and benchmarks)."""
        return self._link

    @property
    def link_url(self) -> str:
        """The URL the ECR uses to reach this simulator."""
        if isinstance(self._link, TcpServerLink):
            return f"tcp://{self._link.host}:{self._link.port}"
        return self.device_path or self.url

    def push_scenario(self, name: str, result_code: int | None = None) -> None:
        """Queue a scenario for the next transaction; transport faults are armed at once."""
        chosen = plan(name, result_code)
        if chosen.scenario in TRANSPORT_FAULTS:
            self._arm_fault(chosen.scenario)
        else:
            self._scenarios.append(chosen)

    def present_card(self, name: str | None) -> None:
        """The card the customer presents from now on (a cards.CARDS name), or None for none:
        then payments and Read Card time out with 6C. ValueError for unknown names."""
        self.card = card_named(name)

    def _arm_fault(self, scenario: Scenario) -> None:
        if not isinstance(self._link, SerialLink):
            raise ValueError(f"{scenario.value} needs a serial link")
        faults = self._link.faults
        if scenario is Scenario.CORRUPT_CRC:
            faults.corrupt_next_crc = True
        elif scenario is Scenario.MISSING_ACK:
            faults.ignore_next_frame = True
        else:
            faults.ack_delay = self.timers.t2 / 2

    # --- the PT loop --------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw = self._link.receive(0.1)
                if raw is not None:
                    self._handle(raw)
            except (TransmissionError, _Gone) as exc:
                log.info("simulator: link: %s", exc)
                time.sleep(0.01)
            except Exception:
                # A simulator bug must not kill the PT thread under a running test.
                log.exception("simulator: command failed")

    def _handle(self, raw: bytes) -> None:
        try:
            message = decode_message(raw)
        except ProtocolError as exc:
            log.info("simulator: malformed APDU: %s", exc)
            self._link.send(PROTOCOL_ERROR)
            return
        handler = _HANDLERS.get(message.code)
        if message.is_response:
            return
        self.received.append(message.code_hex)
        if handler is None or (message.code == 0x0625 and not self.preauth_reversal):
            self._link.send(NOT_POSSIBLE)
            return
        handler(self, message)

    def _send(self, message: Message) -> None:
        self._link.send(encode_message(message))

    def _emit(self, message: Message) -> None:
        """Send a PT message and wait (T3) for the ECR's `80 00 00`."""
        self._send(message)
        deadline = time.monotonic() + self.timers.t3
        while (remaining := deadline - time.monotonic()) > 0:
            raw = self._link.receive(remaining)
            if raw is None:
                break
            if raw[:2] in (b"\x80\x00", b"\x84\x00"):
                return
            if raw[:2] == b"\x84\x9c":
                # The ECR needs time: repeat after 2 s.
                self._pause(2.0)
                self._send(message)
                deadline = time.monotonic() + self.timers.t3
                continue
            self._check_abort(raw)
        raise _Gone(f"no acknowledgement for {message.code_hex}")

    def _pause(self, seconds: float) -> None:
        """A simulated delay; an 06 B0 arriving meanwhile aborts the dialogue."""
        deadline = time.monotonic() + seconds * self.speed
        while (remaining := deadline - time.monotonic()) > 0:
            raw = self._link.receive(remaining)
            if raw is not None:
                self._check_abort(raw)

    def _check_abort(self, raw: bytes) -> None:
        """An ECR command during a dialogue: 06 B0 ends it, anything else is ignored."""
        if raw[:2] == b"\x06\xb0":
            self.received.append("06 B0")
            self._link.send(ACK)
            raise _Aborted

    def _status(self, code: int, text: str = "") -> None:
        fields: dict = {"status": code}
        if self._tlv_active and text:
            fields["timeout"] = 0x01
            fields["tlv"] = Tlv.of((0x24, Tlv.of((0x07, text.encode("cp437")))))
        self._emit(Message(0x04FF, fields))

    def _abort_dialogue(self, code: int, text: str = "") -> None:
        fields: dict = {"result_code": code}
        if self._tlv_active:
            ext = code.to_bytes(1, "big")
            message = (text or result_text(code)).encode("utf-8")
            fields["tlv"] = Tlv.of((0x1F16, ext), (0x1F17, message))
        self._emit(Message(0x061E, fields))

    def _complete(self, **fields: object) -> None:
        self._emit(command(0x060F, **fields))

    # --- commands -----------------------------------------------------------------------

    def _registration(self, message: Message) -> None:
        fields = message.fields
        if fields.get("password") != self.password:
            self._link.send(NOT_POSSIBLE)
            return
        self._link.send(ACK)
        self._config_byte = fields.get("config_byte", 0)
        tlv = fields.get("tlv")
        self._tlv_active = self.tlv and "tlv" in fields
        self._permitted = set()
        listing = tlv.get(0x26) if isinstance(tlv, Tlv) else None
        if isinstance(listing, Tlv):
            self._permitted = {int.from_bytes(v, "big") for v in listing.all(0x0A)}
        cc = fields.get("currency_code", 978)
        self._complete(payment_type=0x00, terminal_id=self.terminal_id, currency_code=cc)

    def _status_enquiry(self, message: Message) -> None:
        self._link.send(ACK)
        status = 0xF0 if len(self.journal.batch) >= 900 else 0x00
        self._complete(sw_version="SIM-ZVT 1.0", terminal_status=status)

    def _log_off(self, message: Message) -> None:
        self._link.send(ACK)
        self._config_byte, self._tlv_active, self._permitted = 0x86, False, set()

    def _idle_abort(self, message: Message) -> None:
        self._link.send(ACK)

    def _preauthorisation(self, message: Message) -> None:
        fields = message.fields
        amount = int(fields.get("amount", 2500))
        chosen = self._scenarios.popleft() if self._scenarios else scenario_for_amount(amount)
        self._link.send(ACK)
        try:
            self._card_dialogue(message, amount, chosen)
        except _Aborted:
            self._abort_dialogue(0x6C, "Abbruch durch externes Kommando")

    def _card_dialogue(self, message: Message, amount: int, chosen: Plan) -> None:
        scenario = chosen.scenario
        self._status(0x0A, "Bitte Karte")
        if scenario is Scenario.DISCONNECT:
            self._disconnect()
            return
        card = self.card
        if scenario is Scenario.NO_CARD or card is None:
            self._pause(NO_CARD_WAIT)
            code = chosen.result_code if card else ABORT_OR_TIMEOUT
            self._abort_dialogue(code, "Zeitüberschreitung")
            return
        self._pause(CARD_DELAY)
        if scenario is Scenario.CUSTOMER_ABORT:
            self._abort_dialogue(chosen.result_code, "Abbruch durch Kunde")
            return
        if scenario is Scenario.CARD_UNREADABLE:
            self._status(0x0C, "Karte nicht lesbar")
            self._abort_dialogue(chosen.result_code)
            return
        self._status(0x01, "Bitte PIN eingeben")
        self._pause(PIN_DELAY)
        if scenario in (Scenario.PIN_RETRY, Scenario.PIN_ERROR):
            self._status(0x15, "PIN falsch")
            self._status(0x01, "Bitte PIN eingeben")
            self._pause(PIN_DELAY)
        if scenario is Scenario.PIN_ERROR:
            self._status(0x18, "PIN-Versuche überschritten")
            self._abort_dialogue(chosen.result_code)
            return
        self._status(0x17, "Bitte warten")
        self._pause(HOST_DELAY)
        if scenario in (Scenario.DECLINE, Scenario.INSUFFICIENT_FUNDS):
            self._status(0x1D, "Abgelehnt")
            self._abort_dialogue(chosen.result_code)
            return
        lost = scenario is Scenario.LOST_STATUS_INFORMATION
        self._approve(message, amount, card, lost=lost)

    def _approve(self, message: Message, amount: int, card: SimCard, lost: bool) -> None:
        fields = message.fields
        receipt, trace = self.journal.next_numbers()
        currency = CURRENCY_BY_NUMBER.get(fields.get("currency_code", 978), "EUR")
        reference = _reference(fields.get("tlv"))
        entry = JournalEntry(
            receipt, trace, amount, currency, reference, card.brand, masked_pan(card.pan), card.name
        )
        status = self._status_information(amount, receipt, trace, fields.get("tlv"), card)
        if lost:
            # The 04 0F never reaches the ECR, but the money is held (Portalum.Zvt #59).
            self.journal.add(entry)
            self._last_status = status
            self._disconnect()
            return
        self._emit(status)
        title = f"Reservierung {amount / 100:.2f} {currency}"
        self._print_receipt(title, receipt, trace, card)
        self.journal.add(entry)
        self._last_status = status
        self._complete()

    def _status_information(
        self, amount: int, receipt: int, trace: int, request_tlv: object, card: SimCard
    ) -> Message:
        now = datetime.now(self.zone)
        fields: dict = {
            "result_code": 0x00,
            "amount": amount,
            "currency_code": 978,
            "time": now.strftime("%H:%M:%S"),
            "date": now.strftime("%m-%d"),
            "pan": card.pan,
            "receipt_no": receipt,
            "aid": f"{(receipt * 7919) % 1000000:06d}",
            "trace_no": trace,
            "payment_type": 0x60,
            "terminal_id": self.terminal_id,
            "card_type": card.card_type,
            "card_seq_no": 1,
            "card_name": card.brand,
        }
        if self._tlv_active and isinstance(request_tlv, Tlv) and request_tlv.get(0xE9):
            fields["tlv"] = Tlv.of((0xE9, request_tlv.get(0xE9)))
        return Message(0x040F, fields)

    def _print_receipt(self, title: str, receipt: int, trace: int, card: SimCard | None) -> None:
        if not self._config_byte & RECEIPTS_AS_PRINT_LINES:
            return
        lines = [
            "** Kundenbeleg **",
            title,
            f"Terminal-ID {self.terminal_id}",
            f"Beleg-Nr. {receipt:04d}  Trace {trace:06d}",
            *([f"{card.brand}  {masked_pan(card.pan)}"] if card else []),
            datetime.now(self.zone).strftime("%d.%m.%Y %H:%M:%S"),
            *(f"{'-' * 38}{n:02d}" for n in range(8)),
        ]
        if self.receipts == "block" and 0x06D3 in self._permitted:
            block = Tlv.of(*((0x07, line.encode("cp437")) for line in lines))
            self._emit(Message(0x06D3, {"tlv": Tlv.of((0x1F07, b"\x02"), (0x25, block))}))
            return
        for n, line in enumerate(lines):
            attribute = 0x80 if n == len(lines) - 1 else 0x00
            self._emit(Message(0x06D1, {"attribute": attribute, "text": line}))

    def _disconnect(self) -> None:
        if isinstance(self._link, TcpServerLink):
            self._link.drop()
        raise _Gone("simulated disconnect")

    def _settle(self, message: Message) -> None:
        fields = message.fields
        receipt = fields.get("receipt_no")
        if message.code == 0x0623 and receipt == RECEIPT_FFFF:
            self._open_enquiry()
            return
        self._link.send(ACK)
        entry = self.journal.get(receipt) if isinstance(receipt, int) else None
        if entry is None or entry.state != "open":
            self._abort_dialogue(0xB7 if entry is None else 0xB4)
            return
        amount = int(fields.get("amount", 0 if message.code == 0x0623 else entry.amount_minor))
        if message.code == 0x0624:
            captured = amount
        elif message.code == 0x0623:
            captured = entry.amount_minor - amount
        else:
            captured = 0
        if not 0 <= captured <= entry.amount_minor:
            self._abort_dialogue(0xB7)
            return
        new_receipt, trace = self.journal.next_numbers()
        card = CARDS[entry.card]
        status = self._status_information(captured, new_receipt, trace, fields.get("tlv"), card)
        self._emit(status)
        title = f"Zahlung {captured / 100:.2f} {entry.currency}"
        self._print_receipt(title, new_receipt, trace, card)
        self.journal.settle(entry, "captured" if captured else "released", captured, new_receipt)
        self._last_status = status
        self._complete()

    def _reversal(self, message: Message) -> None:
        fields = message.fields
        if fields.get("password") != self.password:
            self._link.send(NOT_POSSIBLE)
            return
        self._link.send(ACK)
        entry = self.journal.get(fields.get("receipt_no", -1))
        if entry is None or entry.state in ("released", "reversed"):
            self._abort_dialogue(0xB4 if entry else 0xB5)
            return
        new_receipt, trace = self.journal.next_numbers()
        card = CARDS[entry.card]
        status = self._status_information(entry.captured_minor, new_receipt, trace, None, card)
        self._emit(status)
        self.journal.settle(entry, "reversed" if entry.captured_minor else "released", 0, 0)
        self._complete()

    def _open_enquiry(self) -> None:
        self._link.send(ACK)
        receipts = [entry.receipt_no for entry in self.journal.open_reservations()]
        fields: dict = {
            "result_code": 0xB8,
            "receipt_no": receipts[0] if receipts else RECEIPT_FFFF,
        }
        if self._tlv_active and receipts:
            listing = Tlv.of(*((0x08, BcdNumber(2).encode(r, 0)) for r in receipts))
            fields["tlv"] = Tlv.of((0x23, listing))
        self._emit(Message(0x061E, fields))

    def _end_of_day(self, message: Message) -> None:
        if message.fields.get("password") != self.password:
            self._link.send(NOT_POSSIBLE)
            return
        self._link.send(ACK)
        pending = self.journal.open_reservations()
        if pending:
            fields = {"result_code": 0xB8, "receipt_no": pending[0].receipt_no}
            self._emit(Message(0x061E, fields))
            return
        self._status(0x17, "Kassenschnitt")
        self._pause(HOST_DELAY)
        batch = self.journal.close_batch()
        groups = {name: {"count": 0, "amount": 0} for name in TOTALS_GROUPS}
        for booking in batch:
            group = groups[TOTALS_GROUP.get(booking.card_brand, "others")]
            group["count"] += 1
            group["amount"] += booking.amount_minor
        receipts = [booking.receipt_no for booking in batch] or [0]
        _, trace = self.journal.next_numbers()
        now = datetime.now(self.zone)
        totals = {"receipt_from": min(receipts), "receipt_to": max(receipts), "groups": groups}
        status = command(
            0x040F,
            result_code=0x00,
            amount=sum(booking.amount_minor for booking in batch),
            currency_code=978,
            trace_no=trace,
            time=now.strftime("%H:%M:%S"),
            date=now.strftime("%m-%d"),
            totals=totals,
        )
        self._emit(status)
        self._print_receipt("Kassenschnitt", max(receipts), trace, None)
        self._complete()

    def _read_card(self, message: Message) -> None:
        """Read Card 06 C0: the presented card as a Feig PT reports it (track 2, and with TLV
        the card identifier 1F14 and the card's application), or 6C after the timeout."""
        self._link.send(ACK)
        try:
            self._status(0x0A, "Bitte Karte")
            card = self.card
            if card is None:
                self._pause(min(float(message.fields.get("timeout", 0)), NO_CARD_WAIT))
                self._abort_dialogue(ABORT_OR_TIMEOUT, "Zeitüberschreitung")
                return
            self._pause(CARD_DELAY)
        except _Aborted:
            self._abort_dialogue(ABORT_OR_TIMEOUT, "Abbruch durch externes Kommando")
            return
        fields: dict = {"result_code": 0x00, "track2": card.track2}
        if self._tlv_active:
            application = Tlv.of((0x60, Tlv.of((0x43, card.aid))))
            fields["tlv"] = Tlv.of((0x1F14, card.identifier), (0x62, application))
        self._emit(Message(0x040F, fields))
        self._complete()

    def _repeat_receipt(self, message: Message) -> None:
        if message.fields.get("password") != self.password:
            self._link.send(NOT_POSSIBLE)
            return
        self._link.send(ACK)
        if self._last_status is None:
            self._abort_dialogue(0x83)
            return
        self._emit(self._last_status)
        self._complete()


def _reference(tlv: object) -> str:
    value = tlv.find(0x1F63) if isinstance(tlv, Tlv) else None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


_HANDLERS = {
    0x0600: TerminalSimulator._registration,
    0x0501: TerminalSimulator._status_enquiry,
    0x0602: TerminalSimulator._log_off,
    0x06B0: TerminalSimulator._idle_abort,
    0x0622: TerminalSimulator._preauthorisation,
    0x0623: TerminalSimulator._settle,
    0x0624: TerminalSimulator._settle,
    0x0625: TerminalSimulator._settle,
    0x0630: TerminalSimulator._reversal,
    0x0650: TerminalSimulator._end_of_day,
    0x0620: TerminalSimulator._repeat_receipt,
    0x06C0: TerminalSimulator._read_card,
}
