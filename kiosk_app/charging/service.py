"""The engine's API for the kiosk and operator views and for the OCPI receiver.

Views never call a port: they call this service, which records events through the runner; the
worker performs the resulting effects. Every method commits its own database transaction.
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk_app.charging import closing, codec, money
from kiosk_app.charging import events as ev
from kiosk_app.charging.ports import Ports, RemoteCdr, RemoteSession
from kiosk_app.charging.runner import EventOf, EvseBusy, Runner, UnknownTransaction, card_hash
from kiosk_app.charging.states import (
    FINAL,
    Policy,
    State,
    TimerKind,
    TxState,
)
from kiosk_app.config import ChargingConfig, Config
from kiosk_app.models.charging import ChargingEvent, ChargingTransaction

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed on glass
CODE_LENGTH = 6
FIND_WINDOW = timedelta(hours=48)


class NotServed(LookupError):
    """This kiosk does not serve that EVSE (or the kiosk is unknown)."""


class RefundRefused(ValueError):
    """A refund that cannot be recorded; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NoCardRead(LookupError):
    """The kiosk's terminal read no card: none was presented in time, the terminal refused or
    did not answer, or it is busy or driven by another worker process."""


@dataclass(frozen=True)
class DisplayLine:
    seq: int
    key: str  # translatable message key, e.g. "terminal.insert_card", "failure.no_plugin"
    text: str  # the terminal's own text, when it sent one
    at: datetime


@dataclass(frozen=True)
class StatusView:
    """What the kiosk screen shows; poll with `since=cursor` to get only new lines."""

    reference: str
    state: State
    final: bool
    cursor: int
    lines: list[DisplayLine]
    currency: str
    hold_minor: int  # held on the card (or to be held, before payment)
    cost_minor: int | None  # cost so far; the captured amount once settled
    hold_remaining_minor: int | None
    kwh: Decimal
    power_kw: Decimal | None
    duration_s: int | None
    session_code: str
    plugin_deadline: datetime | None
    receipt_link: str | None
    receipt_number: str | None
    voucher_number: str | None  # the "nothing charged, hold released" voucher
    failure: str | None  # reason key when the hold was released or the payment declined
    card_brand: str
    card_last4: str


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the operator's timeline of a transaction."""

    seq: int
    at: datetime
    category: str  # event | effect (an intent) | outcome | notify | flag
    kind: str  # event or effect class, display key or flag reason
    source: str  # kiosk | operator | terminal | cpo | receipts | timer | engine
    actor: str  # the operator's name for operator actions
    state_after: str
    details: dict[str, Any]


def load_timeline(session: Session, reference: str) -> list[TimelineEntry]:
    """A transaction's timeline read in the caller's database session. UnknownTransaction."""
    rows = session.scalars(
        sa.select(ChargingEvent)
        .join(ChargingTransaction)
        .where(ChargingTransaction.reference == reference)
        .order_by(ChargingEvent.seq)
    ).all()
    if not rows:
        raise UnknownTransaction(reference)
    return [
        TimelineEntry(
            r.seq, r.created_at, r.category, r.kind, r.source, r.actor, r.state_after, r.payload
        )
        for r in rows
    ]


def policy_from(config: ChargingConfig) -> Policy:
    """The policy of a new transaction: the `[charging]` keys of the same names."""
    return codec.load(Policy, {f.name: getattr(config, f.name) for f in dataclasses.fields(Policy)})


