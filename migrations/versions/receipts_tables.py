"""Receipts: numbered series and hash-chained receipt records.

Revision ID: receipts01
Revises: 0001
Create Date: 2026-11-21 22:17:02.143060
"""

import sqlalchemy as sa
from alembic import op

revision = "receipts01"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receipt_series",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_series")),
        sa.UniqueConstraint("prefix", name=op.f("uq_receipt_series_prefix")),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transaction_reference", sa.String(length=64), nullable=False),
        sa.Column(
            "original_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["original_id"], ["receipts.id"], name=op.f("fk_receipts_original_id_receipts")
        ),
        sa.ForeignKeyConstraint(
            ["series_id"], ["receipt_series.id"], name=op.f("fk_receipts_series_id_receipt_series")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("original_id", name=op.f("uq_receipts_original_id")),
        sa.UniqueConstraint("series_id", "number", name=op.f("uq_receipts_series_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_receipts_token_hash")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_receipts_transaction_reference"), ["transaction_reference"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_transaction_reference"))

    op.drop_table("receipts")
    op.drop_table("receipt_series")
