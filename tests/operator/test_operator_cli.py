"""`kiosk operator create-user` and `reset-password`, run as the real console script."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from operator_helpers import PASSWORD, SQLITE_ONLY, audit_entries, get_user

from kiosk_app.cli import main
from kiosk_app.config import load
from kiosk_app.operator import access

KIOSK = str(Path(sys.executable).with_name("kiosk"))


def kiosk(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["KIOSK_DATABASE_URL"] = database_url
    return subprocess.run(
        [KIOSK, "operator", *args], input=stdin, env=env, capture_output=True, text=True, timeout=60
    )


def kiosk_in_process(database_url: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """`kiosk operator ...` through its entry point in this process (quicker than a process)."""
    runner = CliRunner()
    env = {"KIOSK_DATABASE_URL": database_url}
    with runner.isolation(input=stdin, env=env) as streams, pytest.raises(SystemExit) as caught:
        main(["operator", *args])
    out, err = streams[0], streams[1]
    return caught.value.code, out.getvalue().decode(), err.getvalue().decode()


def test_create_user_reads_the_password_from_stdin(app, database_url):
    result = kiosk(
        database_url,
        "create-user",
        "Paula",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "created admin paula\n"
    user = get_user(app, "paula")
    assert user.role == "admin" and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in result.stdout + result.stderr
    (entry,) = audit_entries(app, "user.create")
    assert entry.actor_name == f"cli:{getpass.getuser().lower()}" and entry.actor_id is None


def test_create_user_prompts_twice_for_the_password_without_echo(app, database_url):
    # Without a terminal, click reads the hidden prompt from stdin: password and repetition.
    result = kiosk(
        database_url, "create-user", "quinn", "--role", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout
    assert get_user(app, "quinn").role == "viewer"


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["create-user", "rita", "--role", "admin", "--password", PASSWORD],
            "",
            "No such option '--password'",
        ),
        (
            ["create-user", "rita", "--role", "root", "--password-stdin"],
            PASSWORD,
            "'root' is not one of",
        ),
        (["create-user", "rita", "--password-stdin"], PASSWORD, "Missing option '--role'"),
        (["create-user", "rita", "--role", "admin", "--password-stdin"], "short\n", "at least 12"),
        (["create-user", "rita", "--role", "admin", "--password-stdin"], "", "gave no password"),
        (["reset-password", "nobody", "--password-stdin"], PASSWORD, "no user named 'nobody'"),
    ],
)
def test_bad_invocations_fail_in_one_line_with_code_2(app, database_url, args, stdin, message):
    code, _, stderr = kiosk_in_process(database_url, *args, stdin=stdin)
    assert code == 2
    assert message in stderr and stderr.count("\n") == 1, stderr
    assert audit_entries(app) == []


def test_a_taken_username_is_refused(app, database_url, make_user):
    make_user("sam")
    result = kiosk(
        database_url, "create-user", "SAM", "--role", "viewer", "--password-stdin", stdin=PASSWORD
    )
    assert result.returncode == 2 and "already taken" in result.stderr


def test_reset_password_sets_a_new_one_and_lifts_a_lockout(app, database_url, make_user):
    make_user("tina")
    policy = access.LockoutPolicy(max_failed_logins=1)
    with app.extensions["kiosk.db"].session() as session:
        access.authenticate(session, "tina", "wrong password!", policy, access.Origin())
        session.commit()
    assert get_user(app, "tina").locked_until is not None
    new = "the new long password"
    code, stdout, stderr = kiosk_in_process(
        database_url, "reset-password", "tina", "--password-stdin", stdin=new + "\n"
    )
    assert (code, stdout) == (0, "password of tina reset\n"), stderr
    tina = get_user(app, "tina")
    assert tina.locked_until is None and tina.session_epoch == 1
    with app.extensions["kiosk.db"].session() as session:
        outcome = access.authenticate(session, "tina", new, policy, access.Origin()).outcome
    assert outcome is access.LoginOutcome.OK
    (entry,) = audit_entries(app, "user.password_reset")
    assert entry.actor_name.startswith("cli:")


def test_an_unmigrated_database_is_a_clear_error(tmp_path):
    result = kiosk(
        f"sqlite:///{tmp_path / 'empty.sqlite3'}", "reset-password", "x", "--password-stdin"
    )
    assert result.returncode == 1
    assert "kiosk db upgrade" in result.stderr and "Traceback" not in result.stderr


def test_operator_ui_settings_come_from_the_environment():
    cfg = load(
        {
            "KIOSK_OPERATOR_UI_SESSION_IDLE_MINUTES": "5",
            "KIOSK_OPERATOR_UI_MAX_FAILED_LOGINS": "7",
            "KIOSK_OPERATOR_UI_LOCKOUT_MINUTES": "60",
            "KIOSK_OPERATOR_LEGAL_NAME": "Still the operator section",
        }
    )
    assert (cfg.operator_ui.session_idle_minutes, cfg.operator_ui.max_failed_logins) == (5, 7)
    assert cfg.operator_ui.lockout_minutes == 60
    assert cfg.operator.legal_name == "Still the operator section"


def test_operator_ui_settings_must_be_positive():
    from kiosk_app.config import ConfigError

    with pytest.raises(
        ConfigError, match=r"operator_ui\.max_failed_logins: 0; expected an integer of at least 1"
    ):
        load({"KIOSK_OPERATOR_UI_MAX_FAILED_LOGINS": "0"})
