"""Operator back office: accounts and the append-only audit log.

Revision ID: operator01
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "operator01"
down_revision = "receipts01"
branch_labels = None
depends_on = None

# The audit log is append-only in the database itself, not only in the application: a trigger
# refuses UPDATE and DELETE whatever client connects.
_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER operator_audit_no_{verb.lower()} BEFORE {verb} ON operator_audit
        BEGIN SELECT RAISE(ABORT, 'operator_audit is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
]
_POSTGRES_TRIGGERS = [
    """CREATE FUNCTION operator_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'operator_audit is append-only'; END $$""",
    """CREATE TRIGGER operator_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
       ON operator_audit FOR EACH STATEMENT EXECUTE FUNCTION operator_audit_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "operator_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.CheckConstraint("role IN ('viewer', 'admin')", name=op.f("ck_operator_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_users")),
        sa.UniqueConstraint("username", name=op.f("uq_operator_users_username")),
    )
    op.create_table(
        "operator_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["operator_users.id"],
            name=op.f("fk_operator_audit_actor_id_operator_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_audit")),
    )
    with op.batch_alter_table("operator_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_audit_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_operator_audit_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index("ix_operator_audit_at", ["at"], unique=False)
        batch_op.create_index(
            "ix_operator_audit_target", ["target_type", "target_id"], unique=False
        )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}.get(
        dialect, []
    ):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER operator_audit_append_only ON operator_audit")
        op.execute("DROP FUNCTION operator_audit_append_only()")
    op.drop_table("operator_audit")  # SQLite drops the table's triggers with it
    op.drop_table("operator_users")
