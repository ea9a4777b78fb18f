"""What the back office reads: transactions, receipts, their details. Read-only; every change
goes through the engine (`kiosk_app.charging`) or the receipting service.

Nothing returned here carries a full card number, a card hash or a receipt link token:
`redact` masks them in the engine's timeline payloads, which are shown as they were logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk_app import receipting
from kiosk_app.charging import codec
from kiosk_app.charging.service import TimelineEntry, load_timeline
from kiosk_app.charging.states import TxState
from kiosk_app.log import mask_card_numbers
from kiosk_app.models.charging import ChargingTransaction
from kiosk_app.models.receipts import ReceiptRecord, ReceiptSeries
from kiosk_app.operator.audit_log import PER_PAGE, Page
from receipts import ocmf

# Payload keys whose values are capabilities or card-derived secrets: never shown whole.
SECRET_KEYS = frozenset(
    {"link", "receipt_link", "card_hash", "token", "token_uid", "card_reference"}
)


def day_bounds(first: date | None, last: date | None, timezone: str) -> tuple[Any, Any]:
    """UTC bounds of the local days `first`..`last` (inclusive); None where open."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time.min, zone).astimezone(UTC) if first else None
    end = (
        datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC) if last else None
    )
    return start, end


def within(
    column: Any, first: date | None, last: date | None, timezone: str
) -> list[sa.ColumnElement[bool]]:
    """Conditions keeping `column` inside the local days `first`..`last` (open ends: none)."""
    start, end = day_bounds(first, last, timezone)
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


# --- transactions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TransactionFilter:
    """Empty fields do not filter. Days are the operator's local days, both ends included."""

    since: date | None = None
    until: date | None = None
    kiosk: str = ""
    evse: str = ""
    state: str = ""
    amount_minor: int | None = None  # the held or the captured amount
    last4: str = ""
    code: str = ""


