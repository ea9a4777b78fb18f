"""The runner: intent, act, record.

`apply` loads a transaction, runs the pure machine, and commits in ONE database transaction:
the new snapshot (checked against its version: optimistic locking), the event, the display
lines and flags, the timers, and an intent row for every effect that needs a port (the outbox).
Only then does anyone act: `perform` claims one intent (pending → running, atomically), calls
the port outside any database transaction, and records the outcome as the next event, marking
the intent done in the same commit. A crash between the two leaves a `running` intent, which
recovery resolves (see `recovery.py`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kiosk_app.charging import codec, money
from kiosk_app.charging import effects as fx
from kiosk_app.charging import events as ev
from kiosk_app.charging.machine import transition
from kiosk_app.charging.ports import (
    CpoUnavailable,
    Declined,
    NoAnswer,
    Ports,
    RemoteCdr,
    RemoteSession,
    TerminalReservation,
)
from kiosk_app.charging.states import OCCUPYING, Reservation, Timer, TxState
from kiosk_app.db import Database, after_commit
from kiosk_app.models.charging import (
    ChargingEffect,
    ChargingEvent,
    ChargingTimer,
    ChargingTransaction,
)

log = logging.getLogger(__name__)

EFFECT_TYPES: dict[str, type[fx.Effect]] = {
    cls.__name__: cls
    for cls in (
        fx.Preauthorise,
        fx.AbortPayment,
        fx.Capture,
        fx.Release,
        fx.CheckHold,
        fx.StartSession,
        fx.StopSession,
        fx.SendAdvice,
        fx.IssueReceipt,
        fx.IssueVoucher,
        fx.IssueCreditNote,
    )
}
OPTIMISTIC_RETRIES = 8
# Where new intents wait: (route, kiosk id) of each.
Targets = set[tuple[str, str]]
# An event that depends on the transaction's state (its currency, its tariff), made from it.
EventOf = Callable[[TxState], ev.Event]
T = TypeVar("T")


class EvseBusy(Exception):
    """Another transaction occupies the EVSE."""


class UnknownTransaction(LookupError):
    """No transaction has this reference."""


def is_write_conflict(exc: Exception) -> bool:
    """A lost optimistic check, or a PostgreSQL deadlock/serialisation failure: retry."""
    if isinstance(exc, StaleDataError):
        return True
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in ("40P01", "40001")


def _retried(reference: str, attempt: Callable[[], T]) -> T:
    """`attempt()`, again from a fresh read when another writer got first."""
    for _ in range(OPTIMISTIC_RETRIES):
        try:
            return attempt()
        except (StaleDataError, sa.exc.DBAPIError) as exc:
            if not is_write_conflict(exc):
                raise
    raise RuntimeError(f"{reference}: too many concurrent writers")


def utcnow() -> datetime:
    return datetime.now(UTC)


def card_hash(salt: str, card_reference: str) -> str:
    """The salted hash by which a driver finds their session again with the same card."""
    return hmac.new(salt.encode(), card_reference.encode(), hashlib.sha256).hexdigest()


class Runner:
    """Applies events to persisted transactions and performs their effects through the ports."""

    def __init__(
        self,
        database: Database,
        ports: Ports,
        *,
        card_salt: str,
        clock: Callable[[], datetime] = utcnow,
        worker_id: str = "local",
    ) -> None:
        self.database = database
        self.ports = ports
        self.card_salt = card_salt
        self.clock = clock
        self.worker_id = worker_id
        # Called after a commit that left intents to perform, with each one's (route, kiosk
        # id): the worker wakes the loops that serve them.
        self.on_intent: Callable[[Targets], None] = lambda _targets: None

    # --- persistence -------------------------------------------------------------------------

    def create(self, tx: TxState, session_code: str) -> None:
        """Persist a new transaction; EvseBusy when the EVSE is occupied."""
        with self.database.session() as session:
            row = ChargingTransaction(
                reference=tx.reference,
                kiosk_id=tx.kiosk_id,
                evse_uid=tx.evse_uid,
                location_id=tx.location_id,
                connector_id=tx.connector_id,
                currency=tx.currency,
                hold_minor=tx.hold_minor,
                session_code=session_code,
                created_at=tx.created_at,
                **_projection(tx),
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError as exc:  # the partial unique index on occupied EVSEs
                raise EvseBusy(tx.evse_uid) from exc
            payload = {"hold_minor": tx.hold_minor, "currency": tx.currency}
            line = _line(row, tx.created_at, "event", "Created", "kiosk", "", payload, tx)
            _insert(session, _EVENTS, [line])
            session.commit()

    def load(self, reference: str) -> TxState:
        with self.database.read_connection() as connection:
            return codec.load(TxState, _head(connection, reference).snapshot)

    def apply(
        self, reference: str, event: ev.Event, *, actor: str = "", done_effect: int | None = None
    ) -> TxState:
        """Apply `event` and commit; retried from a fresh read when another writer got first."""
        return self.apply_all(reference, (event,), actor=actor, done_effect=done_effect)

    def apply_all(
        self,
        reference: str,
        events: Sequence[ev.Event],
        *,
        actor: str = "",
        done_effect: int | None = None,
    ) -> TxState:
        """Apply `events` in order and commit them together: one commit, one row lock."""

        def attempt() -> tuple[TxState, Targets]:
            with self.database.session() as session:
                applied = self.apply_in(session, reference, events, actor, done_effect)
                session.commit()
                return applied

        tx, targets = _retried(reference, attempt)
        if targets:
            self.on_intent(targets)
        return tx

    def apply_within(self, session: Session, reference: str, event_of: EventOf) -> TxState:
        """Apply the event `event_of` makes of the transaction (as read under its row lock)
        inside the caller's open database transaction, under a savepoint (so that a failure
        rolls back this step alone); the caller commits. The loops that serve the new intents
        are woken once it has."""

        def attempt() -> tuple[TxState, Targets]:
            with session.begin_nested(), self.database.reads_through(session):
                return self.apply_in(session, reference, event_of)

        tx, targets = _retried(reference, attempt)
        if targets:
            after_commit(session, lambda: self.on_intent(targets))
        return tx

    def apply_in(
        self,
        session: Session,
        reference: str,
        events: ev.Event | Sequence[ev.Event] | EventOf,
        actor: str = "",
        done_effect: int | None = None,
    ) -> tuple[TxState, Targets]:
        """Apply `events` (one or several, in order; or the one a function makes of the
        transaction) inside the caller's database transaction; return the new state and the
        (route, kiosk id) of the effect intents they recorded."""
        row = _head(session.connection(), reference, lock=True)
        tx = codec.load(TxState, row.snapshot)
        if callable(events):
            events = events(tx)
        timers = tx.timers
        now = self.clock()
        lines: list[dict[str, Any]] = []
        intents: list[dict[str, Any]] = []
        for event in (events,) if isinstance(events, ev.Event) else events:
            tx, effects = transition(tx, event, now)
            name, payload = type(event).__name__, codec.dump(event)
            lines.append(_line(row, now, "event", name, event.source, actor, payload, tx))
            intents += _record_effects(row, now, effects, tx, lines)
        # Core statements, one each: the engine never needs these rows as ORM objects.
        _write_row(session, row, _projection(tx))
        _insert(session, _EVENTS, lines)
        _insert(session, _EFFECTS, intents)
        _sync_timers(session, row, timers, tx.timers)
        if done_effect is not None:
            _finish(session, done_effect, now)
        return tx, {(i["route"], i["kiosk_id"]) for i in intents}

    def record_outcome(self, effect_id: int, note: str) -> None:
        """An effect whose outcome the machine need not see: log it and mark it done."""
        with self.database.session() as session:
            intent = _intent(session, effect_id)
            row = _head(session.connection(), intent.reference, lock=True)
            tx = codec.load(TxState, row.snapshot)
            now = self.clock()
            line = _line(row, now, "outcome", intent.kind, "engine", "", {"note": note}, tx)
            _write_row(session, row, {})
            _insert(session, _EVENTS, [line])
            _finish(session, effect_id, now)
            session.commit()

    # --- acting ------------------------------------------------------------------------------

    def pending(self, routes: Iterable[str], kiosks: Iterable[str] | None = None) -> list[int]:
        """Ids of intents not yet claimed, oldest first."""
        query, params = _PENDING, {"routes": list(routes)}
        if kiosks is not None:
            query, params = _PENDING_AT, params | {"kiosks": list(kiosks)}
        with self.database.read_connection() as connection:
            return list(connection.execute(query, params).scalars())

    def claim(self, effect_id: int) -> bool:
        """pending → running, atomically: exactly one caller wins."""
        with self.database.session() as session:
            won = self._claim_in(session, effect_id)
            session.commit()
            return won

    def _claim_in(self, session: Session, effect_id: int) -> bool:
        result = session.connection().execute(
            sa.update(_EFFECTS)
            .where(_EFFECTS.c.id == effect_id, _EFFECTS.c.status == "pending")
            .values(status="running", claimed_by=self.worker_id, claimed_at=self.clock())
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def perform(self, effect_id: int) -> bool:
        """Claim one intent, perform it through its port, record the outcome."""
        # The claim and the read of what to do share one database transaction: the claim is
        # committed (the intent is `running`) before the port is called.
        with self.database.session() as session:
            if not self._claim_in(session, effect_id):
                session.rollback()
                return False
            reference, kind, payload = _intent(session, effect_id)
            tx = codec.load(TxState, _head(session.connection(), reference).snapshot)
            session.commit()
        effect = codec.load(EFFECT_TYPES[kind], payload)
        outcome = _ACTIONS[type(effect)](self, tx, effect)
        if isinstance(outcome, str):
            self.record_outcome(effect_id, outcome)
        else:
            events = outcome if isinstance(outcome, tuple) else (outcome,)
            self.apply_all(reference, events, done_effect=effect_id)
        return True

    def drain(self, routes: Iterable[str] = ("terminal", "abort", "cpo", "receipts")) -> int:
        """Perform every pending intent (and those they lead to) in order; for tests and CLI."""
        done = 0
        routes = tuple(routes)
        while ids := self.pending(routes):
            for effect_id in ids:
                done += self.perform(effect_id)
        return done

    def terminal_reservation(self, tx: TxState, reservation: Reservation) -> TerminalReservation:
        return TerminalReservation(
            receipt_no=reservation.receipt_no,
            amount_minor=reservation.amount_minor,
            reference=tx.reference,
            trace_no=reservation.trace_no,
            terminal_id=reservation.terminal_id,
            aid=reservation.aid,
            card_brand=reservation.card_brand,
            auth_code=reservation.auth_code,
            timestamp=reservation.authorised_at,
        )

    def reservation(self, found: TerminalReservation) -> Reservation:
        """The terminal's report, reduced to what we keep: brand, last four, salted hash."""
        last4 = found.masked_pan[-4:] if found.masked_pan[-4:].isdigit() else ""
        return Reservation(
            receipt_no=found.receipt_no,
            amount_minor=found.amount_minor,
            trace_no=found.trace_no,
            terminal_id=found.terminal_id,
            auth_code=found.auth_code,
            aid=found.aid,
            card_brand=found.card_brand,
            card_last4=last4,
            card_hash=card_hash(self.card_salt, found.card_reference)
            if found.card_reference
            else "",
            authorised_at=found.timestamp,
        )

    def session_event(self, tx: TxState, remote: RemoteSession) -> ev.SessionUpdated:
        """A CPO Session as an event; without the CPO's total_cost, our own live price."""
        if remote.total_cost is not None:
            cost = money.to_minor(remote.total_cost, tx.currency)
        else:
            cost = self.ports.pricing.live_cost_minor(tx, remote, self.clock())
        return ev.SessionUpdated(
            remote.session_id,
            ev.SessionStatus(remote.status),
            remote.kwh,
            cost,
            remote.start,
            remote.end,
            remote.power_kw,
        )

    def cdr_event(self, tx: TxState, cdr: RemoteCdr) -> ev.CdrReceived:
        """A CDR as an event, priced by our own tariff engine for the cross-check."""
        ours = None if cdr.credit else self.ports.pricing.price_cdr_minor(tx, cdr)
        return ev.CdrReceived(
            cdr.cdr_id,
            money.to_minor(cdr.total_cost, tx.currency),
            cdr.total_energy,
            cdr.credit,
            cdr.credit_reference_id,
            ours,
        )

    def find_open_hold(self, tx: TxState) -> TerminalReservation | None:
        """Our pre-authorisation among the terminal's open ones, by our reference."""
        terminal = self.ports.terminals[tx.kiosk_id]
        return next(
            (r for r in terminal.open_preauthorisations() if r.reference == tx.reference), None
        )