class ChargingService:
    def __init__(
        self,
        runner: Runner,
        config: Config,
        ports: Ports,
        card_reader: Callable[[str, int], str | None] | None = None,
    ) -> None:
        self.runner = runner
        self.config = config
        self.ports = ports
        self.database = runner.database
        # Reads a card on a kiosk's terminal: the in-process worker's `read_card`.
        self.card_reader = card_reader

    # --- the driver --------------------------------------------------------------------------

    def select_evse(self, kiosk_id: str, evse_uid: str, language: str) -> str:
        """Open a transaction for `evse_uid`; its reference. NotServed, EvseBusy."""
        kiosk = next((k for k in self.config.kiosks if k.id == kiosk_id), None)
        if kiosk is None or (kiosk.evses and evse_uid not in kiosk.evses):
            raise NotServed(f"kiosk {kiosk_id!r} does not serve EVSE {evse_uid!r}")
        evse = self.ports.directory.evse(kiosk_id, evse_uid)
        if evse is None:
            raise NotServed(f"EVSE {evse_uid!r} is unknown")
        if not evse.available:
            raise EvseBusy(evse_uid)
        self._cancel_unpaid(evse_uid)
        terminal = self.config.terminal
        currency = evse.currency or terminal.currency
        hold = self.ports.pricing.hold_amount_minor(
            evse,
            money.to_minor(terminal.default_hold, currency),
            money.to_minor(terminal.maximum_hold, currency),
        )
        hold = min(hold, money.to_minor(terminal.maximum_hold, currency))
        tx = TxState(
            reference=uuid.uuid4().hex,
            kiosk_id=kiosk_id,
            evse_uid=evse_uid,
            location_id=evse.location_id,
            connector_id=evse.connector_id,
            currency=currency,
            hold_minor=hold,
            created_at=self.runner.clock(),
            policy=policy_from(self.config.charging),
            language=language,
            advice_required=self.config.charging.financial_advice,
        )
        self.runner.create(tx, self._new_code(kiosk_id))
        return tx.reference

    def pay(self, reference: str) -> None:
        """Start the payment; a second tap does nothing."""
        self.runner.apply(reference, ev.Pay())

    def cancel(self, reference: str) -> None:
        self.runner.apply(reference, ev.Cancel())

    def stop(self, reference: str) -> None:
        self.runner.apply(reference, ev.Stop())

    def status(self, reference: str, since: int = 0) -> StatusView:
        with self.database.reading() as session:
            row = session.scalar(
                sa.select(ChargingTransaction).where(ChargingTransaction.reference == reference)
            )
            if row is None:
                raise UnknownTransaction(reference)
            lines = session.scalars(
                sa.select(ChargingEvent)
                .where(
                    ChargingEvent.transaction_id == row.id,
                    ChargingEvent.category == "notify",
                    ChargingEvent.seq > since,
                )
                .order_by(ChargingEvent.seq)
            ).all()
            tx = codec.load(TxState, row.snapshot)
            code, cursor = row.session_code, row.last_seq
        return _view(tx, code, cursor, lines, self.runner.clock())

    def timeline(self, reference: str) -> list[TimelineEntry]:
        """Everything that happened to a transaction, in order, for the operator."""
        with self.database.session() as session:
            return load_timeline(session, reference)

    def find_by_code(self, kiosk_id: str, code: str) -> str | None:
        """The recent transaction with this session code at this kiosk, if any."""
        return self._find(
            kiosk_id, ChargingTransaction.session_code == code.strip().upper().replace(" ", "")
        )

    def find_by_presented_card(self, kiosk_id: str, timeout_s: int = 30) -> str | None:
        """Ask the driver to present their card again; the transaction it paid, if any.

        Raises NoCardRead when the terminal read no card, so that the driver is told to try
        again rather than that their card paid for nothing here."""
        reference = self.card_reader(kiosk_id, timeout_s) if self.card_reader else None
        if not reference:
            raise NoCardRead(f"no card read on the terminal of {kiosk_id}")
        return self.find_by_card(kiosk_id, reference)

    def find_by_card(self, kiosk_id: str, card_reference: str) -> str | None:
        """The recent transaction paid at this kiosk with the card the terminal just read."""
        if not card_reference:
            return None
        digest = card_hash(self.runner.card_salt, card_reference)
        return self._find(kiosk_id, ChargingTransaction.card_hash == digest)

    # --- operators ---------------------------------------------------------------------------

    def retry_capture(self, reference: str, operator: str) -> State:
        return self.runner.apply(reference, ev.OperatorRetryCapture(operator), actor=operator).state

    def release_hold(self, reference: str, operator: str) -> State:
        return self.runner.apply(reference, ev.OperatorRelease(operator), actor=operator).state

    def stop_session(self, reference: str, operator: str) -> State:
        return self.runner.apply(reference, ev.OperatorStop(operator), actor=operator).state

    def mark_reviewed(self, reference: str, operator: str, note: str = "") -> State:
        event = ev.OperatorMarkReviewed(operator, note)
        return self.runner.apply(reference, event, actor=operator).state

    def record_refund(
        self, reference: str, operator: str, amount_minor: int, acquirer_reference: str
    ) -> TxState:
        """Record a refund the operator executed at the acquirer; the driver then gets a credit
        note. RefundRefused when that much is not due, or the acquirer's reference is missing or
        already recorded (a second submit of the same refund)."""
        acquirer_reference = acquirer_reference.strip()
        if not acquirer_reference:
            raise RefundRefused("acquirer_reference", "the acquirer's reference is required")
        tx = self.runner.load(reference)
        if any(p.acquirer_reference == acquirer_reference for p in tx.refund_payments):
            raise RefundRefused("acquirer_reference", "this refund is recorded already")
        if not 0 < amount_minor <= tx.refund_due_minor:
            raise RefundRefused(
                "amount", f"must be more than 0 and at most the {tx.refund_due_minor} due"
            )
        event = ev.OperatorRecordRefund(operator, amount_minor, acquirer_reference)
        tx = self.runner.apply(reference, event, actor=operator)
        if not any(p.acquirer_reference == acquirer_reference for p in tx.refund_payments):
            # Another operator recorded a refund meanwhile; the machine refused this one.
            raise RefundRefused("amount", f"must be at most the {tx.refund_due_minor} due")
        return tx

    def end_of_day(self, kiosk_id: str, operator: str) -> int:
        """Ask for the end-of-day of `kiosk_id`'s terminal; the worker driving it performs it.
        Returns the id of the `TerminalClosing` that will hold the result. NotServed."""
        if kiosk_id not in self.ports.terminals:
            raise NotServed(f"kiosk {kiosk_id!r} has no terminal")
        closing_id = closing.request(self.database, kiosk_id, operator, self.runner.clock())
        self.runner.on_intent({("terminal", kiosk_id)})
        return closing_id

    # --- the CPO's pushes (called by the OCPI receiver) ---------------------------------------

    # Each takes `within`: the receiver's open database transaction, so that the push and the
    # engine's event are committed together (the caller commits); without it, one of their own.

    def on_command_result(
        self, reference: str, command: str, result: str, *, within: Session | None = None
    ) -> None:
        event = ev.CommandResultReceived(ev.Command(command), ev.CommandResult(result))
        self._record(reference, lambda _tx: event, within)

    def on_session(
        self,
        reference: str,
        session_id: str,
        status: str,
        kwh: Decimal,
        total_cost: Decimal | None,
        start: datetime | None = None,
        end: datetime | None = None,
        power_kw: Decimal | None = None,
        doc: dict[str, Any] | None = None,
        *,
        within: Session | None = None,
    ) -> None:
        """A Session PUT/PATCH (`doc`: the OCPI object). Without a total_cost from the CPO, our
        own live price of `doc` is shown."""
        remote = RemoteSession(
            reference, session_id, status, kwh, total_cost, start, end, power_kw, doc
        )
        self._record(reference, lambda tx: self.runner.session_event(tx, remote), within)

    def on_cdr(self, cdr: RemoteCdr, *, within: Session | None = None) -> None:
        """A CDR (or credit CDR), priced by us for the cross-check."""
        reference = cdr.authorization_reference
        self._record(reference, lambda tx: self.runner.cdr_event(tx, cdr), within)

    def _record(self, reference: str, event_of: EventOf, within: Session | None) -> None:
        if within is not None:
            self.runner.apply_within(within, reference, event_of)
            return
        with self.database.session() as session:
            self.runner.apply_within(session, reference, event_of)
            session.commit()

    # --- helpers -----------------------------------------------------------------------------

    def _cancel_unpaid(self, evse_uid: str) -> None:
        """A driver who chose this EVSE and walked away before paying does not block it."""
        with self.database.session() as session:
            stale = session.scalars(
                sa.select(ChargingTransaction.reference).where(
                    ChargingTransaction.evse_uid == evse_uid,
                    ChargingTransaction.state == str(State.SELECTED),
                )
            ).all()
        for reference in stale:
            self.runner.apply(reference, ev.Cancel())

    def _new_code(self, kiosk_id: str) -> str:
        with self.database.session() as session:
            for _ in range(20):
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                taken = session.scalar(
                    sa.select(sa.func.count()).where(
                        ChargingTransaction.kiosk_id == kiosk_id,
                        ChargingTransaction.session_code == code,
                        ChargingTransaction.created_at >= self.runner.clock() - FIND_WINDOW,
                    )
                )
                if not taken:
                    return code
        raise RuntimeError("no free session code")  # 31^6 codes: does not happen

    def _find(self, kiosk_id: str, condition: sa.ColumnElement[bool]) -> str | None:
        with self.database.session() as session:
            return session.scalar(
                sa.select(ChargingTransaction.reference)
                .where(
                    ChargingTransaction.kiosk_id == kiosk_id,
                    condition,
                    ChargingTransaction.created_at >= self.runner.clock() - FIND_WINDOW,
                )
                .order_by(ChargingTransaction.id.desc())
                .limit(1)
            )


def _view(
    tx: TxState, code: str, cursor: int, lines: list[ChargingEvent], now: datetime
) -> StatusView:
    cost = tx.captured_minor if tx.captures else tx.session_cost_minor
    held = tx.held_minor or tx.hold_minor
    duration = None
    if tx.session_start is not None:
        duration = int(((tx.session_end or now) - tx.session_start).total_seconds())
    card = tx.reservation
    return StatusView(
        reference=tx.reference,
        state=tx.state,
        final=tx.state in FINAL,
        cursor=cursor,
        lines=[DisplayLine(e.seq, e.kind, e.payload.get("text", ""), e.created_at) for e in lines],
        currency=tx.currency,
        hold_minor=held,
        cost_minor=cost,
        hold_remaining_minor=None if cost is None else max(held - cost, 0),
        kwh=tx.kwh,
        power_kw=tx.power_kw,
        duration_s=duration,
        session_code=code,
        plugin_deadline=tx.timer_due(TimerKind.PLUGIN),
        receipt_link=tx.receipt_link,
        receipt_number=tx.receipt_number,
        voucher_number=tx.voucher_number,
        failure=tx.failure,
        card_brand=card.card_brand if card else "",
        card_last4=card.card_last4 if card else "",
    )
