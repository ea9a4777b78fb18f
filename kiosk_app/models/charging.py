"""Charging transactions: the current state, the append-only event log, effect intents (the
outbox the worker performs), timers, and the terminal leases of the workers.

The full machine state lives in `ChargingTransaction.snapshot` (JSON); the other columns are
projections of it for queries and indexes, written in the same commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_app.db import Base

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class ChargingTransaction(Base):
    __tablename__ = "charging_transaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Our transaction reference: the OCPI authorization_reference and the ZVT payment reference.
    reference: Mapped[str] = mapped_column(sa.String(36), unique=True)
    kiosk_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    evse_uid: Mapped[str] = mapped_column(sa.String(36))
    location_id: Mapped[str] = mapped_column(sa.String(36))
    connector_id: Mapped[str] = mapped_column(sa.String(36))
    state: Mapped[str] = mapped_column(sa.String(32), index=True)
    # True while a session may run or start on the EVSE; at most one such row per EVSE.
    occupies_evse: Mapped[bool] = mapped_column(default=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    hold_minor: Mapped[int] = mapped_column(sa.BigInteger)
    held_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    captured_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    released_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    card_brand: Mapped[str] = mapped_column(sa.String(32), default="")
    card_last4: Mapped[str] = mapped_column(sa.String(4), default="", index=True)
    card_hash: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    session_code: Mapped[str] = mapped_column(sa.String(8), index=True)
    ocpi_session_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    cdr_id: Mapped[str | None] = mapped_column(sa.String(39))
    cross_check: Mapped[str | None] = mapped_column(sa.String(16))
    review_flags: Mapped[str] = mapped_column(sa.String(255), default="")
    needs_review: Mapped[bool] = mapped_column(default=False, index=True)
    receipt_number: Mapped[str | None] = mapped_column(sa.String(64))
    # Owed back to the card after a credit CDR and not yet recorded as refunded (> 0: listed
    # in the back office's refunds due).
    refund_due_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0, index=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_seq: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        sa.Index(
            "uq_charging_transaction_evse_occupied",
            "evse_uid",
            unique=True,
            sqlite_where=sa.text("occupies_evse"),
            postgresql_where=sa.text("occupies_evse"),
        ),
    )


class ChargingEvent(Base):
    """One line of a transaction's timeline: an event, an effect intent, or an outcome."""

    __tablename__ = "charging_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("charging_transaction.id"))
    seq: Mapped[int]
    # "event" | "effect" | "notify" | "error"
    category: Mapped[str] = mapped_column(sa.String(16))
    kind: Mapped[str] = mapped_column(sa.String(64))  # event or effect class, or a display key
    source: Mapped[str] = mapped_column(sa.String(16), default="")
    actor: Mapped[str] = mapped_column(sa.String(64), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state_after: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime]

    __table_args__ = (sa.UniqueConstraint("transaction_id", "seq"),)


class ChargingEffect(Base):
    """An effect intent waiting to be performed through a port (the outbox)."""

    __tablename__ = "charging_effect"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("charging_transaction.id"))
    reference: Mapped[str] = mapped_column(sa.String(36))
    kiosk_id: Mapped[str] = mapped_column(sa.String(64))
    route: Mapped[str] = mapped_column(sa.String(16))  # terminal | abort | cpo | receipts
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # running | done
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]

    __table_args__ = (sa.Index("ix_charging_effect_status_route", "status", "route", "kiosk_id"),)


class ChargingTimer(Base):
    __tablename__ = "charging_timer"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("charging_transaction.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    due_at: Mapped[datetime] = mapped_column(index=True)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None]

    __table_args__ = (sa.UniqueConstraint("transaction_id", "kind"),)


class TerminalLease(Base):
    """Which worker drives a kiosk's terminal, until when (renewed while the worker lives)."""

    __tablename__ = "charging_terminal_lease"

    kiosk_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(64))
    expires_at: Mapped[datetime]