# --- the actions, one per effect type: call the port, translate the answer into an event ------

Outcome = ev.Event | str


def _preauthorise(runner: Runner, tx: TxState, effect: fx.Preauthorise) -> Outcome:
    def on_status(code: int, key: str, text: str) -> None:
        runner.apply(tx.reference, ev.TerminalStatus(code, key, text))

    if tx.cancel_requested:  # the driver cancelled before the terminal was even asked
        return ev.PreauthDeclined(ev.DeclineOutcome.CUSTOMER_ABORT_OR_TIMEOUT, None, "cancelled")
    terminal = runner.ports.terminals[tx.kiosk_id]
    try:
        found = terminal.preauthorise(
            effect.amount_minor, effect.currency, effect.reference, on_status
        )
    except Declined as exc:
        return ev.PreauthDeclined(exc.outcome, exc.result_code, exc.text)
    except Exception as exc:  # no answer, or a fault we cannot read: the outcome is unknown
        return _uncertain(exc)
    return ev.PreauthApproved(runner.reservation(found))


def _uncertain(exc: Exception) -> ev.TerminalUncertain:
    if not isinstance(exc, NoAnswer):
        log.exception("terminal command failed unexpectedly")
    return ev.TerminalUncertain(f"{type(exc).__name__}: {exc}")


