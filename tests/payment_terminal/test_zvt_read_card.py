"""Read Card (06 C0): the vectors, the card reference across 06 22 and 06 C0, and the full
exchange with the simulator over a real pty pair and loopback TCP."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from payment_terminal.protocol.commands import command, decode_message, encode_message
from payment_terminal.protocol.errors import PaymentDeclined
from payment_terminal.protocol.timers import Timers
from payment_terminal.protocol.tlv import Tlv
from payment_terminal.records import card_brand, card_reference, masked_pan, visible_pan
from payment_terminal.simulator import TerminalSimulator
from payment_terminal.simulator.control import ControlServer

KEY = b"salt"


def _vector(vectors: list[dict], name_start: str) -> bytes:
    (found,) = [v for v in vectors if v["name"].startswith(name_start)]
    return bytes.fromhex(found["hex"])


# --- the messages -----------------------------------------------------------------------------


def test_feig_read_card_round_trips(vectors) -> None:
    raw = _vector(vectors, "Feig Read Card 06 C0")
    message = decode_message(raw)
    assert message.code == 0x06C0 and message.name == "Read Card"
    fields = message.fields
    assert (fields["timeout"], fields["payment_type"], fields["dialog_control"]) == (15, 0x10, 2)
    tlv = fields["tlv"]
    assert (tlv.get(0x1F15), tlv.get(0x1F60)) == (b"\xd0", b"\x07")
    rebuilt = command(
        0x06C0,
        timeout=15,
        payment_type=0x10,
        dialog_control=0x02,
        tlv=Tlv.of((0x1F15, b"\xd0"), (0x1F60, b"\x07")),
    )
    assert encode_message(rebuilt) == raw


def test_our_read_card_is_the_bare_spec_form() -> None:
    assert encode_message(command(0x06C0, timeout=30)) == bytes.fromhex("06c0011e")


def test_feig_read_card_answer_gives_brand_masked_pan_and_a_reference(vectors) -> None:
    fields = decode_message(_vector(vectors, "Feig Status-Information after Read Card with")).fields
    assert fields["result_code"] == 0 and "pan" not in fields and "card_type" not in fields
    assert visible_pan(fields) == "6725904411001000142"
    assert masked_pan(visible_pan(fields)) == "***************0142"
    assert card_brand(fields) == "girocard"  # first application listed (TLV 62/60/43)
    assert len(card_reference(fields, KEY)) == 32


def test_read_card_and_pre_authorisation_of_one_card_give_one_reference(vectors) -> None:
    """Feig sends card type, sequence number and name after 06 22 but only track 2 and 1F14
    after 06 C0: the reference rests on what both carry, BIN and last 4 digits."""
    reservation = decode_message(
        _vector(vectors, "Feig Status-Information after Reservation (Mastercard")
    )
    pan = reservation.fields["pan"]
    read = {"result_code": 0, "track2": f"{pan}d2405eeeeeee", "tlv": Tlv.of((0x1F14, b"\x01" * 16))}
    assert card_reference(read, KEY) == card_reference(reservation.fields, KEY)
    assert card_reference(read, KEY) != card_reference(reservation.fields, b"other salt")


@pytest.mark.parametrize(
    ("pan", "differs"),
    [("559883eeeeee8075", "last 4"), ("559884eeeeee8074", "BIN"), ("eeeeeeeeeeee8074", "no BIN")],
)
def test_other_cards_give_other_references(pan: str, differs: str) -> None:
    assert card_reference({"pan": pan}, KEY) != card_reference({"pan": "559883eeeeee8074"}, KEY)


def test_without_pan_digits_the_card_identifier_decides() -> None:
    first = {"tlv": Tlv.of((0x1F14, bytes(range(16))))}
    again = {"track2": "eeeeeeeeeeeeeeee", "tlv": Tlv.of((0x1F14, bytes(range(16))))}
    other = {"tlv": Tlv.of((0x1F14, bytes(range(1, 17))))}
    assert card_reference(first, KEY) == card_reference(again, KEY)
    assert card_reference(first, KEY) != card_reference(other, KEY)


def test_a_card_with_nothing_to_recognise_it_by_has_no_reference(vectors) -> None:
    fields = decode_message(_vector(vectors, "Feig Status-Information after Read Card (")).fields
    assert card_reference(fields, KEY) == ""  # UID only: contactless UIDs change per tap
    assert card_brand(fields) == "Mastercard"


# --- against the simulator ----------------------------------------------------------------------


def test_read_card_finds_the_card_that_paid(make_terminal, simulator: TerminalSimulator) -> None:
    with make_terminal(simulator, card_reference_key=KEY) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(2500, "EUR", "TX-RC1")
        card = terminal.read_card(30)
    assert simulator.received[-1] == "06 C0"
    assert card is not None
    assert (card.card_brand, card.masked_pan) == ("Mastercard", "************8074")
    assert card.card_reference == reservation.card_reference != ""


def test_another_card_reads_as_another_reference(
    make_terminal, simulator: TerminalSimulator
) -> None:
    with make_terminal(simulator, card_reference_key=KEY) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(2500, "EUR", "TX-RC2")
        simulator.present_card("visa")
        card = terminal.read_card(30)
    assert card is not None and card.card_brand == "Visa" and card.masked_pan.endswith("4417")
    assert card.card_reference != reservation.card_reference


def test_no_card_presented_reads_as_none(make_terminal, simulator: TerminalSimulator) -> None:
    simulator.present_card(None)
    with make_terminal(simulator) as terminal:
        terminal.register()
        assert terminal.read_card(5) is None
        with pytest.raises(PaymentDeclined) as declined:
            terminal.preauthorise(2500, "EUR", "TX-RC3")  # nobody there to pay either
    assert declined.value.result_code == 0x6C


def test_without_tlv_the_track_2_still_matches(make_terminal, tcp_simulator) -> None:
    with make_terminal(tcp_simulator, tlv=False, card_reference_key=KEY) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(2500, "EUR", "TX-RC4")
        card = terminal.read_card(30)
    assert card is not None and card.card_reference == reservation.card_reference
    assert card.card_brand == ""  # without TLV the PT names no application


def test_a_girocard_reads_like_feig_sends_it(make_terminal, pty_simulator) -> None:
    pty_simulator.present_card("girocard")
    with make_terminal(pty_simulator, card_reference_key=KEY) as terminal:
        terminal.register()
        reservation = terminal.preauthorise(2500, "EUR", "TX-RC5")
        card = terminal.read_card(30)
    assert reservation.card_brand == "girocard" and reservation.masked_pan.endswith("0142")
    assert card is not None and card.card_brand == "girocard"
    assert card.card_reference == reservation.card_reference


def test_abort_ends_a_card_wait_with_none(make_terminal) -> None:
    sim = TerminalSimulator("tcp://127.0.0.1:0", speed=1.0, timers=Timers(t3=1.0))
    sim.present_card(None)
    with sim, make_terminal(sim) as terminal:
        terminal.register()

        def abort_once_waiting() -> None:
            while "06 C0" not in sim.received:
                time.sleep(0.01)
            terminal.abort()

        aborter = threading.Thread(target=abort_once_waiting)
        aborter.start()
        card = terminal.read_card(60)
        aborter.join()
    assert card is None
    assert sim.received[-2:] == ["06 C0", "06 B0"]


@pytest.mark.parametrize(
    ("timeout", "error"), [(0, ValueError), (256, ValueError), (1.5, TypeError)]
)
def test_read_card_timeout_must_fit_its_byte(make_terminal, tcp_simulator, timeout, error) -> None:
    with make_terminal(tcp_simulator) as terminal, pytest.raises(error, match="timeout_s"):
        terminal.read_card(timeout)
    assert "06 C0" not in tcp_simulator.received


# --- the control port ---------------------------------------------------------------------------


def _post(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_control_port_chooses_the_presented_card(tcp_simulator) -> None:
    control = ControlServer(tcp_simulator)
    control.start()
    try:
        assert _post(f"{control.url}/card", {"card": "visa"}) == (200, {"card": "visa"})
        assert tcp_simulator.card is not None and tcp_simulator.card.brand == "Visa"
        assert _post(f"{control.url}/card", {"card": None}) == (200, {"card": None})
        assert tcp_simulator.card is None
        status, answer = _post(f"{control.url}/card", {"card": "amex-gold"})
        assert status == 400 and "unknown card 'amex-gold'" in answer["error"]
        status, answer = _post(f"{control.url}/card", {"name": "visa"})
        assert status == 400 and "'card'" in answer["error"]
        status, answer = _post(f"{control.url}/card", ["visa"])
        assert status == 400 and "JSON object" in answer["error"]
    finally:
        control.stop()
