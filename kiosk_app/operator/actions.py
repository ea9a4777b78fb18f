"""Operator actions on transactions and receipts: each goes through the engine or the
receipting service (never an edit of money or receipt rows) and leaves an audit entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kiosk_app import receipting
from kiosk_app.charging.service import ChargingService
from kiosk_app.charging.states import TxState
from kiosk_app.config import Config
from kiosk_app.models.receipts import ReceiptRecord
from kiosk_app.operator.access import Actor, audit


@dataclass(frozen=True)
class TransactionAction:
    slug: str  # in the URL: /operator/transactions/<ref>/<slug>
    audit_action: str
    title: str  # the button and the heading of the confirmation page
    explanation: str  # what will happen, on the confirmation page
    perform: Callable[[ChargingService, str, str, str], str]  # (service, ref, operator, note)


TRANSACTION_ACTIONS = {
    a.slug: a
    for a in (
        TransactionAction(
            "retry-capture",
            "transaction.retry_capture",
            "Retry the capture",
            "The engine sends the capture of the final amount to the terminal again. After a "
            "lost answer it first asks the terminal whether the hold is still open, so the "
            "card is never charged twice.",
            lambda s, ref, op, _note: s.retry_capture(ref, op),
        ),
        TransactionAction(
            "release-hold",
            "transaction.release_hold",
            "Release the hold",
            "The engine stops a running session and gives the whole hold back to the card; "
            "nothing is charged and the driver gets a voucher. It refuses when a capture may "
            "already have gone through.",
            lambda s, ref, op, _note: s.release_hold(ref, op),
        ),
        TransactionAction(
            "stop-session",
            "transaction.stop_session",
            "Stop the session",
            "The engine asks the charge point operator to stop the charging session; the "
            "transaction then settles as usual from the final CDR.",
            lambda s, ref, op, _note: s.stop_session(ref, op),
        ),
        TransactionAction(
            "mark-reviewed",
            "transaction.mark_reviewed",
            "Mark as reviewed",
            "The review flags of this transaction are cleared in your name, with your note. "
            "Money and receipts stay as they are.",
            lambda s, ref, op, note: s.mark_reviewed(ref, op, note),
        ),
    )
}


def act_on_transaction(
    session: Session,
    service: ChargingService,
    action: TransactionAction,
    reference: str,
    actor: Actor,
    note: str = "",
) -> tuple[str, str]:
    """Perform `action` through the engine; audit it. Returns (state before, state after)."""
    end_request_transaction(session)
    before = str(service.status(reference).state)
    after = str(action.perform(service, reference, actor.name, note))
    details = {"state_before": before, "state_after": after}
    if note:
        details["note"] = note
    audit(session, actor, action.audit_action, "transaction", reference, **details)
    return before, after


def record_refund(
    session: Session,
    service: ChargingService,
    reference: str,
    actor: Actor,
    amount_minor: int,
    acquirer_reference: str,
) -> TxState:
    """Record a refund made at the acquirer through the engine; audit it. RefundRefused."""
    end_request_transaction(session)
    tx = service.record_refund(reference, actor.name, amount_minor, acquirer_reference)
    audit(
        session,
        actor,
        "transaction.record_refund",
        "transaction",
        reference,
        amount_minor=amount_minor,
        currency=tx.currency,
        acquirer_reference=acquirer_reference.strip(),
        refund_due_after=tx.refund_due_minor,
    )
    return tx


def end_request_transaction(session: Session) -> None:
    """Commit the request's transaction (open since the login check) before the engine
    commits its own: SQLite lets one writer at a time, and the request would hold the lock.
    The audit entry is then written in a fresh transaction, committed with the request."""
    session.commit()


def reissue_link(
    session: Session, record: ReceiptRecord, config: Config, actor: Actor, reference: str
) -> str:
    """A new link for the receipt (the old one stops working); shown once, never stored."""
    link = receipting.renew_link(session, record, config)
    audit(
        session,
        actor,
        "transaction.reissue_receipt_link",
        "transaction",
        reference,
        receipt_id=record.id,
    )
    return link


def cancel_receipt(
    session: Session, record: ReceiptRecord, config: Config, actor: Actor
) -> ReceiptRecord:
    """Issue the cancellation receipt of `record` (ReceiptRefused when already cancelled)."""
    issued = receipting.cancel(session, record, config)
    audit(
        session,
        actor,
        "receipt.cancel",
        "receipt",
        record.id,
        cancellation=issued.receipt.receipt_number,
        transaction=record.transaction_reference,
    )
    return issued.record
