"""OCPI storage: peers, the CPO's objects we keep (JSON documents plus indexed columns), our
commands and tokens, and the 2.3.0 payments objects. Ids are stored in their canonical
upper-case form (`objects.ci`) so CiString comparisons are plain equality.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_app.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class OcpiPeer(Base):
    """A party we have a credentials relationship with (normally one CPO).

    `incoming_token_hash` is the SHA-256 of the token the peer presents to us (token A while
    `status` is "pending", then the token we issued in the handshake); the peer's own token,
    which we present to it, is a secret we must send and so is kept as given.
    """

    __tablename__ = "ocpi_peer"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16))  # pending | registered
    incoming_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    outgoing_token: Mapped[str | None] = mapped_column(sa.String(64))
    token_encoding: Mapped[str] = mapped_column(sa.String(8), default="auto")
    versions_url: Mapped[str | None] = mapped_column(sa.String(255))
    version: Mapped[str | None] = mapped_column(sa.String(8))
    endpoints: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    country_code: Mapped[str | None] = mapped_column(sa.String(2))
    party_id: Mapped[str | None] = mapped_column(sa.String(3))
    name: Mapped[str | None] = mapped_column(sa.String(100))
    credentials: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OcpiLocation(Base):
    __tablename__ = "ocpi_location"
    __table_args__ = (sa.UniqueConstraint("country_code", "party_id", "location_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(sa.String(2))
    party_id: Mapped[str] = mapped_column(sa.String(3))
    location_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    doc: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    last_updated: Mapped[datetime]


class OcpiEvse(Base):
    """An index over the EVSEs inside the location documents (rewritten with the location)."""

    __tablename__ = "ocpi_evse"
    __table_args__ = (sa.UniqueConstraint("location_pk", "evse_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_pk: Mapped[int] = mapped_column(
        sa.ForeignKey("ocpi_location.id", ondelete="CASCADE"), index=True
    )
    evse_uid: Mapped[str] = mapped_column(sa.String(36), index=True)
    evse_id: Mapped[str | None] = mapped_column(sa.String(48))
    status: Mapped[str] = mapped_column(sa.String(16))
    last_updated: Mapped[datetime]


class OcpiTariff(Base):
    __tablename__ = "ocpi_tariff"
    __table_args__ = (sa.UniqueConstraint("country_code", "party_id", "tariff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(sa.String(2))
    party_id: Mapped[str] = mapped_column(sa.String(3))
    tariff_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    doc: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    last_updated: Mapped[datetime]


class OcpiSession(Base):
    __tablename__ = "ocpi_session"
    __table_args__ = (sa.UniqueConstraint("country_code", "party_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(sa.String(2))
    party_id: Mapped[str] = mapped_column(sa.String(3))
    session_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    authorization_reference: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    kwh: Mapped[Decimal] = mapped_column(sa.Numeric(14, 4))
    currency: Mapped[str] = mapped_column(sa.String(3))
    # Incl. taxes when the CPO says so, else before taxes; NULL = not sent (which is not free).
    total_cost_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    doc: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    last_updated: Mapped[datetime]


class OcpiCdr(Base):
    __tablename__ = "ocpi_cdr"
    __table_args__ = (sa.UniqueConstraint("country_code", "party_id", "cdr_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(sa.String(2))
    party_id: Mapped[str] = mapped_column(sa.String(3))
    cdr_id: Mapped[str] = mapped_column(sa.String(39), index=True)
    authorization_reference: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    session_id: Mapped[str | None] = mapped_column(sa.String(36))
    credit: Mapped[bool] = mapped_column(default=False)
    credit_reference_id: Mapped[str | None] = mapped_column(sa.String(39))
    credited_cdr_pk: Mapped[int | None] = mapped_column(sa.ForeignKey("ocpi_cdr.id"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    total_cost_minor: Mapped[int] = mapped_column(sa.BigInteger)
    doc: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class OcpiCommand(Base):
    """A command we sent: written before the request (intent), its answers after."""

    __tablename__ = "ocpi_command"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)  # the response_url id
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("ocpi_peer.id"))
    command: Mapped[str] = mapped_column(sa.String(24))
    authorization_reference: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    token_uid: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    response_result: Mapped[str | None] = mapped_column(sa.String(24))
    response_timeout_s: Mapped[int | None]
    response_error: Mapped[str | None] = mapped_column(sa.String(255))
    result: Mapped[str | None] = mapped_column(sa.String(24))
    result_doc: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None]
    result_at: Mapped[datetime | None]


class OcpiToken(Base):
    """Our one-time AD_HOC_USER tokens (one per transaction), served on GET tokens."""

    __tablename__ = "ocpi_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    authorization_reference: Mapped[str] = mapped_column(sa.String(36), index=True)
    doc: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    last_updated: Mapped[datetime]


class OcpiTerminal(Base):
    """2.3.0 Payments: a Terminal object we own (PTP), mapped to one of our kiosks."""

    __tablename__ = "ocpi_terminal"

    id: Mapped[int] = mapped_column(primary_key=True)
    terminal_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    doc: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    last_updated: Mapped[datetime]


class OcpiFinancialAdvice(Base):
    """2.3.0 Payments: a Financial Advice Confirmation we created after a capture."""

    __tablename__ = "ocpi_financial_advice"

    id: Mapped[int] = mapped_column(primary_key=True)
    fac_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    authorization_reference: Mapped[str] = mapped_column(sa.String(36), index=True)
    doc: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    sent_status: Mapped[str | None] = mapped_column(sa.String(64))
    last_updated: Mapped[datetime]
