"""The sans-IO ECR state machine: answers, timers and refusals, without any I/O."""

from __future__ import annotations

import pytest

from payment_terminal.protocol.commands import command
from payment_terminal.protocol.connection import (
    ACK_APDU,
    Aborted,
    Accepted,
    Completed,
    EcrConnection,
    IntermediateStatus,
    PrintLine,
    Refused,
    StatusInformation,
)
from payment_terminal.protocol.errors import ProtocolError
from payment_terminal.protocol.timers import Timers

TIMERS = Timers(t3=5.0, t4=180.0)


def _started(code: int = 0x0622) -> EcrConnection:
    connection = EcrConnection(TIMERS)
    connection.start(command(code, amount=2500, currency_code=978))
    return connection


def test_t3_then_t4_restarted_and_reset_by_the_timeout_byte() -> None:
    connection = _started()
    assert (connection.timeout, connection.timer_epoch) == (5.0, 1)
    assert connection.receive(bytes.fromhex("800000")) == [Accepted()]
    assert (connection.timeout, connection.timer_epoch) == (180.0, 2)
    assert connection.outgoing == []
    events = connection.receive(bytes.fromhex("04ff0117"))
    assert events == [IntermediateStatus(0x17, "", None)]
    assert (connection.timeout, connection.timer_epoch) == (180.0, 3)
    # 04 FF with timeout byte 0x05 (BCD minutes) sets T4 to 5 minutes.
    connection.receive(bytes.fromhex("04ff020a05"))
    assert connection.timeout == 300.0
    assert connection.outgoing == [ACK_APDU, ACK_APDU]


def test_full_dialogue_acknowledges_every_pt_message(vectors: list[dict]) -> None:
    connection = _started()
    connection.receive(bytes.fromhex("800000"))
    status = connection.receive(bytes.fromhex(vectors[22]["hex"]))
    assert isinstance(status[0], StatusInformation)
    assert status[0].message.fields["receipt_no"] == 231
    assert connection.receive(bytes.fromhex("06d1064048616c6c6f"))[0] == PrintLine(0x40, "Hallo")
    done = connection.receive(bytes.fromhex("060f00"))
    assert isinstance(done[0], Completed) and connection.done
    assert connection.outgoing == [ACK_APDU] * 3


def test_refusal_and_pt_abort() -> None:
    connection = _started()
    assert connection.receive(bytes.fromhex("849a00")) == [Refused(0x9A)]
    assert connection.done
    connection = _started()
    connection.receive(bytes.fromhex("800000"))
    events = connection.receive(bytes.fromhex("061e0164"))
    assert isinstance(events[0], Aborted) and events[0].message.fields["result_code"] == 0x64


def test_single_answer_commands_end_with_the_acknowledgement() -> None:
    connection = EcrConnection(TIMERS)
    connection.start(command(0x0602))
    assert connection.receive(bytes.fromhex("800000")) == [Accepted()]
    assert connection.done


def test_unknown_pt_command_is_answered_not_possible() -> None:
    connection = _started()
    connection.receive(bytes.fromhex("800000"))
    assert connection.receive(bytes.fromhex("06d800")) == []
    assert connection.outgoing == [bytes.fromhex("848300")]


def test_answer_after_completion_is_a_protocol_error() -> None:
    connection = _started()
    connection.receive(bytes.fromhex("800000"))
    connection.receive(bytes.fromhex("060f00"))
    with pytest.raises(ProtocolError, match="no message while no command runs"):
        connection.receive(bytes.fromhex("04ff0117"))


def test_abort_absorbs_the_pt_acknowledgement() -> None:
    connection = _started()
    connection.receive(bytes.fromhex("800000"))
    assert connection.abort() == bytes.fromhex("06b000")
    assert connection.receive(bytes.fromhex("800000")) == []
    assert isinstance(connection.receive(bytes.fromhex("061e016c"))[0], Aborted)
