"""Reading the audit log: filters and pages, newest first."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kiosk_app.models.operator import OperatorAudit

PER_PAGE = 50
T = TypeVar("T")


@dataclass(frozen=True)
class AuditFilter:
    """Empty fields do not filter. Dates are UTC calendar days, both ends included."""

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a search: its entries, its number (from 1), the size and the total."""

    entries: list[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int:
        """1-based position of the first entry shown (0 when there is none)."""
        return (self.number - 1) * self.per_page + 1 if self.entries else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.entries) - 1 if self.entries else 0


def search(
    session: Session, flt: AuditFilter, page: int = 1, per_page: int = PER_PAGE
) -> Page[OperatorAudit]:
    """One page of the entries matching `flt`; a page past the end comes back empty."""
    conditions = []
    if flt.actor:
        conditions.append(OperatorAudit.actor_name == flt.actor.strip().lower())
    if flt.action:
        conditions.append(OperatorAudit.action == flt.action)
    if flt.target_type:
        conditions.append(OperatorAudit.target_type == flt.target_type.strip())
    if flt.target_id:
        conditions.append(OperatorAudit.target_id == flt.target_id.strip())
    if flt.since:
        conditions.append(OperatorAudit.at >= datetime.combine(flt.since, time(), UTC))
    if flt.until:
        end = datetime.combine(flt.until + timedelta(days=1), time(), UTC)
        conditions.append(OperatorAudit.at < end)
    total = session.scalar(sa.select(sa.func.count()).select_from(OperatorAudit).where(*conditions))
    entries = session.scalars(
        sa.select(OperatorAudit)
        .where(*conditions)
        .order_by(OperatorAudit.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(list(entries), page, per_page, total or 0)
