"""The access service on a real database: hashing, accounts, authentication and lockout,
and the append-only audit log (enforced by the ORM and by the database itself)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from operator_helpers import PASSWORD, SQLITE_ONLY

from kiosk_app.models.operator import AuditLogIsAppendOnly, OperatorAudit, OperatorUser, utcnow
from kiosk_app.operator import access
from kiosk_app.operator.access import AccessError, Actor, LockoutPolicy, LoginOutcome, Origin

POLICY = LockoutPolicy(max_failed_logins=3, lockout=timedelta(minutes=15))
ORIGIN = Origin(request_id="req-1", remote_addr="192.0.2.7")
CLI = Actor(None, "cli:test")


@pytest.fixture
def session(app):  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as session:
        yield session


def actions(session) -> list[str]:  # type: ignore[no-untyped-def]
    return list(session.scalars(sa.select(OperatorAudit.action).order_by(OperatorAudit.id)))


def test_passwords_are_hashed_with_argon2id_and_a_salt_of_their_own(production_hashing):
    first, second = access.hash_password(PASSWORD), access.hash_password(PASSWORD)
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and first != second
    assert PASSWORD not in first
    assert PasswordHasher().verify(first, PASSWORD)
    assert not PasswordHasher().check_needs_rehash(first)  # the library's recommended cost


def test_a_hash_of_weaker_parameters_is_upgraded_at_the_next_login(
    session, make_user, production_hashing
):
    user = make_user("wendy")  # hashed at the test suite's low cost
    result = access.authenticate(session, "wendy", PASSWORD, POLICY, ORIGIN)
    assert result.outcome is LoginOutcome.OK
    assert result.user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert result.user.password_hash != user.password_hash


def test_create_user_stores_a_hash_and_audits(session):
    user = access.create_user(session, "  Carol ", PASSWORD, "admin", CLI)
    session.commit()
    assert user.username == "carol" and user.role == "admin" and user.active
    assert user.password_hash.startswith("$argon2id$")
    entry = session.scalars(sa.select(OperatorAudit)).one()
    assert (entry.action, entry.actor_name, entry.target_type, entry.target_id) == (
        "user.create",
        "cli:test",
        "operator_user",
        str(user.id),
    )
    assert entry.details == {"username": "carol", "role": "admin"}


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("username", "password", "role", "field", "message"),
    [
        ("dave", "short", "viewer", "password", "at least 12 characters"),
        ("dave", "x" * 257, "viewer", "password", "at most 256"),
        ("davedavedave", "DaveDaveDave", "viewer", "password", "must not be the username"),
        ("", PASSWORD, "viewer", "username", "1 to 64 characters"),
        ("da ve", PASSWORD, "viewer", "username", "1 to 64 characters"),
        ("x" * 65, PASSWORD, "viewer", "username", "1 to 64 characters"),
        ("dave", PASSWORD, "root", "role", "viewer, admin"),
    ],
)
def test_create_user_refuses_bad_input(session, username, password, role, field, message):
    with pytest.raises(AccessError, match=message) as caught:
        access.create_user(session, username, password, role, CLI)
    assert caught.value.field == field
    assert session.scalar(sa.select(sa.func.count()).select_from(OperatorUser)) == 0


def test_usernames_are_unique_regardless_of_case(session, make_user):
    make_user("erin")
    with pytest.raises(AccessError, match="already taken"):
        access.create_user(session, "ERIN", PASSWORD, "viewer", CLI)


def test_authenticate_accepts_the_right_password_only(session, make_user):
    make_user("frank")
    assert access.authenticate(session, "frank", "wrong password!", POLICY, ORIGIN).outcome is (
        LoginOutcome.BAD_CREDENTIALS
    )
    result = access.authenticate(session, "Frank", PASSWORD, POLICY, ORIGIN)
    assert result.outcome is LoginOutcome.OK and result.user is not None
    assert result.user.failed_logins == 0 and result.user.last_login_at is not None
    assert actions(session) == ["login.failure", "login.success"]
    success = session.scalars(sa.select(OperatorAudit).order_by(OperatorAudit.id.desc())).first()
    assert (success.actor_id, success.request_id, success.remote_addr) == (
        result.user.id,
        "req-1",
        "192.0.2.7",
    )


def test_an_unknown_name_fails_like_a_wrong_password(session):
    result = access.authenticate(session, "Nobody", PASSWORD, POLICY, ORIGIN)
    assert result.outcome is LoginOutcome.BAD_CREDENTIALS and result.user is None
    entry = session.scalars(sa.select(OperatorAudit)).one()
    assert (entry.action, entry.actor_id, entry.actor_name) == ("login.failure", None, "nobody")


def test_lockout_after_repeated_failures_then_a_fresh_start(session, make_user):
    make_user("grace")
    now = utcnow()
    for _ in range(POLICY.max_failed_logins):
        outcome = access.authenticate(session, "grace", "wrong password!", POLICY, ORIGIN, now)
        assert outcome.outcome is LoginOutcome.BAD_CREDENTIALS
    user = access.find_user(session, "grace")
    assert user.failed_logins == 3 and user.is_locked(now)
    # While locked, even the right password is refused.
    later = now + POLICY.lockout - timedelta(seconds=1)
    assert access.authenticate(session, "grace", PASSWORD, POLICY, ORIGIN, later).outcome is (
        LoginOutcome.LOCKED
    )
    after = now + POLICY.lockout + timedelta(seconds=1)
    assert access.authenticate(session, "grace", PASSWORD, POLICY, ORIGIN, after).outcome is (
        LoginOutcome.OK
    )
    assert user.failed_logins == 0 and user.locked_until is None
    assert actions(session) == [
        "login.failure",
        "login.failure",
        "login.failure",
        "user.locked",
        "login.refused_locked",
        "login.success",
    ]


def test_a_disabled_account_cannot_log_in(session, make_user):
    make_user("heidi", active=False)
    assert access.authenticate(session, "heidi", PASSWORD, POLICY, ORIGIN).outcome is (
        LoginOutcome.DISABLED
    )
    assert actions(session) == ["login.refused_disabled"]


def test_reset_password_lifts_the_lockout_and_ends_sessions(session, make_user):
    user = make_user("ivan")
    for _ in range(3):
        access.authenticate(session, "ivan", "wrong password!", POLICY, ORIGIN)
    user = access.find_user(session, "ivan")
    old_session_id = user.get_id()
    access.reset_password(session, user, "a brand new secret", CLI)
    assert user.locked_until is None and user.failed_logins == 0
    assert access.user_for_session(session, old_session_id) is None
    assert access.user_for_session(session, user.get_id()) is user
    assert access.authenticate(session, "ivan", "a brand new secret", POLICY, ORIGIN).outcome is (
        LoginOutcome.OK
    )
    assert access.authenticate(session, "ivan", PASSWORD, POLICY, ORIGIN).outcome is (
        LoginOutcome.BAD_CREDENTIALS
    )


def test_set_active_protects_oneself_and_the_last_admin(session, make_user):
    admin, other = make_user("judy", "admin"), make_user("karl", "viewer")
    admin, other = session.get(OperatorUser, admin.id), session.get(OperatorUser, other.id)
    with pytest.raises(AccessError, match="your own account"):
        access.set_active(session, admin, False, Actor.of(admin, ORIGIN))
    with pytest.raises(AccessError, match="last active administrator"):
        access.set_active(session, admin, False, CLI)
    session_id = other.get_id()
    access.set_active(session, other, False, Actor.of(admin, ORIGIN))
    assert not other.active and access.user_for_session(session, session_id) is None
    with pytest.raises(AccessError, match="already disabled"):
        access.set_active(session, other, False, CLI)
    access.set_active(session, other, True, CLI)
    assert other.active
    assert actions(session) == ["user.disable", "user.enable"]


@SQLITE_ONLY
@pytest.mark.parametrize("session_id", ["", "1", "x:0", "1:x", "999:0", "1:-1"])
def test_malformed_or_unknown_session_ids_load_nobody(session, session_id):
    assert access.user_for_session(session, session_id) is None


def test_the_audit_log_refuses_changes_through_the_orm(session):
    entry = access.audit(session, CLI, "user.create")
    session.commit()
    entry.action = "logout"
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    session.delete(session.get(OperatorAudit, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()


@pytest.mark.parametrize(
    "statement", ["UPDATE operator_audit SET action = 'logout'", "DELETE FROM operator_audit"]
)
def test_the_database_itself_refuses_changes_to_the_audit_log(app, session, statement):
    access.audit(session, CLI, "user.create")
    session.commit()
    engine = app.extensions["kiosk.db"].engine
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert session.scalar(sa.select(OperatorAudit.action)) == "user.create"


def test_unknown_audit_actions_are_a_programming_error(session):
    with pytest.raises(ValueError, match="unknown audit action"):
        access.audit(session, CLI, "user.delete")
