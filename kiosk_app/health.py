"""Liveness and readiness probes for the process supervisor and the load balancer."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, current_app, jsonify

from kiosk_app import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

# A readiness check returns None when ready, or a short reason why not.
ReadinessCheck = Callable[[], str | None]


def add_readiness_check(app, name: str, check: ReadinessCheck) -> None:  # type: ignore[no-untyped-def]
    app.extensions.setdefault("kiosk.readiness", {})[name] = check


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    checks = {"database": _database}
    checks.update(current_app.extensions.get("kiosk.readiness", {}))
    results = {}
    for name, check in checks.items():
        try:
            problem = check()
        except Exception as exc:  # a probe must answer, whatever broke
            log.warning("readiness check %s failed: %s", name, exc)
            problem = type(exc).__name__
        results[name] = problem or "ok"
    ready = all(result == "ok" for result in results.values())
    return jsonify(status="ready" if ready else "not ready", checks=results), 200 if ready else 503


def _database() -> str | None:
    db.get_database().ping()
    return None
