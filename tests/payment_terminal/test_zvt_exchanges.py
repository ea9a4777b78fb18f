"""Full ECR <-> simulator exchanges over a real pty pair (9600 baud) and loopback TCP."""

from __future__ import annotations

import os
import select
import socket
import threading
import tty
from collections.abc import Iterator

import pytest

from payment_terminal.ecr import Terminal
from payment_terminal.profile import TerminalProfile
from payment_terminal.protocol.codes import Outcome
from payment_terminal.protocol.errors import PaymentDeclined
from payment_terminal.protocol.timers import Timers
from payment_terminal.simulator import TerminalSimulator, simulator_for


def test_register_and_status_enquiry(make_terminal, simulator: TerminalSimulator) -> None:
    with make_terminal(simulator) as terminal:
        registration = terminal.register()
        status = terminal.status_enquiry()
    assert registration.terminal_id == "52523535"
    assert registration.currency_code == 978
    assert (status.code, status.text, status.sw_version) == (0, "ready", "SIM-ZVT 1.0")
    assert simulator.received == ["06 00", "05 01"]


def test_preauthorisation_returns_a_reservation(
    make_terminal, simulator: TerminalSimulator
) -> None:
    updates: list = []
    with make_terminal(simulator, updates) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(5000, "EUR", "TX-0001")
    assert reservation.amount_minor == 5000
    assert reservation.currency == "EUR"
    assert reservation.receipt_no == 1 and reservation.trace_no == 1
    assert reservation.terminal_id == "52523535"
    assert reservation.card_brand == "Mastercard"
    assert reservation.masked_pan == "************8074"
    assert reservation.aid and reservation.auth_code == reservation.aid
    assert reservation.reference == "TX-0001"
    assert reservation.timestamp is not None and reservation.timestamp.tzinfo is not None
    assert len(reservation.card_reference) == 32
    assert [u.key for u in updates] == ["insert_card", "enter_pin", "please_wait"]
    assert updates[0].text == "Bitte Karte"
    entry = simulator.journal.get(reservation.receipt_no)
    assert entry is not None and entry.state == "open" and entry.reference == "TX-0001"


@pytest.mark.parametrize(
    ("style", "command", "sent_amount"),
    [("book_total", "06 24", 1234), ("partial_reversal", "06 23", 5000 - 1234)],
)
def test_capture_in_both_styles(
    make_terminal, simulator: TerminalSimulator, style: str, command: str, sent_amount: int
) -> None:
    with make_terminal(simulator, capture_style=style) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(5000, "EUR", "TX-0002")
        result = terminal.capture(reservation, 1234)
    assert simulator.received[-1] == command
    assert result.captured_minor == 1234 and not result.released
    assert result.receipt_no == 2
    entry = simulator.journal.get(reservation.receipt_no)
    assert (entry.state, entry.captured_minor) == ("captured", 1234)


def test_capture_of_zero_releases(make_terminal, simulator: TerminalSimulator) -> None:
    with make_terminal(simulator) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(3000, "EUR", "TX-0003")
        result = terminal.capture(reservation, 0)
    assert result.released and result.captured_minor == 0
    assert simulator.received[-1] == "06 25"
    assert simulator.journal.get(reservation.receipt_no).state == "released"


def test_capture_above_the_reservation_is_refused_locally(
    make_terminal, simulator: TerminalSimulator
) -> None:
    with make_terminal(simulator) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(3000, "EUR", "TX-0004")
        with pytest.raises(ValueError, match="exceeds the reservation"):
            terminal.capture(reservation, 3001)
    assert simulator.journal.get(reservation.receipt_no).state == "open"


def test_release_and_fallback_to_reversal(make_terminal, pty_simulator: TerminalSimulator) -> None:
    pty_simulator.preauth_reversal = False
    with make_terminal(pty_simulator, release_fallback_reversal=True) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(2500, "EUR", "TX-0005")
        result = terminal.release(reservation)
    assert result.command == "06 30"
    assert pty_simulator.received[-2:] == ["06 25", "06 30"]
    assert pty_simulator.journal.get(reservation.receipt_no).state == "released"


