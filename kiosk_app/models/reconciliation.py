"""Terminal end-of-day closings (ZVT 06 50): requested by an operator, run by the worker that
drives the terminal, stored with the terminal's totals for the reconciliation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_app.db import Base
from kiosk_app.models.charging import JSON

CLOSING_STATUSES = ("pending", "running", "done", "failed")


class TerminalClosing(Base):
    """One end-of-day of a kiosk's terminal: the intent first, the terminal's totals after."""

    __tablename__ = "terminal_closing"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'done', 'failed')", name="closing_status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    requested_by: Mapped[str] = mapped_column(sa.String(80))
    requested_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    # When the terminal closed its day (its own clock when it reports one, else ours).
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(sa.String(3), default="")
    total_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    count: Mapped[int] = mapped_column(default=0)
    # {"Girocard": {"count": 3, "total_minor": 4210}, ...}
    brand_totals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The terminal's report as the adapter decoded it (no card data), or the failure.
    raw_result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(sa.String(255), default="")
