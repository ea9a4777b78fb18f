"""The kiosk screens: parse the request, ask `data` (the engine), render.

All driver state lives in one signed-cookie entry, `session["kiosk"]`: the kiosk id, the chosen
language and the ref of the driver's transaction. "Start over" and the idle timeout drop it, so
nothing of the previous driver survives; a transaction URL whose ref is not the session's sends
the browser back to the start (the back button after a reset shows nothing old).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from kiosk_app.charging.service import NoCardRead
from kiosk_app.config import KioskConfig
from kiosk_app.i18n import LANGUAGES, NATIVE_NAMES
from kiosk_app.kiosk import data, formatting, messages, speech
from kiosk_app.kiosk.data import KioskRefusal
from kiosk_app.kiosk.viewmodels import (
    ChargingView,
    ErrorView,
    PaymentView,
    StatusUpdate,
    TransactionScreen,
)

log = logging.getLogger(__name__)

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk/<kiosk_id>")
for _name, _filter in formatting.FILTERS.items():
    bp.add_app_template_filter(_filter, _name)

SESSION_KEY = "kiosk"
# Session codes are short and typed on a touch keyboard: letters and digits only.
CODE_PATTERN = re.compile(r"[A-Za-z0-9]{4,12}")
# Screens without the idle timeout: the payment and the start of charging run on their own
# clocks (the terminal's card and PIN timeouts, the plug-in window), which end an abandoned
# transaction on the "finished" screen; an idle reset there would take the screen from a driver
# busy at the terminal or the car, before they saw their session code (docs/kiosk.md).
IDLE_PAUSED_ON = ("pay", "starting")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


# --- request plumbing -----------------------------------------------------------------------


@bp.url_value_preprocessor
def _pick_kiosk(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    kiosk_id = (values or {}).pop("kiosk_id", "")
    g.kiosk = _kiosk(kiosk_id)
    if g.kiosk is None:
        g.language = "en"  # no kiosk, no default language of its own
        abort(404)
    language = _state().get("lang")
    g.language = language if language in LANGUAGES else g.kiosk.default_language


@bp.url_defaults
def _add_kiosk_id(_endpoint: str, values: dict[str, Any]) -> None:
    if "kiosk_id" not in values and g.get("kiosk") is not None:
        values["kiosk_id"] = g.kiosk.id


@bp.after_request
def _protect(response: Response) -> Response:
    # no-store keeps a previous driver's screens out of the back/forward cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Content-Language"] = g.get("language", "en")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.context_processor
def _page_context() -> dict[str, Any]:
    ui = current_app.config["KIOSK"].kiosk_ui
    state = _state()
    return {
        # Nothing of a driver to forget: the idle timer need not reload the start screen.
        "fresh": not (state.get("lang") or state.get("ref")),
        "kiosk": g.get("kiosk"),
        "language": g.get("language", "en"),
        "languages": [(code, NATIVE_NAMES[code]) for code in LANGUAGES],
        "idle_timeout_ms": ui.idle_timeout_s * 1000,
        "idle_paused_on": IDLE_PAUSED_ON,
        "speech_max_chars": speech.MAX_CHARS,
        "poll_interval_ms": ui.poll_interval_ms,
        "prompt_text": messages.prompt_text,
        "explain": messages.explain,
        "qr_svg": formatting.qr_svg,
        "asset_version": asset_version(current_app.static_folder or ""),
    }


@functools.cache
def asset_version(static_folder: str) -> str:
    """A short digest of the kiosk's CSS and JavaScript: part of their URLs, so a new version is
    a new address and the browser may cache them for long (kiosk.STATIC_MAX_AGE)."""
    digest = hashlib.sha256()
    for name in ("kiosk.css", "kiosk.js"):
        digest.update((Path(static_folder) / "kiosk" / name).read_bytes())
    return digest.hexdigest()[:12]


def _kiosk(kiosk_id: str) -> KioskConfig | None:
    return next((k for k in current_app.config["KIOSK"].kiosks if k.id == kiosk_id), None)


def _state() -> dict[str, Any]:
    """This kiosk's driver state from the session; another kiosk's state counts as none."""
    state = session.get(SESSION_KEY) or {}
    kiosk = g.get("kiosk")
    return state if kiosk is not None and state.get("id") == kiosk.id else {}


def _save(**changes: Any) -> None:
    session[SESSION_KEY] = {**_state(), "id": g.kiosk.id, **changes}


def _own(ref: str) -> None:
    """Only the ref this driver chose or found may be shown; anything else goes to the start."""
    if _state().get("ref") != ref:
        if request.accept_mimetypes.best == "application/json":
            abort(404)
        abort(redirect(url_for(".start")))


# --- screens that need no engine --------------------------------------------------------------


@bp.get("/")
def start() -> str:
    return render_template("kiosk/start.html", screen="start")


@bp.post("/language")
def change_language() -> Response:
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400)
    _save(lang=language)
    return redirect(_safe_next(request.form.get("next", "")), code=303)


@bp.post("/reset")
def reset() -> Response:
    """Start over: forget the driver (language, transaction) and show the start screen. An
    unpaid selection is cancelled, so the charge point is free for the next driver."""
    ref = _state().get("ref")
    if ref:
        data.abandon(ref)
    session.pop(SESSION_KEY, None)
    return redirect(url_for(".start"), code=303)


@bp.get("/error/<reason>")
def error(reason: str) -> tuple[str, int]:
    if reason not in messages.ERRORS:
        abort(404)
    return _error_page(reason, 200)


@bp.route("/<path:_unknown>")
def unknown(_unknown: str) -> None:
    """Any other address under the kiosk: the translated "page does not exist" screen."""
    abort(404)


@bp.get("/find")
def find() -> str:
    return render_template("kiosk/find.html", screen="find", problem=None)


def _safe_next(target: str) -> str:
    """Only a path of this kiosk; anything else (another host, another kiosk) means the start."""
    prefix = url_for(".start")
    if target.startswith(prefix) and "//" not in target and "\\" not in target:
        return target
    return prefix


@bp.get("/speech")
def speak() -> Response | tuple[Response, int]:
    """`?text=…&lang=…` spoken, as `audio/wav` (the "Read aloud" control of every screen).

    An unknown or missing `lang` is the driver's language. Errors are JSON, never an HTML page:
    the caller is an audio element, and the screen works on without sound.
    """
    text = speech.normalise(request.args.get("text", ""))
    if not text:
        return _speech_error("text: required, the words to speak", 400)
    if len(text) > speech.MAX_CHARS:
        return _speech_error(f"text: at most {speech.MAX_CHARS} characters", 400)
    language = request.args.get("lang", "")
    try:
        audio = speech.wav(text, language if language in LANGUAGES else g.language)
    except speech.SpeechUnavailable as exc:
        log.warning("speech output unavailable: %s", exc)
        return _speech_error("speech output is not available on this kiosk", 503)
    return Response(audio, mimetype="audio/wav")


def _speech_error(message: str, code: int) -> tuple[Response, int]:
    return jsonify(error=HTTP_STATUS_CODES[code], message=message), code


# --- screens on engine data ---------------------------------------------------------------------


@bp.get("/evses")
def evses() -> str:
    tiles = data.list_evses(g.kiosk.id)
    return render_template("kiosk/evses.html", screen="evses", tiles=tiles)


@bp.post("/evses/<evse_uid>")
def select(evse_uid: str) -> Response:
    ref = data.select_evse(g.kiosk.id, evse_uid, g.language)
    _save(ref=ref)
    return redirect(url_for(".price", ref=ref), code=303)


@bp.get("/t/<ref>/price")
def price(ref: str) -> str:
    _own(ref)
    return render_template("kiosk/price.html", screen="price", view=data.price_summary(ref))


@bp.post("/t/<ref>/back")
def back(ref: str) -> Response:
    _own(ref)
    data.abandon(ref)  # unpaid: cancelled; a stale page of a paid one changes nothing
    _save(ref=None)
    return redirect(url_for(".evses"), code=303)


@bp.post("/t/<ref>/pay")
def pay(ref: str) -> Response:
    _own(ref)
    data.pay(ref)  # idempotent: a double tap or a resubmitted form starts one payment
    return redirect(url_for(".transaction", ref=ref), code=303)


@bp.post("/t/<ref>/cancel")
def cancel(ref: str) -> Response:
    _own(ref)
    data.cancel(ref)
    return redirect(url_for(".transaction", ref=ref), code=303)


@bp.post("/t/<ref>/stop")
def stop(ref: str) -> Response:
    _own(ref)
    data.stop(ref)
    return redirect(url_for(".transaction", ref=ref), code=303)


@bp.get("/t/<ref>")
def transaction(ref: str) -> str:
    _own(ref)
    view = data.transaction(ref)
    return render_template(
        f"kiosk/{view.screen}.html",
        screen=view.screen,
        view=view,
        live=live_fields(view),
        now=datetime.now(UTC),
    )


@bp.get("/t/<ref>/status")
def status(ref: str) -> Response:
    """Poll: `?since=<cursor>`; answers the screen, new messages and the live values."""
    _own(ref)
    since = request.args.get("since", "0")
    if not since.isdigit():
        abort(400, description="since: expected a non-negative integer cursor")
    update = data.status(ref, int(since))
    return jsonify(status_payload(update, url_for(".transaction", ref=ref)))


@bp.post("/find/code")
def find_code() -> Response | tuple[str, int]:
    code = request.form.get("code", "").strip()
    if not CODE_PATTERN.fullmatch(code):
        return render_template("kiosk/find.html", screen="find", problem="session_not_found"), 422
    return _found(data.find_by_code(g.kiosk.id, code.upper()), "session_not_found")


@bp.post("/find/card")
def find_card() -> Response | tuple[str, int]:
    try:
        ref = data.find_by_card(g.kiosk.id)
    except NoCardRead:
        # Not "no session for this card": the driver should try the card again.
        return render_template("kiosk/find.html", screen="find", problem="card_not_read"), 404
    return _found(ref, "card_not_found")


def _found(ref: str | None, problem: str) -> Response | tuple[str, int]:
    if ref is None:
        return render_template("kiosk/find.html", screen="find", problem=problem), 404
    _save(ref=ref)
    return redirect(url_for(".transaction", ref=ref), code=303)


# --- live values -------------------------------------------------------------------------------


def live_flags(view: TransactionScreen) -> dict[str, bool]:
    """What kiosk.js shows or hides in place (elements with `data-flag="<name>"`)."""
    if isinstance(view, PaymentView):
        return {"can_cancel": view.can_cancel}
    if isinstance(view, ChargingView):
        return {"can_stop": view.can_stop}
    return {}


def live_fields(view: TransactionScreen) -> dict[str, str]:
    """The values kiosk.js replaces in place (elements with `data-field="<name>"`)."""
    if isinstance(view, ChargingView):
        return {
            "energy": formatting.energy(view.energy_kwh),
            "duration": formatting.duration(view.duration),
            # An unknown power is a dash, never a made-up 0 kW.
            "power": "–" if view.power_kw is None else f"{formatting.power(view.power_kw)} kW",
            "cost": formatting.money(view.cost_so_far),
            "hold_remaining": formatting.money(view.hold_remaining),
        }
    return {}


def status_payload(update: StatusUpdate, url: str) -> dict[str, Any]:
    return {
        "screen": update.screen,
        "cursor": update.cursor,
        "messages": [messages.prompt_text(key) for key in update.events],
        "fields": live_fields(update.view) if update.view is not None else {},
        "flags": live_flags(update.view) if update.view is not None else {},
        "url": url,
    }


# --- errors --------------------------------------------------------------------------------------


def _error_page(reason: str, code: int, reference: str = "") -> tuple[str, int]:
    view = ErrorView(
        reason=reason,
        help_phone=current_app.config["KIOSK"].operator.help_phone,
        reference=reference,
    )
    return render_template("kiosk/error.html", screen="error", view=view), code


@bp.errorhandler(KioskRefusal)
def _refused(exc: KioskRefusal) -> Any:
    if request.accept_mimetypes.best == "application/json":
        # A transaction the engine no longer knows: 404 makes the screen start over.
        code = 404 if exc.reason == "session_invalid" else 409
        return jsonify(error=exc.reason), code
    return _error_page(exc.reason, 409)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    if exc.response is not None:  # abort(redirect(...))
        return exc.response
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=exc.name, message=exc.description), exc.code
    if exc.code == 404:
        reason = "page_not_found" if g.get("kiosk") else "unknown_kiosk"
    else:
        reason = "bad_request"
    return _error_page(reason, exc.code or 400)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Any:
    # The operator gets the traceback in the log; the driver a translated page and a reference.
    log.exception("kiosk view failed")
    reference = g.get("request_id", "")
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error="Internal Server Error", reference=reference), 500
    return _error_page("internal_error", 500, reference)
