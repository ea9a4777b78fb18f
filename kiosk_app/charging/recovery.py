"""Recovery, at start-up and periodically: finish what a crash interrupted, catch up with
what the CPO and the terminal know, release holds nobody owns.

1. Intents claimed by a worker that is gone (`running`, stale): a terminal command's outcome
   is unknown, so the machine gets `TerminalUncertain` and checks the terminal before acting
   again; an interrupted START_SESSION counts as failed (a late session is stopped); other
   CPO and receipt commands are idempotent and simply performed again.
2. A payment intent never performed for too long (the driver has gone): declined.
3. The CPO's Sessions and CDRs since the oldest unfinished transaction are fed in again,
   matched by `authorization_reference` (the machine ignores what it already knows).
4. The terminal's open pre-authorisations, matched by our reference: a hold owned by no live
   transaction is released.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from kiosk_app.charging import codec
from kiosk_app.charging import events as ev
from kiosk_app.charging.runner import Runner, UnknownTransaction
from kiosk_app.charging.states import FINAL, State, TxState
from kiosk_app.models.charging import ChargingEffect, ChargingTransaction

log = logging.getLogger(__name__)

STALE_PAYMENT = timedelta(minutes=2)
LOOK_BACK = timedelta(hours=48)
TERMINAL_COMMANDS = ("Preauthorise", "Capture", "Release", "CheckHold")


@dataclass
class RecoveryReport:
    interrupted: list[str] = field(default_factory=list)  # "reference: effect kind"
    expired_payments: list[str] = field(default_factory=list)
    sessions_fed: int = 0
    cdrs_fed: int = 0
    orphan_holds_released: list[int] = field(default_factory=list)  # terminal receipt numbers


def recover(
    runner: Runner,
    kiosks: list[str],
    *,
    stale_after: timedelta,
    include_terminal: bool = True,
    include_cpo: bool = True,
) -> RecoveryReport:
    """Run the recovery steps for the terminals of `kiosks` (those this worker owns) and,
    with `include_cpo`, for the CPO's side."""
    report = RecoveryReport()
    resolve_interrupted(runner, kiosks, stale_after, report)
    expire_unperformed_payments(runner, kiosks, report)
    if include_cpo:
        catch_up_with_cpo(runner, report)
    if include_terminal:
        for kiosk_id in kiosks:
            release_orphan_holds(runner, kiosk_id, report)
    return report


def resolve_interrupted(
    runner: Runner, kiosks: list[str], stale_after: timedelta, report: RecoveryReport
) -> None:
    cutoff = runner.clock() - stale_after
    with runner.database.session() as session:
        rows = session.execute(
            sa.select(ChargingEffect.id, ChargingEffect.reference, ChargingEffect.kind)
            .where(
                ChargingEffect.status == "running",
                sa.or_(
                    # `kiosks` are terminals whose loop is not running yet: whoever claimed
                    # their commands (a dead worker, our own crashed thread) is gone.
                    ChargingEffect.route.in_(("terminal", "abort"))
                    & ChargingEffect.kiosk_id.in_(kiosks),
                    ChargingEffect.route.in_(("cpo", "receipts"))
                    & (ChargingEffect.claimed_at < cutoff)
                    & (ChargingEffect.claimed_by != runner.worker_id),
                ),
            )
            .order_by(ChargingEffect.id)
        ).all()
    for effect_id, reference, kind in rows:
        report.interrupted.append(f"{reference}: {kind}")
        log.warning("recovering interrupted %s of %s", kind, reference)
        if kind in TERMINAL_COMMANDS:
            event: ev.Event = ev.TerminalUncertain("interrupted by a restart")
            runner.apply(reference, event, done_effect=effect_id)
        elif kind == "StartSession":
            event = ev.CommandResponded(ev.Command.START_SESSION, None, error="interrupted")
            runner.apply(reference, event, done_effect=effect_id)
        elif kind == "AbortPayment":
            runner.record_outcome(effect_id, "interrupted; the payment's own outcome decides")
        else:
            _requeue(runner, effect_id)


def _requeue(runner: Runner, effect_id: int) -> None:
    with runner.database.session() as session:
        session.execute(
            sa.update(ChargingEffect)
            .where(ChargingEffect.id == effect_id)
            .values(status="pending", claimed_by=None, claimed_at=None)
        )
        session.commit()


