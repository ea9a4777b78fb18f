"""Building transactions and events for the machine tests: fresh transactions, the scripts that
drive one into every state, and a sample of every event (with the variants that matter)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kiosk_app.charging import events as ev
from kiosk_app.charging.machine import transition
from kiosk_app.charging.states import Policy, Reservation, State, TimerKind, TxState

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HOLD = 5000


def new_tx(**overrides: object) -> TxState:
    base = TxState(
        reference="TX-1",
        kiosk_id="kiosk-1",
        evse_uid="EVSE-1",
        location_id="LOC-1",
        connector_id="1",
        currency="EUR",
        hold_minor=HOLD,
        created_at=T0,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def reservation(receipt_no: int = 17, amount_minor: int = HOLD) -> Reservation:
    return Reservation(
        receipt_no=receipt_no,
        amount_minor=amount_minor,
        trace_no=100 + receipt_no,
        terminal_id="52500001",
        card_brand="Girocard",
        card_last4="1234",
        card_hash="h" * 64,
        authorised_at=T0,
    )


def session(
    status: ev.SessionStatus, cost: int | None = 1000, sid: str = "S-1"
) -> ev.SessionUpdated:
    return ev.SessionUpdated(sid, status, kwh=Decimal("3.5"), cost_minor=cost, start=T0)


def cdr(total: int = 1234, cdr_id: str = "CDR-1", ours: int | None = 1234) -> ev.CdrReceived:
    return ev.CdrReceived(cdr_id, total, Decimal("3.5"), our_total_minor=ours)


def fire(tx: TxState, kind: TimerKind) -> ev.TimerFired:
    due = tx.timer_due(kind)
    assert due is not None, f"no {kind} timer in {tx.state}"
    return ev.TimerFired(kind, due)


def run(tx: TxState, *events: ev.Event) -> TxState:
    for event in events:
        tx, _ = transition(tx, event, T0 + timedelta(minutes=1))
    return tx


START = (ev.Pay(), ev.PreauthApproved(reservation()))
ACCEPTED = (
    *START,
    ev.CommandResponded(ev.Command.START_SESSION, ev.CommandResult.ACCEPTED, 30),
    ev.CommandResultReceived(ev.Command.START_SESSION, ev.CommandResult.ACCEPTED),
)
CHARGED = (
    *ACCEPTED,
    session(ev.SessionStatus.ACTIVE),
    ev.Stop(),
    session(ev.SessionStatus.COMPLETED),
    cdr(),
)

CREDIT = ev.CdrReceived("CR-1", -1234, credit=True, credit_reference_id="CDR-1")


def _script_until_attention(tx: TxState, failure: ev.Event) -> Iterator[TxState]:
    """Fail the current terminal command until the machine hands over to an operator."""
    while tx.state != State.NEEDS_ATTENTION:
        tx = run(tx, failure)
        yield tx
        if tx.timer_due(TimerKind.TERMINAL_RETRY):
            tx = run(tx, fire(tx, TimerKind.TERMINAL_RETRY))
            yield tx


def reachable() -> list[TxState]:
    """Transactions in every state, along several paths (each prefix of each script)."""
    scripts: list[tuple[TxState, tuple[ev.Event, ...]]] = [
        (new_tx(), (ev.Cancel(),)),
        (new_tx(), (ev.Pay(), ev.PreauthDeclined(ev.DeclineOutcome.INSUFFICIENT_FUNDS, 0x71))),
        (new_tx(), (ev.Pay(), ev.Cancel(), ev.PreauthApproved(reservation()), ev.Released())),
        (new_tx(), (ev.Pay(), ev.TerminalUncertain("link lost"), ev.HoldChecked(None))),
        (new_tx(), (*START, ev.CommandResponded(ev.Command.START_SESSION, None, error="500"))),
        (new_tx(), (*CHARGED, ev.Captured(1234), ev.ReceiptIssued("K1-1", "https://r/x", 1234))),
        (
            new_tx(),
            (
                *CHARGED,
                ev.Captured(1234),
                ev.ReceiptIssued("K1-1", "https://r/x", 1234),
                CREDIT,
                ev.OperatorRecordRefund("olga", 200, "ACQ-1"),
                ev.CreditNoteIssued(0, "K1-2"),
            ),
        ),
        (
            new_tx(advice_required=True),
            (
                *CHARGED,
                ev.Captured(1234),
                ev.ReceiptIssued("K1-1", "https://r/x", 1234),
                ev.AdviceSent(),
            ),
        ),
        (new_tx(), (*CHARGED, ev.CaptureFailed(0x66, "processing error"))),
        (new_tx(), (*CHARGED, ev.TerminalUncertain("timeout"))),
        (new_tx(), (*ACCEPTED, session(ev.SessionStatus.PENDING, None))),
        (
            new_tx(),
            (*ACCEPTED, session(ev.SessionStatus.ACTIVE), session(ev.SessionStatus.INVALID)),
        ),
        (new_tx(), (*CHARGED[:-1], session(ev.SessionStatus.INVALID))),
    ]
    found: list[TxState] = []
    for tx, events in scripts:
        found.append(tx)
        for event in events:
            tx = run(tx, event)
            found.append(tx)
    # Timers: command result overdue, no plug-in, the CDR never came (each policy).
    starting = run(new_tx(), *START, ACCEPTED[2])
    found.append(run(starting, fire(starting, TimerKind.COMMAND_RESULT)))
    accepted = run(new_tx(), *ACCEPTED)
    found.append(run(accepted, fire(accepted, TimerKind.PLUGIN)))
    for policy in ("capture_session_total", "release", "attention"):
        ended = run(new_tx(policy=Policy(cdr_missing_policy=policy)), *CHARGED[:-1])  # type: ignore[arg-type]
        found.append(ended)
        found.append(run(ended, fire(ended, TimerKind.CDR_WAIT)))
    # Retries exhausted: capture, release, terminal unreachable while authorising.
    capturing = run(new_tx(), *CHARGED)
    found += _script_until_attention(capturing, ev.CaptureFailed(0x66))
    releasing = run(
        new_tx(), *START, ev.CommandResponded(ev.Command.START_SESSION, ev.CommandResult.REJECTED)
    )
    found += _script_until_attention(releasing, ev.ReleaseFailed(0x83))
    authorising = run(new_tx(), ev.Pay())
    found += _script_until_attention(authorising, ev.TerminalUncertain("gone"))
    return found


def sample_events(tx: TxState) -> list[ev.Event]:
    """Every kind of event, with the variants that matter for `tx` (its own ids and timers)."""
    own_session = tx.session_id or "S-1"
    own_receipt = tx.reservation.receipt_no if tx.reservation else 17
    samples: list[ev.Event] = [
        ev.Pay(),
        ev.Cancel(),
        ev.Stop(),
        ev.OperatorRetryCapture("olga"),
        ev.OperatorRelease("olga"),
        ev.OperatorStop("olga"),
        ev.OperatorMarkReviewed("olga", "checked"),
        ev.TerminalStatus(0x0A, "insert_card", "Karte einstecken"),
        ev.PreauthApproved(reservation(own_receipt)),
        ev.PreauthApproved(reservation(own_receipt + 1, 3000)),
        ev.TerminalUncertain("timeout"),
        ev.HoldChecked(None),
        ev.HoldChecked(tx.reservation or reservation()),
        ev.OpenHoldFound(tx.reservation or reservation()),
        ev.OpenHoldFound(reservation(99)),
        ev.Captured(tx.capture_amount_minor or 1234),
        ev.Captured(999_999),
        ev.CaptureFailed(0x66, "processing error"),
        ev.Released(),
        ev.ReleaseFailed(0xB5, "reversal not possible"),
        ev.AdviceSent(),
        ev.AdviceFailed("500"),
        ev.ReceiptIssued("K1-9", "https://r/9", tx.captured_minor),
        ev.ReceiptIssued("K1-9", "https://r/9", tx.captured_minor + 1),
        ev.ReceiptFailed("disk full"),
        ev.VoucherIssued("V-1"),
        ev.VoucherFailed("disk full"),
        ev.OperatorRecordRefund("olga", 100, "ACQ-9"),
        ev.OperatorRecordRefund("olga", tx.refund_due_minor + 1, "ACQ-8"),
        ev.CreditNoteIssued(0, "K1-7"),
        ev.CreditNoteFailed(0, "disk full"),
        cdr(),
        cdr(total=0, cdr_id="CDR-0", ours=0),
        cdr(total=HOLD * 3, cdr_id="CDR-BIG", ours=HOLD * 2),
        cdr(cdr_id=tx.cdr_id or "CDR-1"),
        ev.CdrReceived("CR-1", -1234, credit=True, credit_reference_id=tx.cdr_id or "CDR-1"),
        ev.CdrReceived("CR-2", -1234, credit=True, credit_reference_id="SOMEONE-ELSE"),
        session(ev.SessionStatus.ACTIVE, sid="S-OTHER"),
        ev.TimerFired(TimerKind.PLUGIN, T0 - timedelta(days=1)),  # stale
    ]
    for command in ev.Command:
        for result in (*ev.CommandResult, None):
            samples.append(ev.CommandResponded(command, result, 30))
            if result is not None:
                samples.append(ev.CommandResultReceived(command, result))
    for status in ev.SessionStatus:
        samples.append(session(status, sid=own_session))
        samples.append(session(status, cost=HOLD, sid=own_session))  # cost reaches the hold
    samples += [fire(tx, t.kind) for t in tx.timers]
    return samples
