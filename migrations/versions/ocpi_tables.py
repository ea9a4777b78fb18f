"""OCPI: peers, locations, EVSEs, tariffs, sessions, CDRs, commands, tokens, payments

Revision ID: ocpi01
Revises: 0001
Create Date: 2026-11-21 22:12:56.984414
"""

import sqlalchemy as sa
from alembic import op

revision = "ocpi01"
down_revision = "charging01"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "ocpi_cdr",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("cdr_id", sa.String(length=39), nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=True),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("credit", sa.Boolean(), nullable=False),
        sa.Column("credit_reference_id", sa.String(length=39), nullable=True),
        sa.Column("credited_cdr_pk", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credited_cdr_pk"], ["ocpi_cdr.id"], name=op.f("fk_ocpi_cdr_credited_cdr_pk_ocpi_cdr")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_cdr")),
        sa.UniqueConstraint(
            "country_code", "party_id", "cdr_id", name=op.f("uq_ocpi_cdr_country_code")
        ),
    )
    with op.batch_alter_table("ocpi_cdr", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_cdr_authorization_reference"),
            ["authorization_reference"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_ocpi_cdr_cdr_id"), ["cdr_id"], unique=False)

    op.create_table(
        "ocpi_financial_advice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fac_id", sa.String(length=36), nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("sent_status", sa.String(length=64), nullable=True),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_financial_advice")),
        sa.UniqueConstraint("fac_id", name=op.f("uq_ocpi_financial_advice_fac_id")),
    )
    with op.batch_alter_table("ocpi_financial_advice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_financial_advice_authorization_reference"),
            ["authorization_reference"],
            unique=False,
        )

    op.create_table(
        "ocpi_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_location")),
        sa.UniqueConstraint(
            "country_code", "party_id", "location_id", name=op.f("uq_ocpi_location_country_code")
        ),
    )
    with op.batch_alter_table("ocpi_location", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_location_location_id"), ["location_id"], unique=False
        )

    op.create_table(
        "ocpi_peer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("incoming_token_hash", sa.String(length=64), nullable=False),
        sa.Column("outgoing_token", sa.String(length=64), nullable=True),
        sa.Column("token_encoding", sa.String(length=8), nullable=False),
        sa.Column("versions_url", sa.String(length=255), nullable=True),
        sa.Column("version", sa.String(length=8), nullable=True),
        sa.Column("endpoints", sa.JSON(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=True),
        sa.Column("party_id", sa.String(length=3), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("credentials", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_peer")),
        sa.UniqueConstraint("incoming_token_hash", name=op.f("uq_ocpi_peer_incoming_token_hash")),
    )
    op.create_table(
        "ocpi_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kwh", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_session")),
        sa.UniqueConstraint(
            "country_code", "party_id", "session_id", name=op.f("uq_ocpi_session_country_code")
        ),
    )
    with op.batch_alter_table("ocpi_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_session_authorization_reference"),
            ["authorization_reference"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ocpi_session_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "ocpi_tariff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("tariff_id", sa.String(length=36), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_tariff")),
        sa.UniqueConstraint(
            "country_code", "party_id", "tariff_id", name=op.f("uq_ocpi_tariff_country_code")
        ),
    )
    with op.batch_alter_table("ocpi_tariff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ocpi_tariff_tariff_id"), ["tariff_id"], unique=False)

    op.create_table(
        "ocpi_terminal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.String(length=36), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_terminal")),
        sa.UniqueConstraint("terminal_id", name=op.f("uq_ocpi_terminal_terminal_id")),
    )
    op.create_table(
        "ocpi_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_token")),
        sa.UniqueConstraint("uid", name=op.f("uq_ocpi_token_uid")),
    )
    with op.batch_alter_table("ocpi_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_token_authorization_reference"),
            ["authorization_reference"],
            unique=False,
        )

    op.create_table(
        "ocpi_command",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("command", sa.String(length=24), nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=True),
        sa.Column("token_uid", sa.String(length=36), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("response_result", sa.String(length=24), nullable=True),
        sa.Column("response_timeout_s", sa.Integer(), nullable=True),
        sa.Column("response_error", sa.String(length=255), nullable=True),
        sa.Column("result", sa.String(length=24), nullable=True),
        sa.Column("result_doc", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["ocpi_peer.id"], name=op.f("fk_ocpi_command_peer_id_ocpi_peer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_command")),
    )
    with op.batch_alter_table("ocpi_command", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_command_authorization_reference"),
            ["authorization_reference"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_ocpi_command_token_uid"), ["token_uid"], unique=False)

    op.create_table(
        "ocpi_evse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_pk", sa.Integer(), nullable=False),
        sa.Column("evse_uid", sa.String(length=36), nullable=False),
        sa.Column("evse_id", sa.String(length=48), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_pk"],
            ["ocpi_location.id"],
            name=op.f("fk_ocpi_evse_location_pk_ocpi_location"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocpi_evse")),
        sa.UniqueConstraint("location_pk", "evse_uid", name=op.f("uq_ocpi_evse_location_pk")),
    )
    with op.batch_alter_table("ocpi_evse", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ocpi_evse_evse_uid"), ["evse_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_ocpi_evse_location_pk"), ["location_pk"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("ocpi_evse", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_evse_location_pk"))
        batch_op.drop_index(batch_op.f("ix_ocpi_evse_evse_uid"))

    op.drop_table("ocpi_evse")
    with op.batch_alter_table("ocpi_command", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_command_token_uid"))
        batch_op.drop_index(batch_op.f("ix_ocpi_command_authorization_reference"))

    op.drop_table("ocpi_command")
    with op.batch_alter_table("ocpi_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_token_authorization_reference"))

    op.drop_table("ocpi_token")
    op.drop_table("ocpi_terminal")
    with op.batch_alter_table("ocpi_tariff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_tariff_tariff_id"))

    op.drop_table("ocpi_tariff")
    with op.batch_alter_table("ocpi_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_session_session_id"))
        batch_op.drop_index(batch_op.f("ix_ocpi_session_authorization_reference"))

    op.drop_table("ocpi_session")
    op.drop_table("ocpi_peer")
    with op.batch_alter_table("ocpi_location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_location_location_id"))

    op.drop_table("ocpi_location")
    with op.batch_alter_table("ocpi_financial_advice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_financial_advice_authorization_reference"))

    op.drop_table("ocpi_financial_advice")
    with op.batch_alter_table("ocpi_cdr", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_cdr_cdr_id"))
        batch_op.drop_index(batch_op.f("ix_ocpi_cdr_authorization_reference"))

    op.drop_table("ocpi_cdr")