def search_transactions(
    session: Session, flt: TransactionFilter, timezone: str, page: int = 1
) -> Page[ChargingTransaction]:
    """One page of the transactions matching `flt`, newest first."""
    t = ChargingTransaction
    conditions: list[sa.ColumnElement[bool]] = []
    conditions += within(t.created_at, flt.since, flt.until, timezone)
    if flt.kiosk:
        conditions.append(t.kiosk_id == flt.kiosk)
    if flt.evse:
        conditions.append(t.evse_uid == flt.evse.strip())
    if flt.state:
        conditions.append(t.state == flt.state)
    if flt.amount_minor is not None:
        conditions.append(
            sa.or_(t.held_minor == flt.amount_minor, t.captured_minor == flt.amount_minor)
        )
    if flt.last4:
        conditions.append(t.card_last4 == flt.last4)
    if flt.code:
        conditions.append(t.session_code == flt.code.strip().upper().replace(" ", ""))
    total = session.scalar(sa.select(sa.func.count()).select_from(t).where(*conditions)) or 0
    rows = session.scalars(
        sa.select(t)
        .where(*conditions)
        .order_by(t.created_at.desc(), t.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    return Page(list(rows), page, PER_PAGE, total)


def refunds_due(session: Session, page: int = 1) -> Page[TxState]:
    """One page of the transactions with money still owed back to the card, oldest first
    (the longest-waiting driver comes first)."""
    t = ChargingTransaction
    condition = t.refund_due_minor > 0
    total = session.scalar(sa.select(sa.func.count()).select_from(t).where(condition)) or 0
    rows = session.scalars(
        sa.select(t)
        .where(condition)
        .order_by(t.updated_at, t.id)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    return Page([codec.load(TxState, row.snapshot) for row in rows], page, PER_PAGE, total)


@dataclass(frozen=True)
class ReceiptView:
    record: ReceiptRecord
    number: str  # e.g. K1-000042
    kind: str
    ocmf_checks: list[str]  # one verification status per signed meter record
    cancelled: bool

    @property
    def cancellable(self) -> bool:
        """Only a sale can be cancelled: a voucher records that nothing was sold, and a
        cancellation or credit note is itself the correction."""
        return self.kind == "receipt" and not self.cancelled


@dataclass(frozen=True)
class TransactionDetail:
    row: ChargingTransaction
    tx: TxState
    timeline: list[TimelineEntry]
    receipts: list[ReceiptView]

    @property
    def open_hold_minor(self) -> int:
        return self.tx.open_hold_minor


def transaction(session: Session, reference: str) -> TransactionDetail | None:
    """A transaction with its redacted timeline and receipts; None when unknown."""
    row = session.scalar(
        sa.select(ChargingTransaction).where(ChargingTransaction.reference == reference)
    )
    if row is None:
        return None
    timeline = [
        TimelineEntry(
            e.seq, e.at, e.category, e.kind, e.source, e.actor, e.state_after, redact(e.details)
        )
        for e in load_timeline(session, reference)
    ]
    records = session.scalars(
        sa.select(ReceiptRecord)
        .where(ReceiptRecord.transaction_reference == reference)
        .order_by(ReceiptRecord.id)
    ).all()
    return TransactionDetail(
        row, codec.load(TxState, row.snapshot), timeline, receipt_views(session, records)
    )


def redact(value: Any, key: str = "") -> Any:
    """A timeline payload fit for the screen: secrets shortened, card numbers masked."""
    if key in SECRET_KEYS and isinstance(value, str) and value:
        return mask_secret(value)
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return mask_card_numbers(value)
    return value


def mask_secret(value: str) -> str:
    """Enough of a secret to tell two apart, never enough to use it."""
    return f"…{value[-4:]}" if len(value) > 12 else "…"


# --- receipts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptFilter:
    number: str = ""  # "K1-000042", "K1-42" or "42"
    since: date | None = None
    until: date | None = None
    evse: str = ""
    amount_minor: int | None = None
    last4: str = ""


def search_receipts(
    session: Session, flt: ReceiptFilter, timezone: str, page: int = 1
) -> Page[ReceiptView]:
    """One page of the receipts matching `flt`, newest first."""
    r = ReceiptRecord
    conditions: list[sa.ColumnElement[bool]] = []
    if flt.number:
        prefix, _, digits = flt.number.strip().upper().rpartition("-")
        conditions.append(r.number == int(digits))
        if prefix:
            conditions.append(ReceiptSeries.prefix == prefix)
    conditions += within(r.issued_at, flt.since, flt.until, timezone)
    if flt.amount_minor is not None:
        conditions.append(sa.func.abs(r.total_minor) == flt.amount_minor)
    # EVSE and card digits are in the receipt's canonical JSON (sorted keys, no spaces); the
    # inputs are validated (digits, EVSE id characters), so they cannot break the pattern.
    if flt.evse:
        conditions.append(r.content.contains(f'"evse_id":"{flt.evse.strip()}"'))
    if flt.last4:
        conditions.append(r.content.contains(f'"pan_last4":"{flt.last4}"'))
    query = sa.select(r).join(ReceiptSeries, r.series_id == ReceiptSeries.id).where(*conditions)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    records = session.scalars(
        query.order_by(r.issued_at.desc(), r.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return Page(receipt_views(session, records), page, PER_PAGE, total)


def receipt(session: Session, receipt_id: int) -> ReceiptView | None:
    record = session.get(ReceiptRecord, receipt_id)
    return receipt_views(session, [record])[0] if record is not None else None


def receipt_views(session: Session, records: Sequence[ReceiptRecord]) -> list[ReceiptView]:
    ids = [rec.id for rec in records]
    cancelled = set(
        session.scalars(
            sa.select(ReceiptRecord.original_id).where(ReceiptRecord.original_id.in_(ids))
        )
    )
    views = []
    for record in records:
        content = receipting.receipt_of(record)
        checks = []
        if content.metering is not None:
            checks = [
                ocmf.check(data, content.metering.public_key).status.value
                for data in content.metering.ocmf
            ]
        views.append(
            ReceiptView(record, content.receipt_number, record.kind, checks, record.id in cancelled)
        )
    return views
