"""Back-office access: operator accounts and the append-only audit log of their actions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_app.db import Base

ROLES = ("viewer", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every timestamp stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class OperatorUser(Base):
    """A person who may log in to the back office."""

    __tablename__ = "operator_users"
    __table_args__ = (sa.CheckConstraint("role IN ('viewer', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # argon2id in PHC string format; it carries its own salt and parameters.
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of the login session's user id: raising it ends every open session of this user
    # (after a password reset or when the account is disabled).
    session_epoch: Mapped[int] = mapped_column(default=0)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and as_utc(self.locked_until) > now

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"


# BigInteger ids do not autoincrement on SQLite; there an INTEGER primary key does.
_AUDIT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class OperatorAudit(Base):
    """One operator action (or refused attempt). Rows are only ever inserted.

    The database refuses updates and deletes by trigger (see the migration); the ORM refuses
    them earlier with a clear error.
    """

    __tablename__ = "operator_audit"
    __table_args__ = (
        sa.Index("ix_operator_audit_target", "target_type", "target_id"),
        sa.Index("ix_operator_audit_at", "at"),
    )

    id: Mapped[int] = mapped_column(_AUDIT_ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Null for actions without a known account (a failed login with an unknown name, the CLI).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("operator_users.id"), index=True)
    # The name as it was at the time: the username, the name typed at a failed login, or
    # "cli:<os user>".
    actor_name: Mapped[str] = mapped_column(sa.String(80))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(32))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))


class AuditLogIsAppendOnly(Exception):
    """Raised on an attempt to change or delete an audit row."""


@event.listens_for(OperatorAudit, "before_update")
@event.listens_for(OperatorAudit, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, target: OperatorAudit) -> None:
    raise AuditLogIsAppendOnly(f"operator_audit row {target.id} cannot be changed or deleted")