def _capture(runner: Runner, tx: TxState, effect: fx.Capture) -> Outcome:
    assert tx.reservation is not None
    terminal = runner.ports.terminals[tx.kiosk_id]
    try:
        terminal.capture(runner.terminal_reservation(tx, tx.reservation), effect.amount_minor)
    except Declined as exc:
        return ev.CaptureFailed(exc.result_code, exc.text)
    except Exception as exc:
        return _uncertain(exc)
    return ev.Captured(effect.amount_minor)


def _release(runner: Runner, tx: TxState, effect: fx.Release) -> Outcome:
    terminal = runner.ports.terminals[tx.kiosk_id]
    own = tx.reservation is None or effect.receipt_no in (None, tx.reservation.receipt_no)
    try:
        if effect.receipt_no is None:
            target = runner.find_open_hold(tx)
            if target is None:
                return ev.Released()  # nothing open under our reference: nothing to release
        else:
            target = TerminalReservation(effect.receipt_no, effect.held_minor, tx.reference)
            if own and tx.reservation is not None:
                target = runner.terminal_reservation(tx, tx.reservation)
        terminal.release(target)
    except Declined as exc:
        return ev.ReleaseFailed(exc.result_code, exc.text) if own else f"failed: {exc}"
    except Exception as exc:
        return _uncertain(exc) if own else f"unknown: {exc}"
    return ev.Released() if own else f"released second hold {effect.receipt_no}"


