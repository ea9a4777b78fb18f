"""Issuing and finding receipts: gapless numbering, the hash chain, link tokens, PDFs.

Numbers come from the series row, locked for the length of the caller's transaction
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite transactions here start with BEGIN IMMEDIATE,
which serialises writers). Number, chain head and record are written in that one transaction,
so a rollback leaves no gap and concurrent writers never share a number. Functions here only
flush: the caller commits, once per request or engine step.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kiosk_app.config import Config, OperatorConfig
from kiosk_app.models.receipts import ReceiptRecord, ReceiptSeries
from receipts import codec, journal, pdf, profiles, transparency
from receipts.model import (
    Customer,
    InvalidReceipt,
    Kind,
    Operator,
    Receipt,
    cancellation_of,
    credit_note_of,
    with_customer,
)
from receipts.profiles import Field

TOKEN_BYTES = 24  # 192 bits from the CSPRNG; 32 URL-safe characters


class ReceiptRefused(ValueError):
    """Receipt data that cannot be issued (e.g. a profile's mandatory field is missing)."""


@dataclass(frozen=True)
class Issued:
    """A freshly issued receipt and its link (shown once, on the kiosk screen)."""

    record: ReceiptRecord
    receipt: Receipt
    token: str
    link: str


def operator_from_config(operator: OperatorConfig) -> Operator:
    """The receipt supplier block from the `operator` configuration section."""
    return Operator(
        legal_name=operator.legal_name,
        address=tuple(operator.address),
        vat_id=operator.vat_id,
        tax_number=operator.tax_number,
        registration_number=operator.registration_number,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def issue(
    session: Session,
    draft: Receipt,
    config: Config,
    *,
    series: str | None = None,
    original: ReceiptRecord | None = None,
    clock: Callable[[], datetime] = _now,
) -> Issued:
    """Number, chain and store `draft`; its series, number and issue time are assigned here."""
    problems = profiles.problems(draft)
    if problems:
        raise ReceiptRefused("; ".join(problems))
    row = _lock_series(session, series or config.operator.receipt_series_prefix)
    issued_at = clock()
    receipt = dataclasses.replace(
        draft, series=row.prefix, number=row.last_number + 1, issued_at=issued_at
    )
    content = codec.canonical_json(receipt)
    digest = journal.chain_hash(row.last_hash, content)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    record = ReceiptRecord(
        series_id=row.id,
        number=receipt.number,
        kind=receipt.kind.value,
        issued_at=issued_at,
        content=content,
        content_hash=digest,
        previous_hash=row.last_hash,
        currency=receipt.currency,
        total_minor=receipt.total,
        token_hash=token_hash(token),
        token_expires_at=issued_at + timedelta(days=config.receipts.link_lifetime_days),
        transaction_reference=receipt.transaction_reference,
        original_id=original.id if original else None,
    )
    row.last_number, row.last_hash = receipt.number, digest
    session.add(record)
    session.flush()
    return Issued(record, receipt, token, config.receipts.public_base_url + token)


def _lock_series(session: Session, prefix: str) -> ReceiptSeries:
    """The series row, locked until the transaction ends; created on first use."""
    query = (
        sa.select(ReceiptSeries)
        .where(ReceiptSeries.prefix == prefix)
        .with_for_update()
        .execution_options(populate_existing=True)  # never number from a stale cached row
    )
    row = session.scalars(query).one_or_none()
    if row is None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(ReceiptSeries)
            .values(prefix=prefix, last_number=0, last_hash=journal.GENESIS)
            .on_conflict_do_nothing(index_elements=["prefix"])
        )
        row = session.scalars(query).one()
    return row


def cancel(session: Session, original: ReceiptRecord, config: Config) -> Issued:
    """Issue the cancellation of `original` in its series; receipts are never edited."""
    existing = session.scalar(
        sa.select(ReceiptRecord).where(ReceiptRecord.original_id == original.id)
    )
    if existing is not None:
        raise ReceiptRefused(f"receipt {original.id} is already cancelled")
    receipt = codec.receipt_from_json(original.content)
    try:
        draft = cancellation_of(receipt)
    except InvalidReceipt as exc:
        raise ReceiptRefused(str(exc)) from exc
    return issue(session, draft, config, series=receipt.series, original=original)


def credit_note(
    session: Session, original: ReceiptRecord, amount: int, refunded_at: datetime, config: Config
) -> Issued:
    """Issue a credit note giving `amount` of `original` back, in the original's series.
    ReceiptRefused when more than the receipt's total (less earlier credit notes) is asked.
    The original stays valid (it is corrected, not cancelled): no `original_id` link."""
    receipt = receipt_of(original)
    before = -sum(note.total_minor for note in credit_notes(session, original))
    try:
        draft = credit_note_of(receipt, amount, refunded_at, credited_before=before)
    except InvalidReceipt as exc:
        raise ReceiptRefused(str(exc)) from exc
    return issue(session, draft, config, series=receipt.series)


def current_receipt(
    session: Session, reference: str, *, voucher: bool = False
) -> ReceiptRecord | None:
    """The transaction's receipt in force: not cancelled (a replacement naming the customer,
    when the driver asked for one). With `voucher`, a "nothing charged" voucher counts too:
    then it is the document whose link the driver holds."""
    kinds = [Kind.RECEIPT.value, Kind.NOTHING_CHARGED.value] if voucher else [Kind.RECEIPT.value]
    cancelled = sa.select(ReceiptRecord.original_id).where(ReceiptRecord.original_id.is_not(None))
    return session.scalar(
        sa.select(ReceiptRecord)
        .where(
            ReceiptRecord.transaction_reference == reference,
            ReceiptRecord.kind.in_(kinds),
            ReceiptRecord.id.not_in(cancelled),
        )
        .order_by(ReceiptRecord.id.desc())
        .limit(1)
    )


def credit_notes(session: Session, original: ReceiptRecord) -> list[ReceiptRecord]:
    """The credit notes issued against `original`, oldest first."""
    number = receipt_of(original).receipt_number
    records = session.scalars(
        sa.select(ReceiptRecord)
        .where(
            ReceiptRecord.transaction_reference == original.transaction_reference,
            ReceiptRecord.kind == Kind.CREDIT_NOTE.value,
        )
        .order_by(ReceiptRecord.id)
    )
    return [r for r in records if receipt_of(r).original_number == number]


def needs_customer(receipt: Receipt) -> bool:
    """Whether the receipt is a full invoice still waiting for the customer's details."""
    return (
        receipt.kind is Kind.RECEIPT
        and receipt.customer is None
        and Field.CUSTOMER in profiles.get(receipt.profile).form_for(receipt).mandatory
    )


def add_customer(
    session: Session, record: ReceiptRecord, customer: Customer, config: Config
) -> Issued:
    """Re-issue a full invoice with the customer's name and address: the original is
    cancelled and a replacement referencing it is issued; the link moves to the replacement."""
    receipt = receipt_of(record)
    if not needs_customer(receipt):
        raise ReceiptRefused(f"receipt {receipt.receipt_number} takes no customer details")
    draft = with_customer(receipt, customer)
    cancel(session, record, config)
    replacement = issue(session, draft, config, series=receipt.series)
    record.token_hash = record.token_expires_at = None
    session.flush()
    return replacement


def find_by_token(
    session: Session, token: str, now: datetime | None = None
) -> ReceiptRecord | None:
    """The receipt a link token opens, or None when unknown or expired."""
    record = session.scalar(
        sa.select(ReceiptRecord).where(ReceiptRecord.token_hash == token_hash(token))
    )
    if record is None or record.token_expires_at is None:
        return None
    if _aware(record.token_expires_at) <= (now or _now()):
        return None
    return record


def find(session: Session, series: str, number: int) -> ReceiptRecord | None:
    """The receipt `number` of `series`, or None."""
    return session.scalar(
        sa.select(ReceiptRecord)
        .join(ReceiptSeries, ReceiptRecord.series_id == ReceiptSeries.id)
        .where(ReceiptSeries.prefix == series, ReceiptRecord.number == number)
    )


def renew_link(session: Session, record: ReceiptRecord, config: Config) -> str:
    """A new link for a stored receipt (support's durable retrieval path); the old one dies."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    record.token_hash = token_hash(token)
    record.token_expires_at = _now() + timedelta(days=config.receipts.link_lifetime_days)
    session.flush()
    return config.receipts.public_base_url + token


def receipt_of(record: ReceiptRecord) -> Receipt:
    return codec.receipt_from_json(record.content)


def render_pdf(record: ReceiptRecord, link: str | None) -> bytes:
    """The receipt's PDF, re-rendered from the stored record (identical bytes every time)."""
    return pdf.render(receipt_of(record), link)


def ocmf_xml(record: ReceiptRecord) -> bytes | None:
    """The Transparenzsoftware XML of the receipt's signed meter data, if it has any."""
    receipt = receipt_of(record)
    if receipt.metering is None or not receipt.metering.ocmf:
        return None
    values = [
        transparency.SignedValue(data, receipt.metering.public_key)
        for data in receipt.metering.ocmf
    ]
    return transparency.export(values, receipt.transaction_reference)


def verify_journal(session: Session, series: str | None = None) -> dict[str, list[journal.Problem]]:
    """Per series, every defect of its hash chain (an empty list: intact)."""
    query = sa.select(ReceiptSeries).order_by(ReceiptSeries.prefix)
    if series:
        query = query.where(ReceiptSeries.prefix == series)
    results = {}
    for row in session.scalars(query):
        records = session.execute(
            sa.select(
                ReceiptRecord.number,
                ReceiptRecord.content,
                ReceiptRecord.content_hash,
                ReceiptRecord.previous_hash,
            ).where(ReceiptRecord.series_id == row.id)
        )
        entries = [journal.Entry(row.prefix, *values) for values in records]
        results[row.prefix] = journal.verify(entries, last_number=row.last_number)
    return results


def records_between(
    session: Session, first: date, last: date, timezone: str, series: str | None = None
) -> list[tuple[str, ReceiptRecord]]:
    """(series prefix, record) issued from day `first` to day `last` inclusive, local time."""
    zone = ZoneInfo(timezone)
    # bound in UTC: SQLite stores and compares timestamps as naive UTC text
    start = datetime.combine(first, time.min, zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC)
    query = (
        sa.select(ReceiptSeries.prefix, ReceiptRecord)
        .join(ReceiptSeries, ReceiptRecord.series_id == ReceiptSeries.id)
        .where(ReceiptRecord.issued_at >= start, ReceiptRecord.issued_at < end)
        .order_by(ReceiptSeries.prefix, ReceiptRecord.number)
    )
    if series:
        query = query.where(ReceiptSeries.prefix == series)
    return [(prefix, record) for prefix, record in session.execute(query)]


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back naive; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
