"""Refunds after a credit CDR: the amount still owed back, queryable per transaction.

The refunds themselves (due per credit CDR, and the payments operators recorded) live in the
transaction's snapshot like the rest of its money; this column projects what is still due so
that the back office can list the transactions an operator has to refund.

Revision ID: refund01
Revises: recon01
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "refund01"
down_revision = "recon01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("charging_transaction") as batch:
        batch.add_column(
            sa.Column("refund_due_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.create_index("ix_charging_transaction_refund_due_minor", ["refund_due_minor"])


def downgrade() -> None:
    with op.batch_alter_table("charging_transaction") as batch:
        batch.drop_index("ix_charging_transaction_refund_due_minor")
        batch.drop_column("refund_due_minor")