def _check_hold(runner: Runner, tx: TxState, _effect: fx.CheckHold) -> Outcome:
    try:
        found = runner.find_open_hold(tx)
    except Exception as exc:
        return _uncertain(exc)
    return ev.HoldChecked(runner.reservation(found) if found else None)


def _abort(runner: Runner, tx: TxState, _effect: fx.AbortPayment) -> Outcome:
    try:
        runner.ports.terminals[tx.kiosk_id].abort()
    except Exception as exc:  # the running payment's own answer tells what happened
        return f"abort not delivered: {exc}"
    return "abort sent"


def _command(command: ev.Command, call: Callable[[], Any]) -> Outcome:
    try:
        response = call()
    except Exception as exc:
        if not isinstance(exc, CpoUnavailable):
            log.exception("%s failed unexpectedly", command)
        return ev.CommandResponded(command, None, error=f"{type(exc).__name__}: {exc}")
    return ev.CommandResponded(command, response.result, response.timeout_s)


def _start_session(runner: Runner, tx: TxState, e: fx.StartSession) -> Outcome:
    cpo = runner.ports.cpo
    return _command(
        ev.Command.START_SESSION,
        lambda: cpo.start_session(
            e.reference, e.location_id, e.evse_uid, e.connector_id, e.reference
        ),
    )


def _stop_session(runner: Runner, tx: TxState, e: fx.StopSession) -> Outcome:
    cpo = runner.ports.cpo
    return _command(ev.Command.STOP_SESSION, lambda: cpo.stop_session(e.session_id, e.reference))


