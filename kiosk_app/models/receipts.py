"""Stored receipts: numbered series and immutable, hash-chained receipt records.

A record keeps the canonical JSON of its `receipts.model.Receipt`; the PDF is rendered from
it on demand. Content columns are never updated (a correction is a new cancellation record);
only the link token columns change when a link is renewed or moves to a replacement.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_app.db import Base

# BIGINT ids on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class ReceiptSeries(Base):
    """A number range (per site or kiosk): the last number used and the head of its chain."""

    __tablename__ = "receipt_series"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(32), unique=True)
    last_number: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64))


class ReceiptRecord(Base):
    """One issued receipt, voucher or cancellation."""

    __tablename__ = "receipts"
    __table_args__ = (sa.UniqueConstraint("series_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    series_id: Mapped[int] = mapped_column(sa.ForeignKey("receipt_series.id"))
    number: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(20))
    issued_at: Mapped[datetime]
    content: Mapped[str] = mapped_column(sa.Text)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    previous_hash: Mapped[str] = mapped_column(sa.String(64))
    currency: Mapped[str] = mapped_column(sa.String(3))
    total_minor: Mapped[int] = mapped_column(sa.BigInteger)
    # sha256 of the link token; the token itself is only ever shown to the driver
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    token_expires_at: Mapped[datetime | None]
    transaction_reference: Mapped[str] = mapped_column(sa.String(64), index=True)
    original_id: Mapped[int | None] = mapped_column(sa.ForeignKey("receipts.id"), unique=True)
