"""Back-office access: accounts, passwords, login with lockout, and the audit trail.

A service layer: functions take the database session and flush, never commit (the request or
the CLI commits once). Every change of an account and every login attempt writes an audit row.
"""

from __future__ import annotations

import enum
import getpass
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from kiosk_app.config import OperatorUiConfig
from kiosk_app.models.operator import ROLES, OperatorAudit, OperatorUser, utcnow

MIN_PASSWORD_LENGTH = 12
# Argon2 hashes whatever it is given; an upper bound keeps one request from costing seconds.
MAX_PASSWORD_LENGTH = 256
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

# Every action the audit log records, with the label the audit page shows.
ACTIONS = {
    "login.success": "Logged in",
    "login.failure": "Login failed",
    "login.refused_locked": "Login refused: account locked",
    "login.refused_disabled": "Login refused: account disabled",
    "user.locked": "Account locked after failed logins",
    "logout": "Logged out",
    "session.expired": "Session expired (idle)",
    "user.create": "User created",
    "user.disable": "User disabled",
    "user.enable": "User enabled",
    "user.password_reset": "Password reset",
    "transaction.retry_capture": "Capture retried",
    "transaction.release_hold": "Hold release requested",
    "transaction.stop_session": "Session stop requested",
    "transaction.mark_reviewed": "Transaction marked as reviewed",
    "transaction.reissue_receipt_link": "Receipt link reissued",
    "transaction.record_refund": "Refund recorded",
    "receipt.cancel": "Cancellation receipt issued",
    "receipt.export": "Receipts exported",
    "receipt.view_pdf": "Receipt PDF viewed",
    "terminal.end_of_day": "End-of-day requested",
}

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class AccessError(Exception):
    """A request the access rules refuse; the message is fit to show to the operator.

    `field` names the input at fault (username, password, role) when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as recorded in the audit log."""

    request_id: str | None = None
    remote_addr: str | None = None


@dataclass(frozen=True)
class Actor:
    """Who acts (an operator account or the command line) and from where."""

    user_id: int | None
    name: str
    origin: Origin = field(default_factory=Origin)

    @classmethod
    def of(cls, user: OperatorUser, origin: Origin) -> Actor:
        return cls(user.id, user.username, origin)

    @classmethod
    def command_line(cls) -> Actor:
        return cls(None, f"cli:{getpass.getuser().lower()}")


@dataclass(frozen=True)
class LockoutPolicy:
    max_failed_logins: int = 5
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, ui: OperatorUiConfig) -> LockoutPolicy:
        return cls(ui.max_failed_logins, timedelta(minutes=ui.lockout_minutes))