def _send_advice(runner: Runner, tx: TxState, e: fx.SendAdvice) -> Outcome:
    try:
        runner.ports.cpo.send_advice(e.reference, e.amount_minor, tx.currency)
    except Exception as exc:
        return ev.AdviceFailed(f"{type(exc).__name__}: {exc}")
    return ev.AdviceSent()


def _issue_receipt(runner: Runner, tx: TxState, _e: fx.IssueReceipt) -> Outcome:
    try:
        receipt = runner.ports.receipts.issue_receipt(tx)
    except Exception as exc:
        log.exception("receipt for %s failed", tx.reference)
        return ev.ReceiptFailed(f"{type(exc).__name__}: {exc}")
    return ev.ReceiptIssued(receipt.number, receipt.link, receipt.total_minor)


def _issue_voucher(runner: Runner, tx: TxState, _e: fx.IssueVoucher) -> Outcome:
    try:
        return ev.VoucherIssued(runner.ports.receipts.issue_voucher(tx))
    except Exception as exc:
        log.exception("voucher for %s failed", tx.reference)
        return ev.VoucherFailed(f"{type(exc).__name__}: {exc}")


def _issue_credit_note(runner: Runner, tx: TxState, e: fx.IssueCreditNote) -> Outcome:
    try:
        number = runner.ports.receipts.issue_credit_note(tx, e.index, e.amount_minor)
    except Exception as exc:
        log.exception("credit note for %s failed", tx.reference)
        return ev.CreditNoteFailed(e.index, f"{type(exc).__name__}: {exc}")
    return ev.CreditNoteIssued(e.index, number)


_ACTIONS: dict[type[fx.Effect], Callable[[Runner, TxState, Any], Outcome]] = {
    fx.Preauthorise: _preauthorise,
    fx.Capture: _capture,
    fx.Release: _release,
    fx.CheckHold: _check_hold,
    fx.AbortPayment: _abort,
    fx.StartSession: _start_session,
    fx.StopSession: _stop_session,
    fx.SendAdvice: _send_advice,
    fx.IssueReceipt: _issue_receipt,
    fx.IssueVoucher: _issue_voucher,
    fx.IssueCreditNote: _issue_credit_note,
}


# --- rows ------------------------------------------------------------------------------------


_TRANSACTIONS = ChargingTransaction.__table__
_EVENTS = ChargingEvent.__table__
_EFFECTS = ChargingEffect.__table__
_TIMERS = ChargingTimer.__table__


@dataclasses.dataclass
class _Head:
    """What a step needs of the transaction's row: who it is, the state, the numbering."""

    id: int
    reference: str
    kiosk_id: str
    snapshot: dict[str, Any]
    last_seq: int
    version: int


_HEAD = sa.select(
    _TRANSACTIONS.c.id,
    _TRANSACTIONS.c.reference,
    _TRANSACTIONS.c.kiosk_id,
    _TRANSACTIONS.c.snapshot,
    _TRANSACTIONS.c.last_seq,
    _TRANSACTIONS.c.version,
).where(_TRANSACTIONS.c.reference == sa.bindparam("reference"))
_INTENT = sa.select(_EFFECTS.c.reference, _EFFECTS.c.kind, _EFFECTS.c.payload).where(
    _EFFECTS.c.id == sa.bindparam("id")
)


_PENDING = (
    sa.select(_EFFECTS.c.id)
    .where(_EFFECTS.c.status == "pending", _EFFECTS.c.route.in_(sa.bindparam("routes")))
    .order_by(_EFFECTS.c.id)
)
_PENDING_AT = _PENDING.where(_EFFECTS.c.kiosk_id.in_(sa.bindparam("kiosks")))


def _head(connection: sa.Connection, reference: str, lock: bool = False) -> _Head:
    """The transaction's row; with `lock`, writers queue on it (PostgreSQL row lock; SQLite
    serialises writers anyway). The version column still guards against a lost update."""
    query = _HEAD.with_for_update() if lock else _HEAD
    found = connection.execute(query, {"reference": reference}).first()
    if found is None:
        raise UnknownTransaction(reference)
    return _Head(*found)


def _intent(session: Session, effect_id: int) -> sa.Row:
    found = session.connection().execute(_INTENT, {"id": effect_id}).first()
    assert found is not None
    return found


