"""Find my session by presenting the same card again: Read Card (06 C0) on the real terminal
simulator, over the engine's worker and the kiosk's own views."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kiosk_app.charging.service import NoCardRead
from kiosk_app.charging.states import State
from kiosk_app.models.charging import ChargingTransaction

KIOSK = "/kiosk/kiosk-1"


def charging(stack) -> str:
    """A transaction paid with the simulator's default card, now charging."""
    reference = stack.service.select_evse("kiosk-1", "EVSE-1", "en")
    stack.service.pay(reference)
    stack.wait_state(reference, State.CHARGING)
    return reference


@pytest.mark.parametrize("terminal_link", ["tcp://127.0.0.1:0", "pty"])
def test_the_card_that_paid_finds_its_session(stack):
    reference = charging(stack)
    assert stack.service.find_by_presented_card("kiosk-1", 5) == reference
    assert stack.terminal.received[-1] == "06 C0"
    with stack.app.extensions["kiosk.db"].session() as session:
        stored = session.scalar(
            sa.select(ChargingTransaction.card_hash).where(
                ChargingTransaction.reference == reference
            )
        )
    assert stored and len(stored) == 64  # only the salted hash of the card reference


def test_another_card_finds_nothing_and_no_card_is_told_apart(stack):
    charging(stack)
    stack.terminal.present_card("visa")
    assert stack.service.find_by_presented_card("kiosk-1", 5) is None
    stack.terminal.present_card(None)
    with pytest.raises(NoCardRead):
        stack.service.find_by_presented_card("kiosk-1", 1)


def test_the_kiosk_find_screen_reads_the_card(stack):
    reference = charging(stack)
    client = stack.app.test_client()
    client.post(f"{KIOSK}/language", data={"language": "en", "next": f"{KIOSK}/find"})

    found = client.post(f"{KIOSK}/find/card")
    assert found.status_code == 303 and found.location == f"{KIOSK}/t/{reference}"
    assert client.get(found.location).status_code == 200

    stack.terminal.present_card("girocard")
    other = client.post(f"{KIOSK}/find/card")
    assert other.status_code == 404
    assert "No charging session was found for this card." in other.get_data(as_text=True)

    stack.terminal.present_card(None)
    unread = client.post(f"{KIOSK}/find/card")
    assert unread.status_code == 404
    page = unread.get_data(as_text=True)
    assert "The card terminal did not read a card." in page
    assert "No charging session was found" not in page


def test_the_session_is_found_again_after_it_finished(stack):
    reference = charging(stack)
    stack.wait_for(reference, lambda tx: tx.kwh > 0)
    stack.service.stop(reference)
    assert stack.settled(reference).state == State.RECEIPT_ISSUED
    assert stack.service.find_by_presented_card("kiosk-1", 5) == reference


def test_a_link_lost_during_the_read_is_no_card_read_and_the_next_read_works(stack):
    reference = charging(stack)
    stack.cutter.cut_on = bytes.fromhex("06c0")
    with pytest.raises(NoCardRead):
        stack.service.find_by_presented_card("kiosk-1", 5)
    assert stack.cutter.cuts == 1
    assert stack.service.find_by_presented_card("kiosk-1", 5) == reference
    assert stack.terminal.received[-2:] == ["06 00", "06 C0"]  # registered again first
