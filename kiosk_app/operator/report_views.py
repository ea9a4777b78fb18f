"""Back-office views of the dashboard and the daily reconciliation (with the end-of-day)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for

from kiosk_app import db
from kiosk_app.charging import EXTENSION as CHARGING
from kiosk_app.operator import actions, bp, closing_report, security
from kiosk_app.operator import dashboard as figures
from kiosk_app.operator import reconciliation as recon
from kiosk_app.operator.access import audit
from kiosk_app.operator.forms import ConfirmForm
from kiosk_app.operator.security import admin_required
from kiosk_app.operator.transaction_views import config

View = str | Response | tuple[str, int]


@bp.get("/")
def dashboard() -> View:
    day = _day_arg("until")
    kiosks = [k.id for k in config().kiosks]
    board = figures.figures(db.session(), day, config().operator.timezone, kiosks, _now())
    return render_template(
        "operator/dashboard.html",
        board=board,
        charts=figures.charts(board) if board.has_data else [],
        day=day,
    )


@bp.get("/reconciliation")
def reconciliation() -> View:
    day = _day_arg("day")
    kiosks = recon.reconcile(
        db.session(), day, config().operator.timezone, [k.id for k in config().kiosks]
    )
    return render_template("operator/reconciliation.html", day=day, kiosks=kiosks)


@bp.get("/reconciliation/report.pdf")
def reconciliation_report() -> Response:
    day = _day_arg("day")
    timezone = config().operator.timezone
    kiosks = recon.reconcile(db.session(), day, timezone, [k.id for k in config().kiosks])
    data = closing_report.render(day, timezone, kiosks, config().operator.legal_name)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename=closing-{day.isoformat()}.pdf"
    return response


@bp.route("/reconciliation/end-of-day/<kiosk_id>", methods=["GET", "POST"])
@admin_required
def end_of_day(kiosk_id: str) -> View:
    if kiosk_id not in {k.id for k in config().kiosks}:
        abort(404, description=f"There is no kiosk {kiosk_id!r}.")
    form = ConfirmForm()
    if form.validate_on_submit():
        service = current_app.extensions.get(CHARGING)
        if service is None:
            abort(503, description="The charging engine does not run in this process.")
        session = db.session()
        actions.end_request_transaction(session)
        closing_id = service.end_of_day(kiosk_id, security.acting_user().name)
        audit(
            session,
            security.acting_user(),
            "terminal.end_of_day",
            "kiosk",
            kiosk_id,
            closing_id=closing_id,
        )
        flash(
            f"End-of-day requested for {kiosk_id}: the worker that drives its terminal runs it "
            "between payments; reload this page to see the result.",
            "success",
        )
        return redirect(url_for("operator.reconciliation"))
    return render_template("operator/end_of_day_confirm.html", form=form, kiosk_id=kiosk_id)


def _now() -> datetime:
    """The engine's clock when it runs in this process (tests move it), else the real one."""
    service = current_app.extensions.get(CHARGING)
    return service.runner.clock() if service is not None else datetime.now(UTC)


def _day_arg(name: str) -> date:
    """A local day from the query string; today (operator's time zone) when absent."""
    text = request.args.get(name, "")
    if not text:
        return _now().astimezone(ZoneInfo(config().operator.timezone)).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400, description=f"The {name} must be a date like 2026-11-21, not {text[:20]!r}.")
