"""The Flask application: factory, request ids, error pages."""

from __future__ import annotations

import logging
import secrets
import uuid
from pathlib import Path

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from kiosk_app import config as config_module
from kiosk_app import db, health, kiosk, log, operator, receipt_page
from kiosk_app.config import REPO_ROOT, Config
from kiosk_app.ocpi import receiver as ocpi_receiver

logger = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> Flask:
    """Build the application for `config` (default: the layered configuration)."""
    config = config or config_module.load()
    app = Flask(
        __name__,
        template_folder=str(REPO_ROOT / "templates"),
        instance_path=str(config.server.instance.resolve()),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["KIOSK"] = config
    app.secret_key = config.secrets.secret_key or _instance_secret(Path(app.instance_path))
    log.configure(config.logging.level, config.logging.json, config.secret_values())

    database = db.Database(
        config.database.url or db.sqlite_url(app.instance_path), echo=config.database.echo
    )
    db.init_app(app, database)

    app.before_request(_start_request)
    app.after_request(_tag_response)
    app.teardown_request(_end_request)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.register_blueprint(health.bp)
    app.register_blueprint(receipt_page.bp)
    operator.init_app(app)
    kiosk.init_app(app)
    app.register_blueprint(ocpi_receiver.bp)
    if config.server.trusted_proxies:
        # Behind nginx the peer address is the proxy's: the audit log, the login lockout and
        # the receipt lookup limit need the driver's or operator's own address. Only as many
        # X-Forwarded-* hops as configured are believed; more would let a client forge them.
        hops = config.server.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def _instance_secret(instance: Path) -> str:
    """A random session key kept in the instance folder, for installs that configure none."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = (
        incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else str(uuid.uuid4())
    )
    g.request_id_token = log.request_id.set(g.request_id)


def _end_request(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        log.request_id.reset(token)


def _tag_response(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def _wants_json() -> bool:
    return request.accept_mimetypes.best in (None, "application/json") or request.is_json


def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
    if _wants_json():
        return jsonify(error=exc.name, message=exc.description), exc.code
    return Response(f"{exc.code} {exc.name}\n", exc.code, mimetype="text/plain")


def _unexpected_error(exc: Exception):  # type: ignore[no-untyped-def]
    # Logged with its traceback for the operator; the user sees only a request id to quote.
    logger.exception("unhandled error")
    message = f"Something went wrong. Reference: {g.get('request_id', '-')}"
    if _wants_json():
        return jsonify(error="Internal Server Error", message=message), 500
    return Response(message + "\n", 500, mimetype="text/plain")
