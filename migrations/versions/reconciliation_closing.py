"""Reconciliation: terminal end-of-day closings.

Revision ID: recon01
Revises: charging01
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "recon01"
down_revision = "ocpi01"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NOW = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "terminal_closing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(80), nullable=False),
        sa.Column("requested_at", NOW, nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("closed_at", NOW, nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("brand_totals", JSON, nullable=False),
        sa.Column("raw_result", JSON, nullable=False),
        sa.Column("error", sa.String(255), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'done', 'failed')",
            name=op.f("ck_terminal_closing_closing_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terminal_closing")),
    )
    for column in ("kiosk_id", "status", "closed_at"):
        op.create_index(f"ix_terminal_closing_{column}", "terminal_closing", [column])


def downgrade() -> None:
    op.drop_table("terminal_closing")
