"""The two WSGI apps the OCPI Sessions PATCH benchmark serves with gunicorn: the kiosk's real
app (auth, validation, persistence, event) and a bare Flask + SQLAlchemy upsert baseline on
the same database. Both read the database URL from KIOSK_DATABASE_URL."""

from __future__ import annotations

import json
import os

import sqlalchemy as sa
from flask import Flask, Response, request

from kiosk_app import create_app
from kiosk_app.db import make_engine


def kiosk_app() -> Flask:
    return create_app()


def bare_app() -> Flask:
    """A PATCH that loads a JSON row, merges the body into it and writes it back."""
    engine = make_engine(os.environ["KIOSK_DATABASE_URL"])
    table = sa.Table(
        "bench_bare_session",
        sa.MetaData(),
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kwh", sa.Numeric(14, 4)),
        sa.Column("doc", sa.JSON),
    )
    app = Flask("bare")

    @app.patch("/bare/<session_id>")
    def patch(session_id: str) -> Response:
        body = json.loads(request.get_data())
        with engine.begin() as conn:
            row = conn.execute(sa.select(table.c.doc).where(table.c.id == session_id)).first()
            doc = dict(row.doc) if row else {}
            doc.update(body)
            values = {"kwh": body.get("kwh", 0), "doc": doc}
            if row:
                conn.execute(table.update().where(table.c.id == session_id).values(**values))
            else:
                conn.execute(table.insert().values(id=session_id, **values))
        return Response(json.dumps({"status_code": 1000}), mimetype="application/json")

    return app