def test_open_preauthorisations_and_end_of_day(make_terminal, simulator: TerminalSimulator) -> None:
    with make_terminal(simulator) as terminal:
        terminal.register()
        assert terminal.open_preauthorisations() == []
        first = terminal.preauthorise(2000, "EUR", "A")
        second = terminal.preauthorise(3000, "EUR", "B")
        assert [o.receipt_no for o in terminal.open_preauthorisations()] == [1, 2]
        with pytest.raises(PaymentDeclined) as refused:
            terminal.end_of_day()
        assert refused.value.outcome is Outcome.PREAUTH_ERROR
        assert refused.value.result_code == 0xB8
        terminal.capture(first, 1500)
        terminal.capture(second, 2990)
        totals = terminal.end_of_day()
    assert totals.total_minor == 1500 + 2990
    assert totals.groups["eurocard"] == {"count": 2, "amount": 4490}
    assert simulator.received.count("06 50") == 2


def test_open_preauthorisations_without_tlv_names_one_at_a_time(
    make_terminal,
    pty_simulator: TerminalSimulator,
) -> None:
    pty_simulator.tlv = False
    with make_terminal(pty_simulator) as terminal:
        terminal.register()
        terminal.preauthorise(2000, "EUR", "A")
        terminal.preauthorise(2000, "EUR", "B")
        pending = terminal.open_preauthorisations()
        assert [o.receipt_no for o in pending] == [1]
        terminal.release(pending[0])
        assert [o.receipt_no for o in terminal.open_preauthorisations()] == [2]


DECLINES = [
    ("decline", Outcome.DECLINED, 0x05),
    ("insufficient_funds", Outcome.INSUFFICIENT_FUNDS, 0x33),
    ("card_unreadable", Outcome.CARD_UNREADABLE, 0x64),
    ("customer_abort", Outcome.CUSTOMER_ABORT_OR_TIMEOUT, 0x6C),
    ("no_card", Outcome.CUSTOMER_ABORT_OR_TIMEOUT, 0x6C),
    ("pin_error", Outcome.PIN_ERROR, 0x37),
]


@pytest.mark.parametrize(("scenario", "outcome", "code"), DECLINES)
def test_declining_scenarios(
    make_terminal, simulator: TerminalSimulator, scenario: str, outcome: Outcome, code: int
) -> None:
    with make_terminal(simulator) as terminal:
        terminal.register()
        simulator.push_scenario(scenario)
        with pytest.raises(PaymentDeclined) as declined:
            terminal.preauthorise(5000, "EUR", "TX-D")
        assert (declined.value.outcome, declined.value.result_code) == (outcome, code)
        assert declined.value.text
        # The terminal stays usable and nothing is held.
        assert terminal.preauthorise(5000, "EUR", "TX-OK").receipt_no == 1
    assert simulator.journal.open_reservations()[0].reference == "TX-OK"


@pytest.mark.parametrize(
    ("cents", "outcome"), [(91, Outcome.DECLINED), (93, Outcome.CARD_UNREADABLE)]
)
def test_amount_conventions_pick_the_scenario(
    make_terminal, tcp_simulator: TerminalSimulator, cents: int, outcome: Outcome
) -> None:
    with make_terminal(tcp_simulator) as terminal:
        terminal.register()
        with pytest.raises(PaymentDeclined) as declined:
            terminal.preauthorise(2000 + cents, "EUR", "TX-C")
    assert declined.value.outcome is outcome


def test_pin_retry_then_success(make_terminal, simulator: TerminalSimulator) -> None:
    updates: list = []
    with make_terminal(simulator, updates) as terminal:
        terminal.register()
        simulator.push_scenario("pin_retry")
        reservation = terminal.preauthorise(4000, "EUR", "TX-P")
    assert reservation.amount_minor == 4000
    keys = [u.key for u in updates]
    assert keys == ["insert_card", "enter_pin", "incorrect_pin", "enter_pin", "please_wait"]


def test_tlv_text_reaches_the_decline(make_terminal, tcp_simulator: TerminalSimulator) -> None:
    with make_terminal(tcp_simulator) as terminal:
        terminal.register()
        tcp_simulator.push_scenario("customer_abort")
        with pytest.raises(PaymentDeclined) as declined:
            terminal.preauthorise(5000, "EUR", "TX-T")
    assert declined.value.text == "Abbruch durch Kunde"
    assert declined.value.extended_code == "6c"


