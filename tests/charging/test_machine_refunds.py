"""Credit CDRs and refunds in the machine: a credit before the capture lowers it, after the
capture it becomes a refund due; refunds recorded by operators never exceed what was captured."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk_app.charging import effects as fx
from kiosk_app.charging import events as ev
from kiosk_app.charging.machine import InvariantViolation, check_invariants, transition
from kiosk_app.charging.states import Refund, RefundPayment, State, TimerKind

from .factories import CHARGED, HOLD, T0, cdr, fire, new_tx, run


def credit(amount: int, cdr_id: str = "CR-1", original: str = "CDR-1") -> ev.CdrReceived:
    return ev.CdrReceived(cdr_id, -amount, credit=True, credit_reference_id=original)


def settled(*events: ev.Event):  # type: ignore[no-untyped-def]
    """Captured 1234 and the receipt issued, then `events`."""
    return run(
        new_tx(),
        *CHARGED,
        ev.Captured(1234),
        ev.ReceiptIssued("K1-1", "https://r/1", 1234),
        *events,
    )


def test_a_credit_after_the_capture_makes_a_refund_due_linked_to_it() -> None:
    tx = settled(credit(234))
    assert tx.refunds == (Refund("CR-1", 234),)
    assert (tx.refund_due_minor, tx.refunded_minor, tx.captured_minor) == (234, 0, 1234)
    assert tx.credits[0].original_cdr_id == tx.cdr_id == "CDR-1" and tx.credits[0].settled
    assert {"credit_cdr", "refund_due"} <= set(tx.review_flags)
    assert tx.state == State.RECEIPT_ISSUED  # the money of the sale is unchanged


def test_a_repeated_credit_cdr_creates_no_second_refund() -> None:
    tx = settled(credit(234), credit(234))
    assert tx.refunds == (Refund("CR-1", 234),) and len(tx.credits) == 1


def test_refunds_due_never_exceed_what_was_captured() -> None:
    tx = settled(credit(1000), credit(1000, "CR-2"), credit(50, "CR-3"))
    assert tx.refunds == (Refund("CR-1", 1000), Refund("CR-2", 234))
    assert tx.refund_owed_minor == tx.captured_minor
    assert all(c.settled for c in tx.credits)  # CR-3 found nothing left to give back


def test_a_credit_for_another_cdr_is_flagged_and_owes_nothing() -> None:
    tx = settled(credit(234, original="SOMEONE-ELSE"))
    assert tx.refunds == () and tx.credits == () and "credit_unlinked" in tx.review_flags


def test_a_credit_while_the_capture_is_under_way_becomes_a_refund_once_captured() -> None:
    tx = run(new_tx(), *CHARGED, credit(234))
    assert tx.state == State.CAPTURING and tx.capture_amount_minor == 1234
    assert tx.refunds == () and not tx.credits[0].settled
    tx, effects = transition(tx, ev.Captured(1234), T0)
    assert tx.captured_minor == 1234 and tx.refunds == (Refund("CR-1", 234),)
    assert fx.IssueReceipt("TX-1", 1234) in effects


def test_a_credit_before_the_capture_lowers_the_amount_to_capture() -> None:
    tx = run(new_tx(), *CHARGED, ev.CaptureFailed(0x66), credit(234))
    assert tx.state == State.CAPTURE_FAILED and tx.capture_amount_minor == 1000
    assert tx.credits[0].deducted_minor == 234 and tx.refunds == ()
    tx, effects = transition(tx, fire(tx, TimerKind.TERMINAL_RETRY), T0)
    assert fx.Capture("TX-1", 17, HOLD, 1000) in effects
    tx = run(tx, ev.Captured(1000))
    assert (tx.captured_minor, tx.released_minor, tx.refunds) == (1000, HOLD - 1000, ())


def test_a_full_credit_before_the_capture_releases_the_hold() -> None:
    tx, effects = transition(run(new_tx(), *CHARGED, ev.CaptureFailed(0x66)), credit(1234), T0)
    assert (tx.state, tx.failure) == (State.RELEASING, "nothing_to_charge")
    assert fx.Release("TX-1", 17, HOLD) in effects
    tx = run(tx, ev.Released())
    assert (tx.state, tx.captured_minor, tx.refunds) == (State.RELEASED, 0, ())


def test_a_credit_while_the_capture_outcome_is_unknown_waits_for_it() -> None:
    tx = run(new_tx(), *CHARGED, ev.TerminalUncertain("timeout"), credit(234))
    assert tx.uncertain and tx.capture_amount_minor == 1234 and not tx.credits[0].settled
    tx = run(tx, fire(tx, TimerKind.TERMINAL_RETRY), ev.HoldChecked(None))  # it went through
    assert tx.captured_minor == 1234 and tx.refunds == (Refund("CR-1", 234),)


def test_recording_a_refund_books_it_and_asks_for_the_credit_note() -> None:
    tx = settled(credit(234))
    tx, effects = transition(tx, ev.OperatorRecordRefund("olga", 200, " ACQ-1 "), T0)
    assert tx.refund_payments == (RefundPayment(200, "ACQ-1", "olga", T0),)
    assert (tx.refunded_minor, tx.refund_due_minor) == (200, 34)
    assert effects == [fx.IssueCreditNote("TX-1", 0, 200)]
    tx, _ = transition(tx, ev.CreditNoteIssued(0, "K1-2"), T0)
    assert tx.refund_payments[0].credit_note_number == "K1-2"
    tx, effects = transition(tx, ev.OperatorRecordRefund("olga", 34, "ACQ-2"), T0)
    assert tx.refund_due_minor == 0 and effects == [fx.IssueCreditNote("TX-1", 1, 34)]


def test_a_failed_credit_note_is_flagged_and_retried_before_the_next_one() -> None:
    tx = settled(credit(234), ev.OperatorRecordRefund("olga", 100, "ACQ-1"))
    tx, effects = transition(tx, ev.CreditNoteFailed(0, "OSError: disk full"), T0)
    assert (
        "credit_note_failed" in tx.review_flags
        and fx.FlagForReview("credit_note_failed") in effects
    )
    assert tx.timer_due(TimerKind.CREDIT_NOTE_RETRY) is not None
    # A second refund waits: credit notes are numbered in the order of the refunds.
    tx, effects = transition(tx, ev.OperatorRecordRefund("olga", 134, "ACQ-2"), T0)
    assert not [e for e in effects if isinstance(e, fx.IssueCreditNote)]
    tx, effects = transition(tx, fire(tx, TimerKind.CREDIT_NOTE_RETRY), T0)
    assert [e for e in effects if isinstance(e, fx.IssueCreditNote)] == [
        fx.IssueCreditNote("TX-1", 0, 100)
    ]
    tx, effects = transition(tx, ev.CreditNoteIssued(0, "K1-2"), T0)
    assert effects[-1] == fx.IssueCreditNote("TX-1", 1, 134)  # then the next one
    assert tx.timer_due(TimerKind.CREDIT_NOTE_RETRY) is None
    tx, _ = transition(tx, ev.CreditNoteIssued(1, "K1-3"), T0)
    assert [p.credit_note_number for p in tx.refund_payments] == ["K1-2", "K1-3"]


def test_a_credit_note_answer_out_of_order_is_ignored() -> None:
    tx = settled(credit(234), ev.OperatorRecordRefund("olga", 100, "ACQ-1"))
    tx, effects = transition(tx, ev.CreditNoteIssued(1, "K1-9"), T0)
    assert tx.refund_payments[0].credit_note_number is None and effects == []
    tx, effects = transition(tx, ev.CreditNoteFailed(1, "late"), T0)
    assert "credit_note_failed" not in tx.review_flags and effects == []


@pytest.mark.parametrize(
    "amount, reference",
    [(235, "ACQ-1"), (0, "ACQ-1"), (-5, "ACQ-1"), (100, "  "), (100, "ACQ-0")],
)
def test_a_refund_beyond_the_due_or_without_a_new_reference_is_ignored(amount, reference) -> None:  # type: ignore[no-untyped-def]
    tx = settled(credit(334), ev.OperatorRecordRefund("olga", 100, "ACQ-0"))
    after, effects = transition(tx, ev.OperatorRecordRefund("olga", amount, reference), T0)
    assert (after.refund_payments, effects) == (tx.refund_payments, [])


def test_nothing_is_refunded_without_a_refund_due() -> None:
    tx = settled()
    after, effects = transition(tx, ev.OperatorRecordRefund("olga", 1, "ACQ-1"), T0)
    assert after == tx and effects == []


def test_the_invariants_reject_refunds_beyond_the_capture_or_unlinked() -> None:
    tx = settled(credit(234))
    for broken in (
        dataclasses.replace(tx, refunds=(Refund("CR-1", 2000),)),
        dataclasses.replace(tx, refunds=(Refund("CR-9", 10),)),
        dataclasses.replace(tx, refunds=(Refund("CR-1", 10), Refund("CR-1", 10))),
        dataclasses.replace(tx, refund_payments=(RefundPayment(300, "A", "olga", T0),)),
    ):
        with pytest.raises(InvariantViolation):
            check_invariants(broken)


def test_a_credit_on_a_capture_capped_at_the_hold_gives_back_only_the_overpayment() -> None:
    # The CDR says 60.00 but only the 50.00 hold could be captured; a credit of 30.00 lowers the
    # price to 30.00, so the driver paid 20.00 too much, not 30.00.
    over = cdr(total=HOLD + 1000, ours=HOLD + 1000)
    tx = run(new_tx(), *CHARGED[:-1], over, ev.Captured(HOLD))
    assert tx.captured_minor == HOLD and "amount_exceeds_hold" in tx.review_flags
    tx = run(tx, credit(3000))
    assert tx.refund_due_minor == 2000
    tx = run(tx, credit(5000, cdr_id="CR-2"))  # credited in all more than the price
    assert tx.refund_due_minor == HOLD
