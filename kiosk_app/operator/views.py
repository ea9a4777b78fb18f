"""Back-office views: parse the form, call the access service, render. Guards live in
`security`; every view except the login page requires a logged-in operator."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from kiosk_app import db
from kiosk_app.models.operator import OperatorUser, utcnow
from kiosk_app.operator import access, audit_log, bp, security
from kiosk_app.operator.forms import (
    AuditFilterForm,
    ConfirmForm,
    LoginForm,
    NewUserForm,
    PasswordResetForm,
)
from kiosk_app.operator.security import admin_required

View = str | Response | tuple[str, int]


@bp.route("/login", methods=["GET", "POST"])
def login() -> View:
    if current_user.is_authenticated:
        return redirect(url_for("operator.dashboard"))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        policy = access.LockoutPolicy.from_config(security.settings())
        result = access.authenticate(
            db.session(), form.username.data, form.password.data, policy, security.origin()
        )
        if result.outcome is access.LoginOutcome.OK:
            session.clear()  # nothing from before the login survives it
            login_user(result.user)
            security.touch_session()
            return redirect(_safe_next(request.args.get("next")))
        failed = True
    # A failed attempt answers 200 so that its audit entry and failure count are committed.
    return render_template("operator/login.html", form=form, failed=failed)


@bp.post("/logout")
def logout() -> Response:
    access.record_logout(db.session(), current_user, security.origin(), expired=False)
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("operator.login"))


@bp.get("/users")
@admin_required
def users() -> str:
    users = access.list_users(db.session())
    return render_template("operator/users.html", users=users, now=utcnow())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def user_new() -> View:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = access.create_user(
                db.session(),
                form.username.data,
                form.password.data,
                form.role.data,
                security.acting_user(),
            )
        except access.AccessError as exc:
            _show_error(form, exc)
        else:
            flash(f"User {user.username} ({user.role}) created.", "success")
            return redirect(url_for("operator.users"))
    return _form_page("operator/user_new.html", form)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def user_password(user_id: int) -> View:
    user = _user_or_404(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            access.reset_password(db.session(), user, form.password.data, security.acting_user())
        except access.AccessError as exc:
            _show_error(form, exc)
        else:
            flash(f"The password of {user.username} was reset; their sessions ended.", "success")
            return redirect(url_for("operator.users"))
    return _form_page("operator/user_password.html", form, user=user)


@bp.route("/users/<int:user_id>/disable", methods=["GET", "POST"])
@admin_required
def user_disable(user_id: int) -> View:
    return _set_active(user_id, active=False)


@bp.route("/users/<int:user_id>/enable", methods=["GET", "POST"])
@admin_required
def user_enable(user_id: int) -> View:
    return _set_active(user_id, active=True)


@bp.get("/audit")
def audit() -> View:
    form = AuditFilterForm(request.args)
    page_number = request.args.get("page", 1, type=int)
    if not form.validate() or page_number < 1:
        if page_number < 1:
            form.form_errors.append("The page number must be 1 or more.")
        return render_template("operator/audit.html", form=form, page=None), 400
    flt = audit_log.AuditFilter(
        actor=form.actor.data or "",
        action=form.action.data or "",
        target_type=form.target_type.data or "",
        target_id=form.target_id.data or "",
        since=form.since.data,
        until=form.until.data,
    )
    page = audit_log.search(db.session(), flt, page_number)
    # Only the form's own fields go back into the paging links (never url_for's `_scheme` & co).
    filters = {name: request.args[name] for name in form.data if request.args.get(name)}
    return render_template(
        "operator/audit.html", form=form, page=page, filters=filters, actions=access.ACTIONS
    )


def _set_active(user_id: int, active: bool) -> View:
    user = _user_or_404(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            access.set_active(db.session(), user, active, security.acting_user())
        except access.AccessError as exc:
            flash(str(exc), "error")
        else:
            flash(f"User {user.username} {'enabled' if active else 'disabled'}.", "success")
        return redirect(url_for("operator.users"))
    return render_template("operator/user_confirm.html", form=form, user=user, active=active)


def _show_error(form: FlaskForm, exc: access.AccessError) -> None:
    """Put a refusal of the service beside the input it concerns."""
    field = getattr(form, exc.field or "", None)
    (field.errors if field is not None else form.form_errors).append(str(exc))


def _form_page(template: str, form: FlaskForm, **context: object) -> View:
    """The form again; with 400 when it was posted and refused."""
    status = 400 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


def _user_or_404(user_id: int) -> OperatorUser:
    user = db.session().get(OperatorUser, user_id)
    if user is None:
        abort(404, description=f"There is no operator user with id {user_id}.")
    return user


def _safe_next(target: str | None) -> str:
    """Where to go after the login: only a page of the back office itself."""
    home = url_for("operator.dashboard")
    if not target:
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(home) or "\\" in target:
        return home
    return target
