"""Charging engine: transactions, their event log, effect outbox, timers, terminal leases.

Revision ID: charging01
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "charging01"
down_revision = "operator01"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NOW = sa.DateTime(timezone=True)


def _fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["transaction_id"],
        ["charging_transaction.id"],
        name=f"fk_{table}_transaction_id_charging_transaction",
    )


def upgrade() -> None:
    op.create_table(
        "charging_transaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(36), nullable=False),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("evse_uid", sa.String(36), nullable=False),
        sa.Column("location_id", sa.String(36), nullable=False),
        sa.Column("connector_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("occupies_evse", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("hold_minor", sa.BigInteger(), nullable=False),
        sa.Column("held_minor", sa.BigInteger(), nullable=False),
        sa.Column("captured_minor", sa.BigInteger(), nullable=False),
        sa.Column("released_minor", sa.BigInteger(), nullable=False),
        sa.Column("card_brand", sa.String(32), nullable=False),
        sa.Column("card_last4", sa.String(4), nullable=False),
        sa.Column("card_hash", sa.String(64), nullable=False),
        sa.Column("session_code", sa.String(8), nullable=False),
        sa.Column("ocpi_session_id", sa.String(36), nullable=True),
        sa.Column("cdr_id", sa.String(39), nullable=True),
        sa.Column("cross_check", sa.String(16), nullable=True),
        sa.Column("review_flags", sa.String(255), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("receipt_number", sa.String(64), nullable=True),
        sa.Column("snapshot", JSON, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", NOW, nullable=False),
        sa.Column("updated_at", NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_charging_transaction"),
        sa.UniqueConstraint("reference", name="uq_charging_transaction_reference"),
    )
    for column in (
        "card_hash",
        "card_last4",
        "kiosk_id",
        "needs_review",
        "ocpi_session_id",
        "session_code",
        "state",
    ):
        op.create_index(f"ix_charging_transaction_{column}", "charging_transaction", [column])
    # One transaction per EVSE at a time: the database refuses a second occupying row.
    op.create_index(
        "uq_charging_transaction_evse_occupied",
        "charging_transaction",
        ["evse_uid"],
        unique=True,
        sqlite_where=sa.text("occupies_evse"),
        postgresql_where=sa.text("occupies_evse"),
    )
    op.create_table(
        "charging_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("state_after", sa.String(32), nullable=False),
        sa.Column("created_at", NOW, nullable=False),
        _fk("charging_event"),
        sa.PrimaryKeyConstraint("id", name="pk_charging_event"),
        sa.UniqueConstraint("transaction_id", "seq", name="uq_charging_event_transaction_id"),
    )
    op.create_table(
        "charging_effect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(36), nullable=False),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", NOW, nullable=True),
        sa.Column("created_at", NOW, nullable=False),
        sa.Column("done_at", NOW, nullable=True),
        _fk("charging_effect"),
        sa.PrimaryKeyConstraint("id", name="pk_charging_effect"),
    )
    op.create_index(
        "ix_charging_effect_status_route", "charging_effect", ["status", "route", "kiosk_id"]
    )
    op.create_table(
        "charging_timer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("due_at", NOW, nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", NOW, nullable=True),
        _fk("charging_timer"),
        sa.PrimaryKeyConstraint("id", name="pk_charging_timer"),
        sa.UniqueConstraint("transaction_id", "kind", name="uq_charging_timer_transaction_id"),
    )
    op.create_index("ix_charging_timer_due_at", "charging_timer", ["due_at"])
    op.create_table(
        "charging_terminal_lease",
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("expires_at", NOW, nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", name="pk_charging_terminal_lease"),
    )


def downgrade() -> None:
    op.drop_table("charging_terminal_lease")
    op.drop_table("charging_timer")
    op.drop_table("charging_effect")
    op.drop_table("charging_event")
    op.drop_table("charging_transaction")