class LoginOutcome(enum.Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: OperatorUser | None = None


def audit(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    **details: Any,
) -> OperatorAudit:
    """Append one entry to the audit log."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = OperatorAudit(
        actor_id=actor.user_id,
        actor_name=actor.name[:80],
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
        request_id=actor.origin.request_id,
        remote_addr=actor.origin.remote_addr,
    )
    session.add(entry)
    session.flush()
    return entry


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str, username: str) -> None:
    """Refuse passwords too short, too long, or equal to the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccessError(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", "password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccessError(
            f"The password must have at most {MAX_PASSWORD_LENGTH} characters.", "password"
        )
    if password.strip().lower() == username.lower():
        raise AccessError("The password must not be the username.", "password")


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored and compared in lower case."""
    return username.strip().lower()


def find_user(session: Session, username: str) -> OperatorUser | None:
    return session.scalar(
        sa.select(OperatorUser).where(OperatorUser.username == normalise_username(username))
    )


def list_users(session: Session) -> list[OperatorUser]:
    return list(session.scalars(sa.select(OperatorUser).order_by(OperatorUser.username)))


def user_for_session(session: Session, session_user_id: str) -> OperatorUser | None:
    """The account behind a login session's user id ("<id>:<epoch>"), if still valid."""
    user_id, _, epoch = session_user_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    user = session.get(OperatorUser, int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user


def create_user(
    session: Session, username: str, password: str, role: str, actor: Actor
) -> OperatorUser:
    """Create an account; refuses a malformed or taken username and a weak password."""
    username = normalise_username(username)
    if not _USERNAME.fullmatch(username):
        raise AccessError(
            "The username must be 1 to 64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
            "username",
        )
    if role not in ROLES:
        raise AccessError(f"The role must be one of: {', '.join(ROLES)}.", "role")
    check_password_policy(password, username)
    if find_user(session, username) is not None:
        raise AccessError(f"The username {username!r} is already taken.", "username")
    user = OperatorUser(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    audit(session, actor, "user.create", "operator_user", user.id, username=username, role=role)
    return user


def authenticate(
    session: Session,
    username: str,
    password: str,
    policy: LockoutPolicy,
    origin: Origin,
    now: datetime | None = None,
) -> LoginResult:
    """Check a login attempt, count failures, lock the account after too many, audit all."""
    now = now or utcnow()
    user = find_user(session, username)
    if user is None:
        _verify(_dummy_hash(), password)  # same cost as for a real account: no name probing
        stranger = Actor(None, normalise_username(username), origin)
        audit(session, stranger, "login.failure", reason="no such user")
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    actor = Actor.of(user, origin)
    if user.is_locked(now):
        audit(session, actor, "login.refused_locked", "operator_user", user.id)
        return LoginResult(LoginOutcome.LOCKED, user)
    if user.locked_until is not None:  # the lockout is over: a fresh count of failures
        user.locked_until, user.failed_logins = None, 0
    if not _verify(user.password_hash, password):
        _count_failure(session, user, actor, policy, now)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS, user)
    if not user.active:
        audit(session, actor, "login.refused_disabled", "operator_user", user.id)
        return LoginResult(LoginOutcome.DISABLED, user)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins, user.last_login_at = 0, now
    audit(session, actor, "login.success", "operator_user", user.id)
    return LoginResult(LoginOutcome.OK, user)


def record_logout(session: Session, user: OperatorUser, origin: Origin, expired: bool) -> None:
    """Audit the end of a login session, by the operator or by the idle timeout."""
    action = "session.expired" if expired else "logout"
    audit(session, Actor.of(user, origin), action, "operator_user", user.id)


def reset_password(session: Session, user: OperatorUser, password: str, actor: Actor) -> None:
    """Set a new password, lift any lockout and end the user's open sessions."""
    check_password_policy(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.failed_logins, user.locked_until = 0, None
    user.session_epoch += 1
    audit(session, actor, "user.password_reset", "operator_user", user.id, username=user.username)


def set_active(session: Session, user: OperatorUser, active: bool, actor: Actor) -> None:
    """Enable or disable an account; never the acting user's own nor the last active admin."""
    if user.active == active:
        raise AccessError(f"{user.username} is already {'enabled' if active else 'disabled'}.")
    if not active:
        if user.id == actor.user_id:
            raise AccessError("You cannot disable your own account.")
        if user.is_admin and _active_admins(session) <= 1:
            raise AccessError("You cannot disable the last active administrator.")
        user.session_epoch += 1
    user.active = active
    action = "user.enable" if active else "user.disable"
    audit(session, actor, action, "operator_user", user.id, username=user.username)


def _count_failure(
    session: Session, user: OperatorUser, actor: Actor, policy: LockoutPolicy, now: datetime
) -> None:
    user.failed_logins += 1
    audit(session, actor, "login.failure", "operator_user", user.id, failures=user.failed_logins)
    if user.failed_logins >= policy.max_failed_logins:
        user.locked_until = now + policy.lockout
        audit(
            session,
            actor,
            "user.locked",
            "operator_user",
            user.id,
            failures=user.failed_logins,
            until=user.locked_until.isoformat(),
        )


def _active_admins(session: Session) -> int:
    query = sa.select(sa.func.count()).where(OperatorUser.role == "admin", OperatorUser.active)
    return session.scalar(query) or 0


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a real password, only spends the time of a check")