@pytest.mark.parametrize("receipts", ["lines", "block"])
def test_receipts_from_the_terminal(
    make_terminal, pty_simulator: TerminalSimulator, receipts: str
) -> None:
    pty_simulator.receipts = receipts
    with make_terminal(pty_simulator, receipts="print_lines") as terminal:
        terminal.register()
        reservation = terminal.preauthorise(5000, "EUR", "TX-R")
        result = terminal.capture(reservation, 4321)
    assert result.receipt_lines[:2] == ("** Kundenbeleg **", "Zahlung 43.21 EUR")
    assert len(result.receipt_lines) == 14


def test_without_tlv_the_reference_is_not_sent(
    make_terminal, tcp_simulator: TerminalSimulator
) -> None:
    with make_terminal(tcp_simulator, tlv=False) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(5000, "EUR", "TX-N")
    assert reservation.reference == "TX-N"
    assert tcp_simulator.journal.get(reservation.receipt_no).reference == ""


def test_log_off_and_repeat_receipt(make_terminal, simulator: TerminalSimulator) -> None:
    with make_terminal(simulator) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(5000, "EUR", "TX-L")
        repeated = terminal.repeat_receipt()
        terminal.log_off()
    assert repeated is not None and repeated.receipt_no == reservation.receipt_no
    assert repeated.reference == "TX-L"
    assert simulator.received[-2:] == ["06 20", "06 02"]


def test_demo_link_starts_an_in_process_simulator(make_terminal) -> None:
    assert simulator_for("/dev/ttyUSB0") is None
    sim = simulator_for("sim://", speed=0)
    assert sim is not None
    try:
        with make_terminal(sim) as terminal:
            assert terminal.register().terminal_id == "52523535"
    finally:
        sim.stop()


def test_concurrent_callers_are_serialised(tcp_simulator: TerminalSimulator, make_terminal) -> None:
    results: list = []
    with make_terminal(tcp_simulator) as terminal:
        terminal.register()
        workers = [
            threading.Thread(
                target=lambda n=n: results.append(terminal.preauthorise(1000, "EUR", f"T{n}"))
            )
            for n in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(5)
    assert sorted(r.receipt_no for r in results) == [1, 2, 3, 4]
    assert tcp_simulator.received.count("06 22") == 4


@pytest.fixture
def ser2net(pty_simulator: TerminalSimulator) -> Iterator[str]:
    """A raw TCP bridge to the simulator's serial device, as ser2net provides: `socket://`."""
    device = os.open(pty_simulator.device_path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(device)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def bridge() -> None:
        conn, _ = listener.accept()
        with conn:
            while not stop.is_set():
                ready, _, _ = select.select([conn, device], [], [], 0.05)
                if conn in ready:
                    data = conn.recv(4096)
                    if not data:
                        return
                    os.write(device, data)
                if device in ready:
                    conn.sendall(os.read(device, 4096))

    worker = threading.Thread(target=bridge, daemon=True)
    worker.start()
    yield f"socket://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    worker.join(2)
    listener.close()
    os.close(device)


def test_serial_framing_through_a_pyserial_socket_url(
    ser2net: str, pty_simulator: TerminalSimulator
) -> None:
    profile = TerminalProfile(timers=Timers(t2=0.5, t3=1.0, t4=3.0))
    with Terminal(ser2net, profile) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(4200, "EUR", "TX-S2N")
        terminal.capture(reservation, 4200)
    assert pty_simulator.journal.get(reservation.receipt_no).state == "captured"


def test_reversal_of_a_booked_capture(simulator: TerminalSimulator, make_terminal) -> None:
    with make_terminal(simulator) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(5000, "EUR", "TX-REV")
        terminal.capture(reservation, 2500)
        reversed_ = terminal.reversal(reservation.receipt_no)
        assert reversed_.command == "06 30" and reversed_.released_minor == 2500
        with pytest.raises(PaymentDeclined) as again:
            terminal.reversal(reservation.receipt_no)
        assert terminal.end_of_day().total_minor == 0
    assert again.value.result_code == 0xB4 and again.value.outcome is Outcome.NOT_POSSIBLE
    assert simulator.journal.get(reservation.receipt_no).state == "reversed"
