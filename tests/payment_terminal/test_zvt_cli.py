"""`kiosk zvt decode`, `kiosk terminal ...` and `kiosk terminal-sim` in a separate process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_app.cli import main
from payment_terminal.ecr import Terminal
from payment_terminal.protocol.codes import Outcome
from payment_terminal.protocol.doctable import markdown_tables
from payment_terminal.protocol.errors import PaymentDeclined
from payment_terminal.simulator import TerminalSimulator

KIOSK = str(Path(sys.executable).with_name("kiosk"))


def _kiosk(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_decode_status_information(capsys: pytest.CaptureFixture[str], vectors) -> None:
    code, out, _ = _kiosk(capsys, "zvt", "decode", vectors[22]["hex"])
    decoded = json.loads(out)
    assert code == 0
    assert decoded["command"] == "04 0F"
    assert decoded["name"] == "Status-Information"
    fields = decoded["fields"]
    assert fields["amount"] == 2500 and fields["currency_code"] == 978
    assert fields["receipt_no"] == 231 and fields["trace_no"] == 975
    assert fields["terminal_id"] == "52523535" and fields["pan"] == "559883eeeeee8074"
    assert fields["card_name"] == "MasterCard" and fields["aid"] == "750071"
    assert (fields["date"], fields["time"]) == ("04-05", "22:55:58")


def test_decode_frame_with_tlv(capsys: pytest.CaptureFixture[str]) -> None:
    apdu = "04ff140a010610240e070c5465737420842094208120e1"
    code, out, _ = _kiosk(capsys, "zvt", "decode", apdu)
    decoded = json.loads(out)
    assert decoded["fields"] == {"status": 0x0A, "timeout": 1}
    assert decoded["tlv"] == {"24": {"07": "Test ä ö ü ß"}}
    code, out, _ = _kiosk(
        capsys, "zvt", "decode", "10 02 06 01 0a 04 00 00 00 01 10 10 00 49 09 78 10 03 f2 fe"
    )
    assert code == 0
    assert json.loads(out)["frame"] == {"crc_ok": False}
    assert json.loads(out)["fields"]["amount"] == 11000


@pytest.mark.parametrize(
    ("hex_input", "message"),
    [
        ("061e0eb8061123090802012308024567", "malformed APDU: at offset 2: expected a length"),
        ("100206010a0400", "malformed frame: at offset 7: expected DLE ETX"),
        ("06 0g", "not hex: 'g' at hex digit 3"),
    ],
)
def test_decode_rejects_malformed_input(
    capsys: pytest.CaptureFixture[str], hex_input: str, message: str
) -> None:
    code, out, err = _kiosk(capsys, "zvt", "decode", hex_input)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and message in err


def test_terminal_commands_against_the_simulator(
    capsys: pytest.CaptureFixture[str], tcp_simulator: TerminalSimulator
) -> None:
    link = ["terminal", "--link", tcp_simulator.link_url]
    code, out, _ = _kiosk(capsys, *link, "preauth", "--amount", "25.00", "--reference", "R1")
    reservation = json.loads(out)
    assert code == 0 and reservation["amount_minor"] == 2500 and reservation["reference"] == "R1"
    code, out, _ = _kiosk(capsys, *link, "open-preauths")
    assert json.loads(out) == [{"receipt_no": 1, "currency": "EUR", "amount_minor": None}]
    capture = ["capture", "--receipt", "1", "--reserved", "25.00", "--amount", "9.99"]
    code, out, _ = _kiosk(capsys, *link, *capture)
    assert json.loads(out)["captured_minor"] == 999
    code, out, _ = _kiosk(capsys, *link, "end-of-day")
    assert json.loads(out)["total_minor"] == 999
    code, out, err = _kiosk(capsys, *link, "preauth", "--amount", "1.5x")
    assert code == 2 and "is not a decimal amount" in err
    code, out, err = _kiosk(capsys, *link, *capture[:-1], "NaN")
    assert code == 2 and _without_simulator(err) == [
        "kiosk terminal capture: error: Invalid value: 'NaN' is not an amount in EUR"
    ]
    code, out, err = _kiosk(capsys, *link, *capture[:-1], "30.00")
    assert code == 2 and "more than the reserved amount" in err
    code, out, err = _kiosk(capsys, *link, "preauth", "--amount", "20.91")
    assert code == 1 and "PaymentDeclined: declined (result code 0x05)" in err


def _without_simulator(err: str) -> list[str]:
    """The lines of stderr that are not the terminal simulator's: it runs in this process and
    logs its side of the link (a connection the previous command closed) at its own pace."""
    return [line for line in err.splitlines() if "payment_terminal.simulator" not in line]


@pytest.fixture
def sim_process() -> Iterator[dict]:
    process = subprocess.Popen(
        [KIOSK, "terminal-sim", "--link", "pty", "--speed", "0", "--control-port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        code = process.wait(10)
        process.stdout.close()
    assert code == 0


def test_simulator_process_outlives_the_ecr(sim_process: dict) -> None:
    control = sim_process["control"]
    request = urllib.request.Request(
        f"{control}/scenario",
        data=json.dumps({"name": "insufficient_funds"}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert json.load(answer) == {"queued": "insufficient_funds"}
    with Terminal(sim_process["link"]) as terminal:
        terminal.register()
        with pytest.raises(PaymentDeclined) as declined:
            terminal.preauthorise(5000, "EUR", "P-1")
        assert declined.value.outcome is Outcome.INSUFFICIENT_FUNDS
        held = terminal.preauthorise(5000, "EUR", "P-2")
    # A new ECR (as after a crash) finds the reservation and releases it.
    with Terminal(sim_process["link"]) as terminal:
        assert [o.receipt_no for o in terminal.open_preauthorisations()] == [held.receipt_no]
        terminal.release(held)
    with urllib.request.urlopen(f"{control}/journal", timeout=5) as answer:
        journal = json.load(answer)
    assert journal["open"] == []
    assert [e["state"] for e in journal["entries"]] == ["released"]
    assert journal["entries"][0]["masked_pan"] == "************8074"


def test_control_port_rejects_unknown_scenarios(sim_process: dict) -> None:
    request = urllib.request.Request(
        f"{sim_process['control']}/scenario", data=b'{"name": "nope"}', method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(request, timeout=5)
    assert failed.value.code == 400
    failed.value.close()


def test_docs_carry_the_current_tables() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "zvt.md").read_text()
    assert doc.endswith(markdown_tables())


def test_read_card_command(capsys: pytest.CaptureFixture[str], tcp_simulator) -> None:
    link = ["terminal", "--link", tcp_simulator.link_url]
    code, out, _ = _kiosk(capsys, *link, "preauth", "--amount", "25.00")
    paid = json.loads(out)["card_reference"]
    code, out, _ = _kiosk(capsys, *link, "read-card", "--timeout", "5")
    card = json.loads(out)["card"]
    assert code == 0 and card["card_reference"] == paid
    assert (card["card_brand"], card["masked_pan"]) == ("Mastercard", "************8074")
    tcp_simulator.present_card(None)
    code, out, err = _kiosk(capsys, *link, "read-card")
    assert code == 0 and json.loads(out) == {"card": None} and "insert_card" in err
    code, out, err = _kiosk(capsys, *link, "read-card", "--timeout", "0")
    assert code == 2 and "--timeout" in err
