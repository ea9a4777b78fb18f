"""The transaction state machine: a pure function `transition(tx, event, now)`.

No I/O, no clock, no database: the caller passes the time and performs the returned effects.
Every event is accepted in every state: an event that means nothing in the current state
(late, repeated, out of order) leaves the state as it is, and the runner still logs it. Events
that reveal money or a live session where none should be (a hold approved after the driver
left, a Session pushed after the hold was released) are acted on: the hold is released, the
session stopped, the transaction flagged for review.

The money invariants (`check_invariants`) are checked after every transition; a transition that
would break one raises `InvariantViolation` and nothing is persisted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from kiosk_app.charging import effects as fx
from kiosk_app.charging import events as ev
from kiosk_app.charging.states import (
    FINAL,
    HOLDING,
    SESSION_LIVE,
    CapturePolicy,
    CdrMissingPolicy,
    Credit,
    Refund,
    RefundPayment,
    Reservation,
    State,
    Timer,
    TimerKind,
    TxState,
)

S = State
T = TimerKind
SETTLED = frozenset({S.CAPTURED, S.RECEIPT_ISSUED, S.ADVICE_SENT})
# Timers that belong to the charging session; cancelled once it is over.
SESSION_TIMERS = (T.COMMAND_RESULT, T.PLUGIN, T.MAX_DURATION, T.STOP_RETRY, T.CDR_WAIT)


class InvariantViolation(Exception):
    """A transition would break a money invariant. A bug: nothing may be persisted."""


def transition(tx: TxState, event: ev.Event, now: datetime) -> tuple[TxState, list[fx.Effect]]:
    """Apply `event` to `tx` at time `now`; return the new state and the effects to perform."""
    step = _Step(tx, now)
    _HANDLERS[type(event)](step, event)
    _settle_credits(step)  # whatever the event did to the money, credits follow it
    new = dataclasses.replace(step.tx, updated_at=now) if step.tx != tx else tx
    check_invariants(new)
    return new, step.effects


def check_invariants(tx: TxState) -> None:
    """Raise InvariantViolation when `tx` breaks a money rule."""
    problems = []
    if not 0 <= tx.captured_minor <= tx.held_minor:
        problems.append("captured must lie between 0 and held")
    if tx.released_minor < 0 or tx.captured_minor + tx.released_minor > tx.held_minor:
        problems.append("captured + released must not exceed held")
    if tx.captures not in (0, 1):
        problems.append("at most one capture per hold")
    if (tx.captures == 0) != (tx.captured_minor == 0):
        problems.append("a capture books a positive amount, and only a capture books")
    if tx.state == S.RELEASED and (tx.captured_minor or tx.released_minor != tx.held_minor):
        problems.append("a released transaction has released its whole hold")
    if tx.state in SETTLED and (
        tx.captures != 1 or tx.captured_minor + tx.released_minor != tx.held_minor
    ):
        problems.append("a captured transaction has captured once and released the rest")
    if tx.state in (S.SELECTED, S.AUTHORISING, S.DECLINED, S.ABORTED) and tx.held_minor:
        problems.append(f"{tx.state} holds no money")
    if tx.state in HOLDING and (tx.reservation is None or tx.open_hold_minor != tx.held_minor):
        problems.append(f"{tx.state} has its whole hold open")
    if (
        tx.receipt_total_minor is not None
        and tx.receipt_total_minor != tx.captured_minor
        and "receipt_total_mismatch" not in tx.review_flags
    ):
        problems.append("the receipt total equals the captured amount")
    if any(c.original_cdr_id != tx.cdr_id for c in tx.credits):
        problems.append("every credit CDR is linked to the original CDR")
    problems += _refund_problems(tx)
    if len({t.kind for t in tx.timers}) != len(tx.timers):
        problems.append("one timer per kind")
    if problems:
        raise InvariantViolation(f"{tx.reference} in {tx.state}: " + "; ".join(problems))


def _refund_problems(tx: TxState) -> list[str]:
    problems = []
    if not 0 <= tx.refunded_minor <= tx.refund_owed_minor <= tx.captured_minor:
        problems.append("refunded ≤ owed back ≤ captured")
    if tx.refunds and not tx.captures:
        problems.append("a refund is owed only after a capture")
    credits = {c.cdr_id: c for c in tx.credits}
    if len(credits) != len(tx.credits):
        problems.append("each credit CDR is counted once")
    linked = [r.credit_cdr_id for r in tx.refunds]
    if len(set(linked)) != len(linked) or any(
        r.credit_cdr_id not in credits or r.amount_minor > credits[r.credit_cdr_id].credited_minor
        for r in tx.refunds
    ):
        problems.append("every refund due answers one credit CDR, for at most its amount")
    if any(r.amount_minor <= 0 for r in tx.refunds) or any(
        p.amount_minor <= 0 for p in tx.refund_payments
    ):
        problems.append("refunds are positive amounts")
    return problems


class _Step:
    """The state being built by one transition, and the effects it produces."""

    def __init__(self, tx: TxState, now: datetime) -> None:
        self.tx = tx
        self.before = tx
        self.now = now
        self.effects: list[fx.Effect] = []

    @property
    def state(self) -> State:
        return self.tx.state

    def set(self, **changes: Any) -> None:
        self.tx = dataclasses.replace(self.tx, **changes)

    def emit(self, effect: fx.Effect) -> None:
        self.effects.append(effect)

    def notify(self, key: str, text: str = "") -> None:
        self.emit(fx.Notify(key, text))

    def flag(self, reason: str) -> None:
        if reason not in self.tx.review_flags:
            self.set(review_flags=(*self.tx.review_flags, reason))
            self.emit(fx.FlagForReview(reason))

    def schedule(self, kind: TimerKind, delay_s: int, since: datetime | None = None) -> None:
        due = (since or self.now) + timedelta(seconds=delay_s)
        self.set(timers=(*(t for t in self.tx.timers if t.kind != kind), Timer(kind, due)))
        self.emit(fx.ScheduleTimer(kind, due))

    def cancel(self, *kinds: TimerKind) -> None:
        for kind in kinds:
            if self.tx.timer_due(kind) is None:
                continue
            self.set(timers=tuple(t for t in self.tx.timers if t.kind != kind))
            # A timer scheduled earlier in this same step never reaches the database.
            self.effects = [
                e for e in self.effects if not (isinstance(e, fx.ScheduleTimer) and e.kind == kind)
            ]
            if self.before.timer_due(kind) is not None:
                self.emit(fx.CancelTimer(kind))

    def cancel_all(self) -> None:
        self.cancel(*(t.kind for t in self.tx.timers))

    # --- compound steps --------------------------------------------------------------------

    def take_hold(self, reservation: Reservation) -> None:
        self.set(reservation=reservation, held_minor=reservation.amount_minor, uncertain=False)

    def release(self, reason: str) -> None:
        """Give the whole hold back; the driver gets a voucher once the terminal confirms."""
        tx = self.tx
        self.cancel_all()
        self.set(state=S.RELEASING, failure=tx.failure or reason, attempts=0, uncertain=False)
        receipt = tx.reservation.receipt_no if tx.reservation else None
        self.emit(fx.Release(tx.reference, receipt, tx.held_minor))
        self.notify(f"failure.{reason}")

    def stop_live_session(self) -> None:
        if self.tx.session_id and self.tx.session_status in (None, "ACTIVE", "PENDING"):
            self.emit(fx.StopSession(self.tx.session_id, self.tx.reference))

    def abandon_start(self, reason: str) -> None:
        """Before charging began: stop whatever the CPO may have started, release the hold."""
        self.stop_live_session()
        self.release(reason)

    def stop(self, reason: str) -> None:
        if self.state != S.CHARGING:
            return
        self.cancel(T.MAX_DURATION)
        self.set(state=S.STOPPING, stop_reason=reason, attempts=0)
        self.stop_live_session()
        self.notify("stopping")

    def capture(self, amount_minor: int) -> None:
        """Settle the hold for `amount_minor`: capture it, or release all when it is zero."""
        tx = self.tx
        self.cancel_all()
        self.set(amount_due_minor=amount_minor)
        if amount_minor > tx.held_minor:
            self.flag("amount_exceeds_hold")
            amount_minor = tx.held_minor
        if amount_minor <= 0:
            self.release("nothing_to_charge")
            return
        self.set(state=S.CAPTURING, capture_amount_minor=amount_minor, attempts=0, uncertain=False)
        self.emit(fx.Capture(tx.reference, _receipt_no(tx), tx.held_minor, amount_minor))

    def retry_terminal(self, kind_of_failure: str) -> bool:
        """Count a failed terminal command; schedule a retry, or give up to an operator."""
        attempts = self.tx.attempts + 1
        self.set(attempts=attempts)
        if attempts >= self.tx.policy.max_retries:
            self.cancel(T.TERMINAL_RETRY)
            self.set(state=S.NEEDS_ATTENTION)
            self.flag(kind_of_failure)
            return False
        self.schedule(T.TERMINAL_RETRY, self.tx.policy.retry_delay_s * attempts)
        return True


def _receipt_no(tx: TxState) -> int:
    assert tx.reservation is not None  # guaranteed by the HOLDING invariant
    return tx.reservation.receipt_no


def _has_hold(tx: TxState) -> bool:
    return tx.reservation is not None or tx.held_minor > 0


def _awaiting_settlement(tx: TxState) -> bool:
    """The hold is open and nothing is settling it: charging, or parked after a missing CDR."""
    if tx.state in HOLDING:
        return True
    return (
        tx.state == S.NEEDS_ATTENTION
        and tx.held_minor > 0
        and tx.capture_amount_minor is None
        and tx.failure is None
    )


# --- driver ----------------------------------------------------------------------------------


def _pay(s: _Step, _e: ev.Pay) -> None:
    if s.state == S.SELECTED:  # a second tap finds AUTHORISING and does nothing
        tx = s.tx
        s.set(state=S.AUTHORISING)
        s.emit(fx.Preauthorise(tx.reference, tx.hold_minor, tx.currency))
        s.notify("pay.started")


def _cancel(s: _Step, _e: ev.Event) -> None:
    if s.state == S.SELECTED:
        s.set(state=S.ABORTED, failure="cancelled")
        s.notify("cancelled")
    elif s.state == S.AUTHORISING and not s.tx.cancel_requested:
        s.set(cancel_requested=True)
        s.emit(fx.AbortPayment())
    elif s.state in (S.AUTHORISED, S.STARTING, S.START_ACCEPTED):
        s.set(cancel_requested=True)
        s.abandon_start("cancelled")


def _stop(s: _Step, e: ev.Event) -> None:
    if s.state == S.CHARGING:
        s.stop("driver")
    else:
        _cancel(s, e)


# --- operator --------------------------------------------------------------------------------


def _operator_stop(s: _Step, e: ev.OperatorStop) -> None:
    if s.state == S.CHARGING:
        s.stop("operator")
    elif s.state == S.STOPPING or s.state not in SESSION_LIVE:
        s.stop_live_session()  # resend, or end a session that outlived its transaction
    else:
        _cancel(s, e)


def _operator_retry_capture(s: _Step, _e: ev.OperatorRetryCapture) -> None:
    tx = s.tx
    if s.state == S.NEEDS_ATTENTION and _awaiting_settlement(tx):
        s.capture(tx.session_cost_minor or 0)  # no CDR came: settle on the last Session total
    elif (
        s.state in (S.CAPTURE_FAILED, S.NEEDS_ATTENTION)
        and tx.captures == 0
        and tx.capture_amount_minor is not None
        and tx.failure is None
    ):
        s.cancel(T.TERMINAL_RETRY)
        s.set(attempts=0)
        _send_capture(s)


def _operator_release(s: _Step, _e: ev.OperatorRelease) -> None:
    tx = s.tx
    if tx.captures or not (_has_hold(tx) or tx.uncertain):
        return
    if tx.uncertain and tx.capture_amount_minor is not None:
        return  # a capture may have gone through: retry it (it checks first), never release
    if s.state in HOLDING or s.state in (S.CAPTURE_FAILED, S.NEEDS_ATTENTION, S.RELEASING):
        s.stop_live_session()
        s.release(tx.failure or "operator")


def _operator_mark_reviewed(s: _Step, e: ev.OperatorMarkReviewed) -> None:
    if s.tx.review_flags:
        s.set(review_flags=(), reviewed_by=e.operator)


def _operator_record_refund(s: _Step, e: ev.OperatorRecordRefund) -> None:
    """Book a refund the operator made at the acquirer. More than is due, no acquirer's
    reference or one already booked is ignored (the service refuses it before it gets here)."""
    tx = s.tx
    reference = e.acquirer_reference.strip()
    if not reference or any(p.acquirer_reference == reference for p in tx.refund_payments):
        return
    if not 0 < e.amount_minor <= tx.refund_due_minor:
        return
    payment = RefundPayment(e.amount_minor, reference, e.operator, s.now)
    s.set(refund_payments=(*tx.refund_payments, payment))
    if _missing_credit_note(s.tx) == len(tx.refund_payments):  # none missing before it
        s.emit(fx.IssueCreditNote(tx.reference, len(tx.refund_payments), e.amount_minor))


# --- terminal --------------------------------------------------------------------------------


def _terminal_status(s: _Step, e: ev.TerminalStatus) -> None:
    if s.state == S.AUTHORISING:
        s.notify(f"terminal.{e.message_key}", e.text)


def _approved(s: _Step, reservation: Reservation) -> None:
    tx = s.tx
    if s.state == S.AUTHORISING:
        s.take_hold(reservation)
        if tx.cancel_requested:
            s.release("cancelled")
            return
        s.set(state=S.AUTHORISED)
        s.schedule(T.HOLD_VALIDITY, tx.policy.hold_validity_s)
        s.emit(fx.StartSession(tx.reference, tx.location_id, tx.evse_uid, tx.connector_id))
        s.notify("starting")
    elif not _has_hold(tx) and s.state != S.RELEASING:
        # A hold where we expected none (the driver left, the terminal said no): give it back.
        s.take_hold(reservation)
        s.flag("late_approval")
        s.release("late_approval")
    elif tx.reservation is not None and tx.reservation.receipt_no != reservation.receipt_no:
        s.flag("second_hold")
        s.emit(fx.Release(tx.reference, reservation.receipt_no, reservation.amount_minor))


def _preauth_approved(s: _Step, e: ev.PreauthApproved) -> None:
    _approved(s, e.reservation)


def _preauth_declined(s: _Step, e: ev.PreauthDeclined) -> None:
    if s.state != S.AUTHORISING:
        return
    aborted = e.outcome == ev.DeclineOutcome.CUSTOMER_ABORT_OR_TIMEOUT
    s.set(state=S.ABORTED if aborted else S.DECLINED, failure=f"declined.{e.outcome}")
    s.notify(f"declined.{e.outcome}", e.text)


def _terminal_uncertain(s: _Step, _e: ev.TerminalUncertain) -> None:
    if s.state == S.AUTHORISING:
        s.set(uncertain=True)
        if s.tx.attempts == 0:
            s.set(attempts=1)
            s.emit(fx.CheckHold(s.tx.reference))
        else:
            s.retry_terminal("terminal_unreachable")
        s.notify("terminal.checking")
    elif s.state == S.CAPTURING:
        s.set(uncertain=True)
        if s.retry_terminal("capture_failed"):
            s.set(state=S.CAPTURE_FAILED)
    elif s.state == S.RELEASING:
        s.set(uncertain=True)
        s.retry_terminal("release_failed")


def _hold_checked(s: _Step, e: ev.HoldChecked) -> None:
    tx = s.tx
    if s.state == S.AUTHORISING:
        if e.reservation is not None:
            s.set(attempts=0)
            _approved(s, e.reservation)
        else:
            failure = "cancelled" if tx.cancel_requested else "declined.TERMINAL_ERROR"
            s.set(state=S.ABORTED if tx.cancel_requested else S.DECLINED, failure=failure)
            s.notify(failure)
    elif s.state == S.CAPTURING and tx.uncertain:
        if e.reservation is not None:  # still open: our capture did not happen
            s.set(uncertain=False)
            _send_capture(s)
        else:  # gone: the capture we could not confirm went through
            s.flag("capture_assumed")
            _captured(s, tx.capture_amount_minor or 0)
    elif s.state == S.RELEASING and tx.uncertain:
        if e.reservation is not None:
            if tx.reservation is None:
                s.set(reservation=e.reservation, held_minor=e.reservation.amount_minor)
            s.set(uncertain=False)
            s.emit(fx.Release(tx.reference, e.reservation.receipt_no, s.tx.held_minor))
        else:
            _released(s)


def _open_hold_found(s: _Step, e: ev.OpenHoldFound) -> None:
    tx = s.tx
    if s.state not in FINAL:
        return  # a live transaction settles its own hold
    if tx.captures:
        s.flag("hold_open_after_capture")  # never release what the receipt says was charged
    elif not _has_hold(tx):
        _approved(s, e.reservation)  # a hold the terminal took after we gave up
    elif tx.reservation is not None and tx.reservation.receipt_no == e.reservation.receipt_no:
        s.flag("hold_open_after_release")
        s.release(tx.failure or "hold_open_after_release")


def _send_capture(s: _Step) -> None:
    tx = s.tx
    s.set(state=S.CAPTURING)
    if tx.uncertain:
        s.emit(fx.CheckHold(tx.reference))
    else:
        assert tx.capture_amount_minor is not None
        s.emit(fx.Capture(tx.reference, _receipt_no(tx), tx.held_minor, tx.capture_amount_minor))


def _captured(s: _Step, amount_minor: int) -> None:
    tx = s.tx
    if tx.captures or tx.capture_amount_minor is None:
        return
    if s.state not in (S.CAPTURING, S.CAPTURE_FAILED, S.NEEDS_ATTENTION):
        return
    if amount_minor != tx.capture_amount_minor:
        s.flag("capture_amount_differs")
    if amount_minor > tx.held_minor:
        amount_minor = tx.held_minor  # a terminal cannot book beyond the pre-authorisation
    s.cancel_all()
    s.set(
        state=S.CAPTURED,
        captures=1,
        captured_minor=amount_minor,
        released_minor=tx.held_minor - amount_minor,
        attempts=0,
        uncertain=False,
    )
    s.emit(fx.IssueReceipt(tx.reference, amount_minor))
    s.notify("captured")


def _on_captured(s: _Step, e: ev.Captured) -> None:
    if e.amount_minor > 0:
        _captured(s, e.amount_minor)


def _capture_failed(s: _Step, _e: ev.CaptureFailed) -> None:
    if s.state == S.CAPTURING:
        s.set(uncertain=False)
        if s.retry_terminal("capture_failed"):
            s.set(state=S.CAPTURE_FAILED)


def _released(s: _Step) -> None:
    tx = s.tx
    if tx.captures or s.state not in (S.RELEASING, S.NEEDS_ATTENTION):
        return
    if s.state == S.NEEDS_ATTENTION and tx.failure is None:
        return  # waiting on a capture, not a release
    s.cancel_all()
    s.set(state=S.RELEASED, released_minor=tx.held_minor, attempts=0, uncertain=False)
    if tx.held_minor:
        s.emit(fx.IssueVoucher(tx.reference))
    s.notify("released")


def _on_released(s: _Step, _e: ev.Released) -> None:
    _released(s)


def _release_failed(s: _Step, _e: ev.ReleaseFailed) -> None:
    if s.state == S.RELEASING:
        s.retry_terminal("release_failed")


# --- CPO -------------------------------------------------------------------------------------


def _start_failed(s: _Step, result: ev.CommandResult | None) -> None:
    s.abandon_start(f"start_rejected.{result}" if result else "start_failed")


def _command_responded(s: _Step, e: ev.CommandResponded) -> None:
    if e.command == ev.Command.START_SESSION:
        if s.state != S.AUTHORISED:
            return  # the result or the session got here first
        if e.result == ev.CommandResult.ACCEPTED:
            policy = s.tx.policy
            wait = (e.timeout_s or policy.command_result_default_s) + policy.command_result_margin_s
            s.set(state=S.STARTING)
            s.schedule(T.COMMAND_RESULT, wait)
        else:
            _start_failed(s, e.result)
    elif s.state == S.STOPPING and e.result != ev.CommandResult.ACCEPTED:
        _stop_failed(s)


def _stop_failed(s: _Step) -> None:
    attempts = s.tx.attempts + 1
    s.set(attempts=attempts)
    if attempts >= s.tx.policy.max_retries:
        s.flag("stop_failed")  # the CDR, or the hold validity timer, still settles it
    else:
        s.schedule(T.STOP_RETRY, s.tx.policy.retry_delay_s)


def _command_result(s: _Step, e: ev.CommandResultReceived) -> None:
    if e.command == ev.Command.START_SESSION:
        if s.state not in (S.AUTHORISED, S.STARTING):
            return
        if e.result == ev.CommandResult.ACCEPTED:
            s.cancel(T.COMMAND_RESULT)
            s.set(state=S.START_ACCEPTED)
            s.schedule(T.PLUGIN, s.tx.policy.plugin_window_s)
            s.notify("plug_in")
        else:
            _start_failed(s, e.result)
    elif s.state == S.STOPPING and e.result != ev.CommandResult.ACCEPTED:
        _stop_failed(s)


def _session_updated(s: _Step, e: ev.SessionUpdated) -> None:
    tx = s.tx
    if tx.session_id is not None and tx.session_id != e.session_id:
        # Another session carrying our authorization_reference: never ours to bill.
        s.flag("second_session")
        if e.status in (ev.SessionStatus.ACTIVE, ev.SessionStatus.PENDING):
            s.emit(fx.StopSession(e.session_id, tx.reference))
        return
    was_live = tx.session_id is not None and tx.session_status in ("ACTIVE", "PENDING")
    s.set(
        session_id=e.session_id,
        session_status=str(e.status),
        kwh=e.kwh,
        power_kw=e.power_kw,
        session_cost_minor=e.cost_minor if e.cost_minor is not None else tx.session_cost_minor,
        session_start=e.start or tx.session_start,
        session_end=e.end or tx.session_end,
    )
    live = e.status in (ev.SessionStatus.ACTIVE, ev.SessionStatus.PENDING)
    if live and s.state in FINAL | {S.RELEASING, S.NEEDS_ATTENTION, S.SELECTED, S.AUTHORISING}:
        # The CPO started (or kept) a session we gave up on: end it, nobody pays for it.
        if not was_live:
            s.flag("session_after_release")
            s.emit(fx.StopSession(e.session_id, tx.reference))
        return
    if e.status == ev.SessionStatus.ACTIVE:
        if s.state in (S.AUTHORISED, S.STARTING, S.START_ACCEPTED):
            s.cancel(T.COMMAND_RESULT, T.PLUGIN)
            s.set(state=S.CHARGING)
            s.schedule(T.MAX_DURATION, tx.policy.max_duration_s, since=e.start or s.now)
            s.notify("charging")
        if s.state == S.CHARGING:
            _check_cost(s)
    elif e.status == ev.SessionStatus.COMPLETED:
        if s.state in SESSION_LIVE or s.state == S.STOPPING:
            s.cancel(*SESSION_TIMERS)
            s.set(state=S.ENDED, attempts=0)
            s.schedule(T.CDR_WAIT, tx.policy.cdr_wait_s)
            s.notify("ended")
    elif e.status == ev.SessionStatus.INVALID and (
        s.state in SESSION_LIVE or s.state in (S.STOPPING, S.ENDED)
    ):
        s.release("session_invalid")


def _check_cost(s: _Step) -> None:
    tx = s.tx
    limit = Decimal(tx.held_minor) * tx.policy.stop_at_hold_share
    if tx.session_cost_minor is not None and tx.session_cost_minor >= limit:
        s.stop("hold_limit")


def _final_amount(s: _Step, e: ev.CdrReceived) -> int:
    tx, ours = s.tx, e.our_total_minor
    if ours is None:
        s.set(cross_check="unchecked")
    elif abs(ours - e.total_minor) <= tx.policy.cross_check_tolerance_minor:
        s.set(cross_check="match")
    else:
        s.set(cross_check="mismatch")
        s.flag("cdr_mismatch")
    if ours is None or tx.policy.capture_policy == CapturePolicy.CPO:
        return e.total_minor
    if tx.policy.capture_policy == CapturePolicy.OURS:
        return ours
    return min(ours, e.total_minor)


def _cdr_received(s: _Step, e: ev.CdrReceived) -> None:
    tx = s.tx
    if e.credit:
        if e.credit_reference_id != tx.cdr_id or tx.cdr_id is None:
            s.flag("credit_unlinked")
        elif all(c.cdr_id != e.cdr_id for c in tx.credits):  # a repeated push counts once
            s.set(credits=(*tx.credits, Credit(e.cdr_id, tx.cdr_id, e.total_minor)))
            s.flag("credit_cdr")
        return  # `_settle_credits` acts on it
    if tx.cdr_id is not None:
        if tx.cdr_id != e.cdr_id:
            s.flag("second_cdr")
        return
    s.set(
        cdr_id=e.cdr_id,
        cdr_total_minor=e.total_minor,
        cdr_energy_kwh=e.total_energy_kwh,
        our_total_minor=e.our_total_minor,
    )
    amount = _final_amount(s, e)
    if _awaiting_settlement(tx):
        s.capture(amount)  # a CDR means the session is over, even before its COMPLETED push
    elif s.state in (S.CAPTURING, S.CAPTURE_FAILED) or s.state in SETTLED:
        if amount != tx.capture_amount_minor:
            s.flag("cdr_differs_from_capture")
    elif e.total_minor > 0:
        s.flag("cdr_without_hold")


def _settle_credits(s: _Step) -> None:
    """Act on the credit CDRs not yet settled, as far as the money allows now:
    - captured: a refund due of what the driver paid beyond the price less all credits;
    - the capture is decided but not under way (failed, waiting for its retry or an operator)
      and its outcome is known: the credit lowers the amount to capture (zero releases);
    - no hold, or it is being or was released: nothing was charged, nothing to give back;
    - otherwise (capture under way, or its outcome unknown): wait for the outcome."""
    tx = s.tx
    if all(c.settled for c in tx.credits):
        return
    if tx.captures:
        _credits_to_refunds(s)
    elif _capture_waiting(tx):
        _credits_lower_capture(s)
    elif s.state in (S.RELEASING, S.RELEASED) or not _has_hold(tx):
        s.set(credits=tuple(dataclasses.replace(c, settled=True) for c in tx.credits))


def _capture_waiting(tx: TxState) -> bool:
    """A capture amount is decided, and no capture is on its way to the terminal."""
    return (
        tx.state in (S.CAPTURE_FAILED, S.NEEDS_ATTENTION)
        and tx.captures == 0
        and tx.capture_amount_minor is not None
        and tx.failure is None
        and not tx.uncertain
    )


def _credits_to_refunds(s: _Step) -> None:
    """The driver gets back what they paid beyond the price less the credits. That is the
    credit itself, unless the capture was capped at the hold: then they paid less than the
    price, and only what exceeds the lowered price is theirs."""
    tx = s.tx
    price = tx.captured_minor if tx.amount_due_minor is None else tx.amount_due_minor
    refunds, credits, credited = list(tx.refunds), [], 0
    for credit in tx.credits:
        credited += credit.credited_minor
        if not credit.settled:
            still_owed = max(price - credited, 0)
            room = tx.captured_minor - still_owed - sum(r.amount_minor for r in refunds)
            amount = min(credit.credited_minor, room)
            if amount > 0:
                refunds.append(Refund(credit.cdr_id, amount))
            credit = dataclasses.replace(credit, settled=True)
        credits.append(credit)
    s.set(credits=tuple(credits), refunds=tuple(refunds))
    if len(refunds) > len(tx.refunds):
        s.flag("refund_due")


def _credits_lower_capture(s: _Step) -> None:
    tx = s.tx
    amount, credits = tx.capture_amount_minor or 0, []
    for credit in tx.credits:
        if not credit.settled:
            deducted = min(credit.credited_minor, amount)
            amount -= deducted
            credit = dataclasses.replace(credit, settled=True, deducted_minor=deducted)
        credits.append(credit)
    s.set(credits=tuple(credits), capture_amount_minor=amount)
    if amount == 0:
        s.set(capture_amount_minor=None)
        s.release("nothing_to_charge")


def _advice_sent(s: _Step, _e: ev.AdviceSent) -> None:
    if s.state == S.RECEIPT_ISSUED and s.tx.advice_required:
        s.cancel(T.ADVICE_RETRY)
        s.set(state=S.ADVICE_SENT, attempts=0)


def _advice_failed(s: _Step, _e: ev.AdviceFailed) -> None:
    """The CPO did not take the advice: the money is settled, so retry it later and, when the
    retries are used up, leave it to an operator."""
    if s.state != S.RECEIPT_ISSUED or not s.tx.advice_required:
        return
    attempts = s.tx.attempts + 1
    s.set(attempts=attempts)
    if attempts >= s.tx.policy.max_retries:
        s.cancel(T.ADVICE_RETRY)
        s.flag("advice_failed")
    else:
        s.schedule(T.ADVICE_RETRY, s.tx.policy.retry_delay_s * attempts)


# --- receipts --------------------------------------------------------------------------------


def _receipt_issued(s: _Step, e: ev.ReceiptIssued) -> None:
    tx = s.tx
    if s.state != S.CAPTURED:
        return
    if e.total_minor != tx.captured_minor:
        s.flag("receipt_total_mismatch")
    s.cancel(T.RECEIPT_RETRY)
    s.set(
        state=S.RECEIPT_ISSUED,
        receipt_number=e.number,
        receipt_link=e.link,
        receipt_total_minor=e.total_minor,
        attempts=0,
    )
    if tx.advice_required:
        s.emit(fx.SendAdvice(tx.reference, tx.captured_minor))
    s.notify("receipt_ready")


def _receipt_failed(s: _Step, _e: ev.ReceiptFailed) -> None:
    if s.state != S.CAPTURED:
        return
    attempts = s.tx.attempts + 1
    s.set(attempts=attempts)
    if attempts >= s.tx.policy.max_retries:
        s.flag("receipt_failed")
    else:
        s.schedule(T.RECEIPT_RETRY, s.tx.policy.retry_delay_s)


def _voucher_issued(s: _Step, e: ev.VoucherIssued) -> None:
    if s.state == S.RELEASED and s.tx.voucher_number is None:
        s.set(voucher_number=e.number)
        s.cancel(T.VOUCHER_RETRY)


def _voucher_failed(s: _Step, _e: ev.VoucherFailed) -> None:
    """Flagged at once (the driver was promised a voucher) and retried every `retry_delay_s`
    until issued."""
    if s.state == S.RELEASED and s.tx.voucher_number is None:
        s.flag("voucher_failed")
        s.schedule(T.VOUCHER_RETRY, s.tx.policy.retry_delay_s)


# Credit notes are issued one after the other, in the order the refunds were recorded: the
# receipts side numbers a transaction's credit notes by that order (one per refund payment).


def _missing_credit_note(tx: TxState) -> int | None:
    """The index of the first refund payment without its credit note."""
    return next((i for i, p in enumerate(tx.refund_payments) if p.credit_note_number is None), None)


def _issue_missing_credit_note(s: _Step) -> None:
    index = _missing_credit_note(s.tx)
    if index is not None:
        payment = s.tx.refund_payments[index]
        s.emit(fx.IssueCreditNote(s.tx.reference, index, payment.amount_minor))


def _credit_note_issued(s: _Step, e: ev.CreditNoteIssued) -> None:
    payments = list(s.tx.refund_payments)
    if e.index != _missing_credit_note(s.tx):
        return
    payments[e.index] = dataclasses.replace(payments[e.index], credit_note_number=e.number)
    s.set(refund_payments=tuple(payments))
    s.cancel(T.CREDIT_NOTE_RETRY)
    _issue_missing_credit_note(s)


def _credit_note_failed(s: _Step, e: ev.CreditNoteFailed) -> None:
    """Flagged at once (a refund without its credit note is a gap in the books) and retried
    every `retry_delay_s` until issued."""
    if e.index == _missing_credit_note(s.tx):
        s.flag("credit_note_failed")
        s.schedule(T.CREDIT_NOTE_RETRY, s.tx.policy.retry_delay_s)


# --- timers ----------------------------------------------------------------------------------


def _timer_fired(s: _Step, e: ev.TimerFired) -> None:
    tx = s.tx
    if tx.timer_due(e.kind) != e.due_at:
        return  # cancelled or rescheduled meanwhile: a stale firing
    s.set(timers=tuple(t for t in tx.timers if t.kind != e.kind))
    _TIMER_HANDLERS[e.kind](s)


def _command_result_overdue(s: _Step) -> None:
    if s.state == S.STARTING:
        s.abandon_start("start_timeout")


def _plugin_window_over(s: _Step) -> None:
    if s.state == S.START_ACCEPTED:
        s.abandon_start("no_plugin")


def _max_duration(s: _Step) -> None:
    s.stop("max_duration")


def _hold_expiring(s: _Step) -> None:
    if s.state in (S.AUTHORISED, S.STARTING, S.START_ACCEPTED):
        s.abandon_start("hold_expiring")
    elif s.state in (S.CHARGING, S.STOPPING, S.ENDED):
        s.stop_live_session()
        s.flag("captured_before_cdr")
        s.capture(s.tx.session_cost_minor or 0)


def _cdr_overdue(s: _Step) -> None:
    if s.state != S.ENDED:
        return
    policy = s.tx.policy.cdr_missing_policy
    s.flag("cdr_missing")
    if policy == CdrMissingPolicy.CAPTURE_SESSION_TOTAL:
        s.capture(s.tx.session_cost_minor or 0)
    elif policy == CdrMissingPolicy.RELEASE:
        s.release("cdr_missing")
    else:
        s.set(state=S.NEEDS_ATTENTION)


def _terminal_retry(s: _Step) -> None:
    tx = s.tx
    if s.state == S.AUTHORISING and tx.uncertain:
        s.emit(fx.CheckHold(tx.reference))
    elif s.state == S.CAPTURE_FAILED:
        _send_capture(s)
    elif s.state == S.RELEASING:
        receipt = tx.reservation.receipt_no if tx.reservation else None
        if tx.uncertain:
            s.emit(fx.CheckHold(tx.reference))
        else:
            s.emit(fx.Release(tx.reference, receipt, tx.held_minor))


def _stop_retry(s: _Step) -> None:
    if s.state == S.STOPPING:
        s.stop_live_session()


def _receipt_retry(s: _Step) -> None:
    if s.state == S.CAPTURED:
        s.emit(fx.IssueReceipt(s.tx.reference, s.tx.captured_minor))


def _voucher_retry(s: _Step) -> None:
    if s.state == S.RELEASED and s.tx.voucher_number is None:
        s.emit(fx.IssueVoucher(s.tx.reference))


def _credit_note_retry(s: _Step) -> None:
    _issue_missing_credit_note(s)


def _advice_retry(s: _Step) -> None:
    if s.state == S.RECEIPT_ISSUED and s.tx.advice_required:
        s.emit(fx.SendAdvice(s.tx.reference, s.tx.captured_minor))


_TIMER_HANDLERS: dict[TimerKind, Callable[[_Step], None]] = {
    T.COMMAND_RESULT: _command_result_overdue,
    T.PLUGIN: _plugin_window_over,
    T.MAX_DURATION: _max_duration,
    T.HOLD_VALIDITY: _hold_expiring,
    T.CDR_WAIT: _cdr_overdue,
    T.TERMINAL_RETRY: _terminal_retry,
    T.STOP_RETRY: _stop_retry,
    T.RECEIPT_RETRY: _receipt_retry,
    T.ADVICE_RETRY: _advice_retry,
    T.CREDIT_NOTE_RETRY: _credit_note_retry,
    T.VOUCHER_RETRY: _voucher_retry,
}

_HANDLERS: dict[type[ev.Event], Callable[[_Step, Any], None]] = {
    ev.Pay: _pay,
    ev.Cancel: _cancel,
    ev.Stop: _stop,
    ev.OperatorStop: _operator_stop,
    ev.OperatorRetryCapture: _operator_retry_capture,
    ev.OperatorRelease: _operator_release,
    ev.OperatorMarkReviewed: _operator_mark_reviewed,
    ev.OperatorRecordRefund: _operator_record_refund,
    ev.TerminalStatus: _terminal_status,
    ev.PreauthApproved: _preauth_approved,
    ev.PreauthDeclined: _preauth_declined,
    ev.TerminalUncertain: _terminal_uncertain,
    ev.HoldChecked: _hold_checked,
    ev.OpenHoldFound: _open_hold_found,
    ev.Captured: _on_captured,
    ev.CaptureFailed: _capture_failed,
    ev.Released: _on_released,
    ev.ReleaseFailed: _release_failed,
    ev.CommandResponded: _command_responded,
    ev.CommandResultReceived: _command_result,
    ev.SessionUpdated: _session_updated,
    ev.CdrReceived: _cdr_received,
    ev.AdviceSent: _advice_sent,
    ev.AdviceFailed: _advice_failed,
    ev.ReceiptIssued: _receipt_issued,
    ev.ReceiptFailed: _receipt_failed,
    ev.VoucherIssued: _voucher_issued,
    ev.VoucherFailed: _voucher_failed,
    ev.CreditNoteIssued: _credit_note_issued,
    ev.CreditNoteFailed: _credit_note_failed,
    ev.TimerFired: _timer_fired,
}