def _write_row(session: Session, row: _Head, values: dict[str, Any]) -> None:
    """Update the transaction's row from the version read; StaleDataError when another writer
    changed it meanwhile (the caller retries from a fresh read)."""
    result = session.connection().execute(
        sa.update(_TRANSACTIONS)
        .where(_TRANSACTIONS.c.id == row.id, _TRANSACTIONS.c.version == row.version)
        .values(last_seq=row.last_seq, version=row.version + 1, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleDataError(f"transaction {row.reference} was changed by another writer")


def _projection(tx: TxState) -> dict[str, Any]:
    """The queryable parts of the snapshot, by column, and the snapshot itself."""
    values: dict[str, Any] = {
        "state": str(tx.state),
        "occupies_evse": tx.state in OCCUPYING,
        "held_minor": tx.held_minor,
        "captured_minor": tx.captured_minor,
        "released_minor": tx.released_minor,
        "ocpi_session_id": tx.session_id,
        "cdr_id": tx.cdr_id,
        "cross_check": tx.cross_check,
        "review_flags": ",".join(tx.review_flags)[:255],
        "needs_review": bool(tx.review_flags),
        "receipt_number": tx.receipt_number,
        "refund_due_minor": tx.refund_due_minor,
        "snapshot": codec.dump(tx),
        "updated_at": tx.updated_at or tx.created_at,
    }
    if tx.reservation is not None:
        values["card_brand"] = tx.reservation.card_brand[:32]
        values["card_last4"] = tx.reservation.card_last4
        values["card_hash"] = tx.reservation.card_hash
    return values


def _record_effects(
    row: _Head,
    now: datetime,
    effects: Iterable[fx.Effect],
    tx: TxState,
    lines: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Add display lines and flags to `lines`; an intent row (and its line) for every effect
    that needs a port."""
    intents = []
    for effect in effects:
        if isinstance(effect, fx.Notify):
            text = {"text": effect.text}
            lines.append(_line(row, now, "notify", effect.key, "engine", "", text, tx))
        elif isinstance(effect, fx.FlagForReview):
            lines.append(_line(row, now, "flag", effect.reason, "engine", "", {}, tx))
            log.warning("transaction %s flagged for review: %s", row.reference, effect.reason)
        elif effect.route != "db":
            payload = codec.dump(effect)
            kind = type(effect).__name__
            lines.append(_line(row, now, "effect", kind, "engine", "", payload, tx))
            intents.append(
                {
                    "transaction_id": row.id,
                    "reference": row.reference,
                    "kiosk_id": row.kiosk_id,
                    "route": effect.route,
                    "kind": kind,
                    "payload": payload,
                    "status": "pending",
                    "created_at": now,
                }
            )
    return intents


def _line(
    row: _Head | ChargingTransaction,
    at: datetime,
    category: str,
    kind: str,
    source: str,
    actor: str,
    payload: dict[str, Any],
    tx: TxState,
) -> dict[str, Any]:
    """The next timeline row of the transaction (numbered here, inserted by `_insert`)."""
    row.last_seq = (row.last_seq or 0) + 1
    return {
        "transaction_id": row.id,
        "seq": row.last_seq,
        "category": category,
        "kind": kind,
        "source": source,
        "actor": actor,
        "payload": payload,
        "state_after": str(tx.state),
        "created_at": at,
    }


def _insert(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """One statement for a step's rows of `table` (an executemany: nothing is read back)."""
    if rows:
        session.connection().execute(sa.insert(table), rows)


def _sync_timers(
    session: Session, row: _Head, old: tuple[Timer, ...], new: tuple[Timer, ...]
) -> None:
    """Make the timer rows match the machine's timers (a fired timer is simply gone)."""
    if old == new:
        return
    keep = {(t.kind, t.due_at) for t in new}
    gone = [str(t.kind) for t in old if (t.kind, t.due_at) not in keep]
    if gone:
        session.connection().execute(
            sa.delete(_TIMERS).where(_TIMERS.c.transaction_id == row.id, _TIMERS.c.kind.in_(gone))
        )
    before = {(t.kind, t.due_at) for t in old}
    added = [
        {"transaction_id": row.id, "kind": str(timer.kind), "due_at": timer.due_at}
        for timer in new
        if (timer.kind, timer.due_at) not in before
    ]
    _insert(session, _TIMERS, added)


def _finish(session: Session, effect_id: int, now: datetime) -> None:
    session.connection().execute(
        sa.update(_EFFECTS).where(_EFFECTS.c.id == effect_id).values(status="done", done_at=now)
    )
