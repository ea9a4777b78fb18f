"""Timers, transport faults and aborts, over real ptys and sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from payment_terminal.ecr import Terminal
from payment_terminal.profile import TerminalProfile
from payment_terminal.protocol.codes import Outcome
from payment_terminal.protocol.errors import (
    PaymentDeclined,
    ProtocolError,
    TerminalTimeout,
    TransmissionError,
)
from payment_terminal.protocol.framing import frame
from payment_terminal.protocol.timers import Timers
from payment_terminal.simulator import TerminalSimulator
from payment_terminal.transport.ports import PtyPort


def test_corrupted_crc_is_answered_with_nak_and_repeated(
    pty_simulator: TerminalSimulator, make_terminal
) -> None:
    with make_terminal(pty_simulator) as terminal:
        terminal.register()
        pty_simulator.push_scenario("corrupt_crc")
        reservation = terminal.preauthorise(5000, "EUR", "TX-CRC")
    assert reservation.receipt_no == 1
    assert pty_simulator.link.repeats == 1


@pytest.mark.parametrize(("scenario", "least"), [("missing_ack", 0.5), ("slow_ack", 0.25)])
def test_missing_or_slow_ack(
    pty_simulator: TerminalSimulator, make_terminal, scenario: str, least: float
) -> None:
    with make_terminal(pty_simulator) as terminal:
        terminal.register()
        pty_simulator.push_scenario(scenario)
        started = time.monotonic()
        reservation = terminal.preauthorise(5000, "EUR", "TX-ACK")
        elapsed = time.monotonic() - started
    assert reservation.receipt_no == 1
    assert least <= elapsed < 4.0
    assert pty_simulator.received.count("06 22") == 1


def test_disconnect_mid_transaction_on_tcp_then_reconnect(
    tcp_simulator: TerminalSimulator, make_terminal
) -> None:
    with make_terminal(tcp_simulator) as terminal:
        terminal.register()
        tcp_simulator.push_scenario("disconnect")
        with pytest.raises(TransmissionError, match="closed"):
            terminal.preauthorise(5000, "EUR", "TX-X")
        assert terminal.open_preauthorisations() == []
        assert terminal.preauthorise(5000, "EUR", "TX-Y").reference == "TX-Y"


def test_silent_terminal_on_serial_hits_t4(pty_simulator: TerminalSimulator) -> None:
    profile = TerminalProfile(timers=Timers(t2=0.5, t3=1.0, t4=0.4), tlv=False)
    with Terminal(pty_simulator.link_url, profile) as terminal:
        terminal.register()
        pty_simulator.push_scenario("disconnect")
        started = time.monotonic()
        with pytest.raises(TerminalTimeout, match=r"06 22 within 0\.4 s"):
            terminal.preauthorise(5000, "EUR", "TX-S")
    assert 0.4 <= time.monotonic() - started < 3.0


def test_lost_status_information_is_recovered(
    tcp_simulator: TerminalSimulator, make_terminal
) -> None:
    with make_terminal(tcp_simulator) as terminal:
        terminal.register()
        tcp_simulator.push_scenario("lost_status_information")
        with pytest.raises(TransmissionError):
            terminal.preauthorise(5000, "EUR", "TX-LOST")
        pending = terminal.open_preauthorisations()
        repeated = terminal.repeat_receipt()
        assert [p.receipt_no for p in pending] == [1]
        assert repeated is not None and repeated.reference == "TX-LOST"
        terminal.release(repeated)
    assert tcp_simulator.journal.open_reservations() == []


def test_abort_from_another_thread(make_terminal) -> None:
    with TerminalSimulator("pty", speed=0.2) as sim, make_terminal(sim) as terminal:
        terminal.register()
        sim.push_scenario("no_card")
        asked = threading.Event()
        terminal.on_status = lambda update: asked.set()
        outcome: list = []

        def pay() -> None:
            try:
                terminal.preauthorise(5000, "EUR", "TX-A")
            except PaymentDeclined as exc:
                outcome.append(exc)

        worker = threading.Thread(target=pay)
        started = time.monotonic()
        worker.start()
        assert asked.wait(2)
        terminal.abort()
        worker.join(3)
        assert time.monotonic() - started < 4.0  # well before the 6 s card wait ends
        assert outcome and outcome[0].outcome is Outcome.CUSTOMER_ABORT_OR_TIMEOUT
        assert sim.received[-1] == "06 B0"
        terminal.abort()  # idle abort: a bare 06 B0 answered with 80 00
        assert sim.received[-1] == "06 B0"


def test_intermediate_status_restarts_t4() -> None:
    # Dialogue of 0.5 + 0.75 + 0.5 s against a T4 of 1.2 s: only restarts let it finish.
    profile = TerminalProfile(timers=Timers(t2=0.5, t3=1.0, t4=1.2), tlv=False)
    with TerminalSimulator("pty", speed=0.5) as sim, Terminal(sim.link_url, profile) as terminal:
        terminal.register()
        started = time.monotonic()
        terminal.preauthorise(5000, "EUR", "TX-T4")
        assert time.monotonic() - started > 1.5


@pytest.fixture
def peer() -> Iterator[socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))
    yield listener
    listener.close()


def _serve(listener: socket.socket, chunks: list[bytes]) -> threading.Thread:
    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(1024)
            for chunk in chunks:
                conn.sendall(chunk)
                time.sleep(0.002)
            conn.recv(1024)
            time.sleep(0.3)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _url(listener: socket.socket) -> str:
    return f"tcp://127.0.0.1:{listener.getsockname()[1]}"


def test_t3_expires_against_a_silent_tcp_peer(peer: socket.socket) -> None:
    _serve(peer, [])
    profile = TerminalProfile(timers=Timers(t3=0.3))
    with Terminal(_url(peer), profile) as terminal:
        started = time.monotonic()
        with pytest.raises(TerminalTimeout, match=r"within 0\.3 s"):
            terminal.status_enquiry()
    assert 0.3 <= time.monotonic() - started < 3.0


def test_tcp_segmentation_one_byte_at_a_time(peer: socket.socket) -> None:
    answer = bytes.fromhex("800000") + bytes.fromhex("060f0ff0f1f153494d2d5a565420312e3000")
    _serve(peer, [answer[i : i + 1] for i in range(len(answer))])
    with Terminal(_url(peer), TerminalProfile(timers=Timers(t3=1.0))) as terminal:
        assert terminal.status_enquiry().sw_version == "SIM-ZVT 1.0"


def test_inconsistent_apdu_from_the_terminal_is_a_protocol_error(vectors: list[dict]) -> None:
    # Vector 63 (length byte 68, 37 data bytes) in a frame with a good CRC: only the APDU
    # length check can catch it, and it must, naming the offset.
    port = PtyPort()
    port.open()
    try:
        with Terminal(port.device_path, TerminalProfile(timers=Timers(t3=1.0))) as terminal:

            def fake_terminal() -> None:
                port.read(1.0)
                bad = frame(bytes.fromhex(vectors[63]["hex"]))
                port.write(b"\x06" + frame(bytes.fromhex("800000")) + bad)

            threading.Thread(target=fake_terminal, daemon=True).start()
            with pytest.raises(ProtocolError) as caught:
                terminal.preauthorise(1200, "EUR", "")
        assert str(caught.value) == (
            "at offset 2: expected a length field matching the data (37 bytes), found length 68"
        )
    finally:
        port.close()


def test_no_ack_on_serial_is_a_transmission_error() -> None:
    port = PtyPort()
    port.open()
    try:
        profile = TerminalProfile(timers=Timers(t2=0.2, repeats=2))
        with Terminal(port.device_path, profile) as terminal:
            started = time.monotonic()
            with pytest.raises(TransmissionError, match="after 2 repeats"):
                terminal.status_enquiry()
        assert 0.6 <= time.monotonic() - started < 3.0
        frames = port.read(0.1)
        assert frames.count(bytes.fromhex("1002")) == 3
    finally:
        port.close()


def test_stalled_frame_is_naked_after_t1_and_the_repeat_accepted() -> None:
    port = PtyPort()
    port.open()
    completion = frame(bytes.fromhex("060f0ff0f1f153494d2d5a565420312e3000"))
    seen: list[bytes] = []

    def fake_terminal() -> None:
        port.read(1.0)  # the Status-Enquiry
        port.write(b"\x06" + frame(bytes.fromhex("800000")))
        port.write(completion[:6])
        time.sleep(0.4)  # longer than T1: the ECR drops the fragment and NAKs
        seen.append(port.read(0.5))
        port.write(completion)
        # Link ACK, then the ECR's 80 00 00 frame: two writes, read until both arrived.
        expected = 1 + len(frame(bytes.fromhex("800000")))
        answer, deadline = b"", time.monotonic() + 1.0
        while len(answer) < expected and time.monotonic() < deadline:
            answer += port.read(deadline - time.monotonic())
        seen.append(answer)
        port.write(b"\x06")

    helper = threading.Thread(target=fake_terminal, daemon=True)
    try:
        profile = TerminalProfile(timers=Timers(t1=0.2, t3=2.0, t4=2.0))
        with Terminal(port.device_path, profile) as terminal:
            helper.start()
            assert terminal.status_enquiry().sw_version == "SIM-ZVT 1.0"
        helper.join(2)
        assert seen[0] == b"\x06\x15"  # ACK for the PT's 80 00 00, NAK for the fragment
        assert seen[1] == b"\x06" + frame(bytes.fromhex("800000"))
    finally:
        port.close()
