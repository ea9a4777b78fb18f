"""Back-office views of transactions and receipts: search, details, confirmed admin actions."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from wtforms import SelectChoice

from kiosk_app import db, receipt_export, receipting
from kiosk_app.charging import EXTENSION as CHARGING
from kiosk_app.charging.service import ChargingService, RefundRefused
from kiosk_app.config import Config
from kiosk_app.models.receipts import ReceiptRecord
from kiosk_app.operator import actions, bp, queries, security
from kiosk_app.operator.access import audit
from kiosk_app.operator.forms import (
    ConfirmForm,
    ExportForm,
    NoteForm,
    ReceiptFilterForm,
    RefundForm,
    SearchForm,
    TransactionFilterForm,
)
from kiosk_app.operator.security import admin_required
from receipts import money

View = str | Response | tuple[str, int]


def config() -> Config:
    return current_app.config["KIOSK"]


@bp.app_template_filter("minor_money")
def format_money(minor: int | None, currency: str) -> str:
    """Minor units as a plain amount with its currency: 1234 EUR → "12.34 EUR"."""
    if minor is None:
        return "–"
    return f"{money.to_major(minor, currency)} {currency}"


@bp.app_template_filter("utc_time")
def format_utc(moment: Any) -> str:
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# --- transactions ----------------------------------------------------------------------------


@bp.get("/transactions")
def transactions() -> View:
    form = TransactionFilterForm(request.args)
    form.kiosk.choices = [SelectChoice("", "Any kiosk")] + [
        SelectChoice(k.id, k.name or k.id) for k in config().kiosks
    ]
    page_number = request.args.get("page", 1, type=int)
    if not form.validate() or page_number < 1:
        return render_template("operator/transactions.html", form=form, page=None), 400
    flt = queries.TransactionFilter(
        since=form.since.data,
        until=form.until.data,
        kiosk=form.kiosk.data or "",
        evse=form.evse.data or "",
        state=form.state.data or "",
        amount_minor=form.amount.minor,
        last4=form.last4.data or "",
        code=form.code.data or "",
    )
    page = queries.search_transactions(db.session(), flt, config().operator.timezone, page_number)
    return render_template(
        "operator/transactions.html", form=form, page=page, filters=_filters(form)
    )


@bp.get("/transactions/<ref>")
def transaction(ref: str) -> View:
    detail = _transaction_or_404(ref)
    return render_template(
        "operator/transaction.html",
        detail=detail,
        tx=detail.tx,
        actions=actions.TRANSACTION_ACTIONS,
        offered=_offered(detail),
    )


def _transaction_action(ref: str, slug: str) -> View:
    action = actions.TRANSACTION_ACTIONS[slug]
    detail = _transaction_or_404(ref)
    form = NoteForm() if slug == "mark-reviewed" else ConfirmForm()
    if form.validate_on_submit():
        note = form.note.data or "" if isinstance(form, NoteForm) else ""
        before, after = actions.act_on_transaction(
            db.session(), _engine(), action, ref, security.acting_user(), note
        )
        if before == after and slug != "mark-reviewed":
            flash(
                f"{action.title}: the engine recorded the request; the state stays {after}.", "info"
            )
        else:
            flash(f"{action.title}: done. State {before} → {after}.", "success")
        return redirect(url_for("operator.transaction", ref=ref))
    return render_template(
        "operator/transaction_confirm.html", form=form, action=action, detail=detail, tx=detail.tx
    )


# One endpoint per action, so that each is listed, guarded and tested on its own.
for _slug in actions.TRANSACTION_ACTIONS:
    bp.add_url_rule(
        f"/transactions/<ref>/{_slug}",
        endpoint=f"transaction_{_slug.replace('-', '_')}",
        view_func=admin_required(
            lambda ref, _slug=_slug: _transaction_action(ref, _slug)  # type: ignore[misc]
        ),
        methods=["GET", "POST"],
    )


@bp.route("/transactions/<ref>/reissue-link", methods=["GET", "POST"])
@admin_required
def transaction_reissue_link(ref: str) -> View:
    detail = _transaction_or_404(ref)
    record = receipting.current_receipt(db.session(), ref, voucher=True)
    if record is None:
        abort(404, description="This transaction has no receipt or voucher to send again.")
    form = ConfirmForm()
    if form.validate_on_submit():
        link = actions.reissue_link(db.session(), record, config(), security.acting_user(), ref)
        # Shown once, in this answer only (no redirect, no flash in the session cookie).
        return render_template(
            "operator/link_reissued.html", link=link, detail=detail, number=_number(record)
        )
    return render_template(
        "operator/reissue_confirm.html", form=form, detail=detail, number=_number(record)
    )


# --- refunds ---------------------------------------------------------------------------------


@bp.get("/refunds")
def refunds() -> View:
    page_number = request.args.get("page", 1, type=int)
    if page_number < 1:
        abort(400, description="page: must be 1 or more.")
    page = queries.refunds_due(db.session(), page_number)
    return render_template("operator/refunds.html", page=page)


@bp.route("/transactions/<ref>/record-refund", methods=["GET", "POST"])
@admin_required
def transaction_record_refund(ref: str) -> View:
    detail = _transaction_or_404(ref)
    form = RefundForm()
    if form.validate_on_submit():
        assert form.amount.minor is not None  # DataRequired and the field's own parsing
        try:
            tx = actions.record_refund(
                db.session(),
                _engine(),
                ref,
                security.acting_user(),
                form.amount.minor,
                form.acquirer_reference.data or "",
            )
        except RefundRefused as exc:
            getattr(form, exc.field).errors.append(_refusal(exc, detail))
        else:
            amount = format_money(form.amount.minor, tx.currency)
            flash(f"Refund of {amount} recorded; the driver gets a credit note.", "success")
            return redirect(url_for("operator.transaction", ref=ref))
    status = 400 if form.is_submitted() else 200
    page = render_template("operator/refund_form.html", form=form, detail=detail, tx=detail.tx)
    return page, status


def _refusal(exc: RefundRefused, detail: queries.TransactionDetail) -> str:
    if exc.field == "amount":
        due = format_money(detail.tx.refund_due_minor, detail.tx.currency)
        return f"The amount must be more than 0 and at most the {due} due."
    return exc.message[:1].upper() + exc.message[1:] + "."


# --- receipts --------------------------------------------------------------------------------


@bp.get("/receipts")
def receipts() -> View:
    form = ReceiptFilterForm(request.args)
    page_number = request.args.get("page", 1, type=int)
    export_form = ExportForm(formdata=None, prefix="export")
    if not form.validate() or page_number < 1:
        return render_template(
            "operator/receipts.html", form=form, page=None, export_form=export_form
        ), 400
    flt = queries.ReceiptFilter(
        number=form.number.data or "",
        since=form.since.data,
        until=form.until.data,
        evse=form.evse.data or "",
        amount_minor=form.amount.minor,
        last4=form.last4.data or "",
    )
    page = queries.search_receipts(db.session(), flt, config().operator.timezone, page_number)
    return render_template(
        "operator/receipts.html",
        form=form,
        page=page,
        filters=_filters(form),
        export_form=export_form,
    )


@bp.get("/receipts/<int:receipt_id>")
def receipt(receipt_id: int) -> View:
    view = _receipt_or_404(receipt_id)
    original = db.session().get(ReceiptRecord, view.record.original_id or 0)
    return render_template(
        "operator/receipt.html",
        view=view,
        content=receipting.receipt_of(view.record),
        original=original,
    )


@bp.get("/receipts/<int:receipt_id>/receipt.pdf")
def receipt_pdf(receipt_id: int) -> Response:
    view = _receipt_or_404(receipt_id)
    # Without the QR link: the link token is known to the driver only.
    response = Response(receipting.render_pdf(view.record, None), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename={view.number}.pdf"
    audit(db.session(), security.acting_user(), "receipt.view_pdf", "receipt", receipt_id)
    return response


@bp.route("/receipts/<int:receipt_id>/cancel", methods=["GET", "POST"])
@admin_required
def receipt_cancel(receipt_id: int) -> View:
    view = _receipt_or_404(receipt_id)
    if not view.cancellable:
        abort(
            409,
            description=f"Receipt {view.number} cannot be cancelled: it is a voucher, a "
            "cancellation or a credit note, or was cancelled already.",
        )
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            issued = actions.cancel_receipt(
                db.session(), view.record, config(), security.acting_user()
            )
        except receipting.ReceiptRefused as exc:
            flash(f"The cancellation was refused: {exc}", "error")
            return redirect(url_for("operator.receipt", receipt_id=receipt_id))
        flash(f"Cancellation receipt issued for {view.number}.", "success")
        return redirect(url_for("operator.receipt", receipt_id=issued.id))
    return render_template("operator/receipt_cancel.html", form=form, view=view)


@bp.get("/receipts/export")
def receipts_export() -> View:
    form = ExportForm(request.args, prefix="export")
    if not form.validate():
        return render_template(
            "operator/receipts.html",
            form=ReceiptFilterForm(formdata=None),
            page=None,
            export_form=form,
        ), 400
    first, last, fmt = form.since.data, form.until.data, form.format.data
    text = receipt_export.export(db.session(), first, last, config().operator.timezone, fmt)
    audit(
        db.session(),
        security.acting_user(),
        "receipt.export",
        "receipts",
        None,
        since=first.isoformat(),
        until=last.isoformat(),
        format=fmt,
    )
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    response = Response(text, mimetype=mimetype)
    name = f"receipts-{first.isoformat()}-{last.isoformat()}.{fmt}"
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    return response


# --- helpers ---------------------------------------------------------------------------------


def _engine() -> ChargingService:
    service = current_app.extensions.get(CHARGING)
    if service is None:
        abort(503, description="The charging engine does not run in this process.")
    return service


def _transaction_or_404(ref: str) -> queries.TransactionDetail:
    detail = queries.transaction(db.session(), ref)
    if detail is None:
        abort(404, description=f"There is no transaction with the reference {ref!r}.")
    return detail


def _receipt_or_404(receipt_id: int) -> queries.ReceiptView:
    view = queries.receipt(db.session(), receipt_id)
    if view is None:
        abort(404, description=f"There is no receipt with id {receipt_id}.")
    return view


def _number(record: ReceiptRecord) -> str:
    return receipting.receipt_of(record).receipt_number


def _offered(detail: queries.TransactionDetail) -> set[str]:
    """The actions the engine would act on now (the others stay reachable, and are no-ops)."""
    tx, offered = detail.tx, set()
    state = str(tx.state)
    if state in ("CAPTURE_FAILED", "NEEDS_ATTENTION") and not tx.captures:
        offered.add("retry-capture")
    if not tx.captures and (detail.open_hold_minor > 0 or tx.uncertain):
        offered.add("release-hold")
    if tx.session_id and state in (
        "AUTHORISED",
        "STARTING",
        "START_ACCEPTED",
        "CHARGING",
        "STOPPING",
    ):
        offered.add("stop-session")
    if tx.review_flags:
        offered.add("mark-reviewed")
    if any(r.kind != "cancellation" and not r.cancelled for r in detail.receipts):
        offered.add("reissue-link")
    if tx.refund_due_minor > 0:
        offered.add("record-refund")
    return offered


def _filters(form: SearchForm) -> dict[str, str]:
    """The form's own fields for the paging links (never url_for's `_scheme` & co)."""
    return {name: request.args[name] for name in form.data if request.args.get(name)}
