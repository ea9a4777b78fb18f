"""Named scenarios of the machine: the late, repeated and out-of-order events of issue 6."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from kiosk_app.charging import effects as fx
from kiosk_app.charging import events as ev
from kiosk_app.charging.machine import transition
from kiosk_app.charging.states import Policy, State, TimerKind

from .factories import ACCEPTED, CHARGED, HOLD, START, T0, cdr, fire, new_tx, reservation, run
from .factories import session as sess

ACTIVE, COMPLETED = ev.SessionStatus.ACTIVE, ev.SessionStatus.COMPLETED
RESPONSE_OK = ev.CommandResponded(ev.Command.START_SESSION, ev.CommandResult.ACCEPTED, 30)


def kinds(effects: list[fx.Effect]) -> list[str]:
    return [type(e).__name__ for e in effects]


def test_happy_path_captures_the_cdr_total_and_issues_the_receipt() -> None:
    tx = run(new_tx(), *CHARGED)
    assert tx.state == State.CAPTURING and tx.cross_check == "match"
    tx, effects = transition(tx, ev.Captured(1234), T0)
    assert tx.state == State.CAPTURED
    assert (tx.captured_minor, tx.released_minor) == (1234, HOLD - 1234)
    assert fx.IssueReceipt("TX-1", 1234) in effects
    tx, _ = transition(tx, ev.ReceiptIssued("K1-1", "https://r/1", 1234), T0)
    assert tx.state == State.RECEIPT_ISSUED and tx.receipt_link == "https://r/1"


def test_double_pay_starts_one_payment() -> None:
    tx, first = transition(new_tx(), ev.Pay(), T0)
    tx2, second = transition(tx, ev.Pay(), T0)
    assert kinds(first).count("Preauthorise") == 1 and second == [] and tx2 == tx


def test_command_result_after_the_timeout_is_ignored_and_a_late_session_is_stopped() -> None:
    tx = run(new_tx(), *START, RESPONSE_OK)
    tx, effects = transition(tx, fire(tx, TimerKind.COMMAND_RESULT), T0 + timedelta(minutes=2))
    assert tx.state == State.RELEASING and tx.failure == "start_timeout"
    assert fx.Release("TX-1", 17, HOLD) in effects
    late = ev.CommandResultReceived(ev.Command.START_SESSION, ev.CommandResult.ACCEPTED)
    assert transition(tx, late, T0)[1] == []
    tx = run(tx, ev.Released())
    tx, effects = transition(tx, sess(ACTIVE), T0)
    assert fx.StopSession("S-1", "TX-1") in effects
    assert tx.state == State.RELEASED and "session_after_release" in tx.review_flags


def test_session_push_before_the_command_result() -> None:
    tx = run(new_tx(), *START)  # not even the CommandResponse yet
    tx, effects = transition(tx, sess(ACTIVE, cost=100), T0)
    assert tx.state == State.CHARGING and "ScheduleTimer" in kinds(effects)
    assert run(tx, RESPONSE_OK, *ACCEPTED[3:]).state == State.CHARGING


def test_cdr_before_the_session_ends_settles_at_once() -> None:
    tx = run(new_tx(), *ACCEPTED, sess(ACTIVE))
    tx, effects = transition(tx, cdr(total=2100, ours=2100), T0)
    assert tx.state == State.CAPTURING
    assert fx.Capture("TX-1", 17, HOLD, 2100) in effects
    assert run(tx, sess(COMPLETED)).state == State.CAPTURING


def test_repeated_cdr_is_ignored_and_a_different_one_flagged() -> None:
    tx = run(new_tx(), *CHARGED, ev.Captured(1234))
    assert transition(tx, cdr(), T0) == (tx, [])
    tx = run(tx, cdr(cdr_id="CDR-9"))
    assert "second_cdr" in tx.review_flags and tx.captured_minor == 1234


def test_credit_cdr_is_linked_to_its_original() -> None:
    tx = run(new_tx(), *CHARGED, ev.Captured(1234))
    credit = ev.CdrReceived("CR-1", -234, credit=True, credit_reference_id="CDR-1")
    tx = run(tx, credit, credit)
    assert [c.original_cdr_id for c in tx.credits] == ["CDR-1"]
    assert "credit_cdr" in tx.review_flags


def test_capture_fails_then_succeeds_on_retry() -> None:
    tx = run(new_tx(), *CHARGED, ev.CaptureFailed(0x66))
    assert tx.state == State.CAPTURE_FAILED
    tx, effects = transition(tx, fire(tx, TimerKind.TERMINAL_RETRY), T0 + timedelta(hours=1))
    assert tx.state == State.CAPTURING and kinds(effects) == ["Capture"]
    assert run(tx, ev.Captured(1234)).captures == 1


def test_capture_with_lost_answer_checks_before_capturing_again() -> None:
    tx = run(new_tx(), *CHARGED, ev.TerminalUncertain("timeout"))
    tx, effects = transition(tx, fire(tx, TimerKind.TERMINAL_RETRY), T0 + timedelta(hours=1))
    assert kinds(effects) == ["CheckHold"]
    done = run(tx, ev.HoldChecked(None))  # hold gone: the capture went through
    assert done.state == State.CAPTURED and "capture_assumed" in done.review_flags
    again = run(tx, ev.HoldChecked(reservation()))  # still open: capture again
    assert again.state == State.CAPTURING and not again.uncertain


def test_cost_reaching_the_hold_share_stops_the_session() -> None:
    tx = run(new_tx(), *ACCEPTED, sess(ACTIVE, cost=4700))
    assert tx.state == State.CHARGING
    tx, effects = transition(tx, sess(ACTIVE, cost=4750), T0)  # 95 % of 5000
    assert tx.state == State.STOPPING and tx.stop_reason == "hold_limit"
    assert fx.StopSession("S-1", "TX-1") in effects


def test_no_plugin_stops_the_pending_session_and_releases() -> None:
    tx = run(new_tx(), *ACCEPTED, sess(ev.SessionStatus.PENDING, cost=None))
    assert tx.timer_due(TimerKind.PLUGIN) == T0 + timedelta(minutes=1, seconds=300)
    tx, effects = transition(tx, fire(tx, TimerKind.PLUGIN), T0 + timedelta(minutes=6))
    assert fx.StopSession("S-1", "TX-1") in effects and fx.Release("TX-1", 17, HOLD) in effects
    assert tx.failure == "no_plugin" and fx.CancelTimer(TimerKind.HOLD_VALIDITY) in effects
    tx, effects = transition(tx, ev.Released(), T0)
    assert tx.state == State.RELEASED and fx.IssueVoucher("TX-1") in effects


def test_missing_cdr_captures_the_last_session_total_and_flags() -> None:
    tx = run(new_tx(), *CHARGED[:-1])
    assert tx.state == State.ENDED
    tx, effects = transition(tx, fire(tx, TimerKind.CDR_WAIT), T0 + timedelta(days=1))
    assert fx.Capture("TX-1", 17, HOLD, 1000) in effects and "cdr_missing" in tx.review_flags


def test_capture_policy_lower_and_cross_check_mismatch() -> None:
    tx = run(new_tx(policy=Policy(capture_policy="lower")), *CHARGED[:-1])  # type: ignore[arg-type]
    tx, effects = transition(tx, cdr(total=2000, ours=1800), T0)
    assert fx.Capture("TX-1", 17, HOLD, 1800) in effects
    assert tx.cross_check == "mismatch" and "cdr_mismatch" in tx.review_flags


def test_amount_beyond_the_hold_is_capped_and_flagged() -> None:
    tx = run(new_tx(), *CHARGED[:-1], cdr(total=9000, ours=9000))
    assert tx.capture_amount_minor == HOLD and "amount_exceeds_hold" in tx.review_flags


def test_cancel_during_authorisation_then_approval_releases() -> None:
    tx, effects = transition(run(new_tx(), ev.Pay()), ev.Cancel(), T0)
    assert effects == [fx.AbortPayment()]
    tx, effects = transition(tx, ev.PreauthApproved(reservation()), T0)
    assert tx.state == State.RELEASING and kinds(effects)[0] == "Release"


def test_terminal_statuses_become_display_lines() -> None:
    tx = run(new_tx(), ev.Pay())
    _, effects = transition(tx, ev.TerminalStatus(0x0A, "insert_card", "Karte"), T0)
    assert effects == [fx.Notify("terminal.insert_card", "Karte")]


def test_kwh_and_cost_follow_the_session() -> None:
    tx = run(new_tx(), *ACCEPTED, ev.SessionUpdated("S-1", ACTIVE, Decimal("7.25"), 900))
    assert (tx.kwh, tx.session_cost_minor) == (Decimal("7.25"), 900)


def test_a_refused_advice_is_retried_then_left_to_an_operator() -> None:
    issued = ev.ReceiptIssued("K1-1", "https://r/1", 1234)
    tx = run(new_tx(advice_required=True), *CHARGED, ev.Captured(1234), issued)
    tx, effects = transition(tx, ev.AdviceFailed("500"), T0)
    assert tx.state == State.RECEIPT_ISSUED and "advice_failed" not in tx.review_flags
    assert "ScheduleTimer" in kinds(effects)
    tx, effects = transition(tx, fire(tx, TimerKind.ADVICE_RETRY), T0 + timedelta(minutes=5))
    assert fx.SendAdvice("TX-1", 1234) in effects
    assert run(tx, ev.AdviceSent()).state == State.ADVICE_SENT
    for _ in range(tx.policy.max_retries - 1):
        tx = run(tx, ev.AdviceFailed("500"))
    assert tx.state == State.RECEIPT_ISSUED and "advice_failed" in tx.review_flags
    assert tx.timer_due(TimerKind.ADVICE_RETRY) is None