def expire_unperformed_payments(runner: Runner, kiosks: list[str], report: RecoveryReport) -> None:
    cutoff = runner.clock() - STALE_PAYMENT
    with runner.database.session() as session:
        rows = session.execute(
            sa.select(ChargingEffect.id, ChargingEffect.reference).where(
                ChargingEffect.status == "pending",
                ChargingEffect.kind == "Preauthorise",
                ChargingEffect.kiosk_id.in_(kiosks),
                ChargingEffect.created_at < cutoff,
            )
        ).all()
    for effect_id, reference in rows:
        if runner.claim(effect_id):
            report.expired_payments.append(reference)
            event = ev.PreauthDeclined(ev.DeclineOutcome.TERMINAL_NOT_READY, None, "expired")
            runner.apply(reference, event, done_effect=effect_id)


def _look_back_to(runner: Runner) -> datetime:
    """The oldest unfinished transaction, and at least LOOK_BACK (late ghost sessions)."""
    window = runner.clock() - LOOK_BACK
    with runner.database.session() as session:
        oldest = session.scalar(
            sa.select(sa.func.min(ChargingTransaction.created_at)).where(
                ChargingTransaction.state.not_in([str(s) for s in FINAL])
            )
        )
    if oldest is None:
        return window
    return min(window, oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC))


def catch_up_with_cpo(runner: Runner, report: RecoveryReport) -> None:
    since = _look_back_to(runner)
    cpo = runner.ports.cpo
    try:
        sessions = cpo.get_sessions(since)
        cdrs = cpo.get_cdrs(since)
    except Exception as exc:  # the CPO may be down; the next round tries again
        log.warning("recovery could not reach the CPO: %s", exc)
        return
    for remote in sessions:
        tx = _ours(runner, remote.authorization_reference)
        if tx is not None and (tx.session_id, tx.session_status, tx.kwh) != (
            remote.session_id,
            remote.status,
            remote.kwh,
        ):
            runner.apply(tx.reference, runner.session_event(tx, remote))
            report.sessions_fed += 1
    for cdr in cdrs:
        tx = _ours(runner, cdr.authorization_reference)
        known = tx is not None and (
            cdr.cdr_id == tx.cdr_id or any(c.cdr_id == cdr.cdr_id for c in tx.credits)
        )
        if tx is not None and not known:
            runner.apply(tx.reference, runner.cdr_event(tx, cdr))
            report.cdrs_fed += 1


def _ours(runner: Runner, reference: str) -> TxState | None:
    """Our transaction for a CPO object. Final ones too: a session the CPO started after we
    released the hold must still be stopped, a CDR after a release still flagged."""
    try:
        return runner.load(reference)
    except UnknownTransaction:
        return None


def release_orphan_holds(runner: Runner, kiosk_id: str, report: RecoveryReport) -> None:
    """Match the terminal's open pre-authorisations to transactions; release the orphans."""
    terminal = runner.ports.terminals[kiosk_id]
    try:
        open_holds = terminal.open_preauthorisations()
    except Exception as exc:
        log.warning("recovery could not ask terminal of %s: %s", kiosk_id, exc)
        return
    for hold in open_holds:
        with runner.database.session() as session:
            row = session.scalar(
                sa.select(ChargingTransaction).where(
                    ChargingTransaction.reference == hold.reference
                )
            )
            tx = codec.load(TxState, row.snapshot) if row is not None else None
        if tx is not None and tx.state not in FINAL:
            if tx.state == State.AUTHORISING and tx.uncertain:
                runner.apply(tx.reference, ev.HoldChecked(runner.reservation(hold)))
            continue  # a live transaction owns it and settles it
        if tx is not None:
            # The machine decides (release it, or flag it when it was captured) and logs it
            # on the transaction's timeline.
            runner.apply(tx.reference, ev.OpenHoldFound(runner.reservation(hold)))
            continue
        log.warning(
            "releasing orphan hold %s (%s) on %s", hold.receipt_no, hold.reference, kiosk_id
        )
        try:
            terminal.release(hold)
        except Exception as exc:
            log.warning("orphan hold %s not released: %s", hold.receipt_no, exc)
            continue
        report.orphan_holds_released.append(hold.receipt_no)
