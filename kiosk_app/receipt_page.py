"""The public receipt page behind the QR code: `/r/<token>`, its PDF and its meter data.

The token is a bearer credential: unknown, expired and malformed tokens all get the same plain
404, and lookups are rate-limited per client IP (in-process, so per web process; behind a
reverse proxy configure the proxy to pass the client address, e.g. with werkzeug's ProxyFix).
Responses are never cached, indexed or leaked through the Referer header.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState

from kiosk_app import db, receipting
from kiosk_app.config import ConfigError
from kiosk_app.models.receipts import ReceiptRecord
from receipts import fonts, ocmf, pdf, profiles, texts
from receipts.model import Customer, Receipt

bp = Blueprint("receipt_page", __name__, url_prefix="/r")

TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
WINDOW_SECONDS = 60.0
MAX_LINE = 100


class RateLimiter:
    """At most `limit` hits per key in any sliding window of `window` seconds."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._hits) > 10_000:  # forget idle clients so memory stays bounded
                self._hits = {
                    k: v for k, v in self._hits.items() if v and v[-1] > now - self.window
                }
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    try:
        fonts.check()
    except fonts.FontMissing as exc:
        # stop start-up with one line (the CLI prints configuration errors so), rather than
        # fail a driver's download later
        raise ConfigError(str(exc)) from exc
    limit = state.app.config["KIOSK"].receipts.lookups_per_minute
    state.app.extensions["kiosk.receipt_limiter"] = RateLimiter(limit)


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _lookup(token: str) -> ReceiptRecord:
    limiter: RateLimiter = current_app.extensions["kiosk.receipt_limiter"]
    if not limiter.allow(request.remote_addr or "-"):
        abort(429)
    record = receipting.find_by_token(db.session(), token) if TOKEN.fullmatch(token) else None
    if record is None:
        abort(404)
    return record


@bp.get("/<token>")
def page(token: str):  # type: ignore[no-untyped-def]
    record = _lookup(token)
    return _page(receipting.receipt_of(record), record)


@bp.post("/<token>/customer")
def customer(token: str):  # type: ignore[no-untyped-def]
    """The driver asks for a full invoice with name and address (see receipting.add_customer)."""
    record = _lookup(token)
    receipt = receipting.receipt_of(record)
    if not receipting.needs_customer(receipt):
        abort(404)
    name = request.form.get("name", "").strip()
    address = tuple(
        line.strip() for line in request.form.get("address", "").splitlines() if line.strip()
    )
    if not (0 < len(name) <= MAX_LINE and 0 < len(address) <= 4) or any(
        len(line) > MAX_LINE for line in address
    ):
        return _page(receipt, record, error=True), 400
    config = current_app.config["KIOSK"]
    issued = receipting.add_customer(db.session(), record, Customer(name, address), config)
    return redirect(url_for(".page", token=issued.token), code=303)


def _page(receipt: Receipt, record: ReceiptRecord, error: bool = False):  # type: ignore[no-untyped-def]
    checks = []
    if receipt.metering:
        for data in receipt.metering.ocmf:
            result = ocmf.check(data, receipt.metering.public_key)
            checks.append(result.status.value)
    lang = receipt.language
    return render_template(
        "receipt/page.html",
        receipt=receipt,
        title=texts.text(profiles.title_key(receipt), lang),
        checks=checks,
        t=lambda key: texts.text(key, lang),
        amount=lambda minor: texts.amount(minor, receipt.currency, lang),
        when=lambda moment: texts.when(moment, receipt.timezone, lang),
        number=lambda value, places: texts.number(value, places, lang),
        rate=lambda value: texts.rate(value, lang),
        needs_customer=receipting.needs_customer(receipt),
        error=error,
        original_label=pdf.original_label(receipt),
        credit_notes=[
            receipting.receipt_of(note) for note in receipting.credit_notes(db.session(), record)
        ],
    )


@bp.get("/<token>/receipt.pdf")
def receipt_pdf(token: str) -> Response:
    record = _lookup(token)
    link = current_app.config["KIOSK"].receipts.public_base_url + token
    response = Response(receipting.render_pdf(record, link), mimetype="application/pdf")
    response.headers["Content-Disposition"] = "inline; filename=receipt.pdf"
    return response


@bp.get("/<token>/credit-notes/<number>.pdf")
def credit_note_pdf(token: str, number: str) -> Response:
    """A credit note of the receipt this link opens (the driver's link stays the one link)."""
    record = _lookup(token)
    note = next(
        (
            n
            for n in receipting.credit_notes(db.session(), record)
            if receipting.receipt_of(n).receipt_number == number
        ),
        None,
    )
    if note is None:
        abort(404)
    response = Response(receipting.render_pdf(note, None), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename={number}.pdf"
    return response


@bp.get("/<token>/ocmf.xml")
def ocmf_xml(token: str) -> Response:
    record = _lookup(token)
    data = receipting.ocmf_xml(record)
    if data is None:
        abort(404)
    response = Response(data, mimetype="application/xml")
    response.headers["Content-Disposition"] = "attachment; filename=ocmf.xml"
    return response
