"""`kiosk receipts …` against a real database and real files."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from kiosk_app import receipting
from kiosk_app.cli import main
from kiosk_app.db import Database
from kiosk_app.models.receipts import ReceiptRecord
from receipts.sample import sample_receipt


@pytest.fixture
def kiosk(database_url, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """Run `kiosk ARGS…` on this test's database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return exit_info.value.code, out, err

    return run


@pytest.fixture
def issued(database_url, config):  # type: ignore[no-untyped-def]
    database = Database(database_url)
    draft = dataclasses.replace(sample_receipt("DE", "de"), number=0)
    days = [datetime(2026, 11, d, 12, tzinfo=UTC) for d in (20, 21, 21, 22)]
    with database.session() as session:
        for day in days:
            receipting.issue(session, draft, config, clock=lambda day=day: day)
        receipting.issue(session, draft, config, series="K2", clock=lambda: days[1])
        session.commit()
    yield database
    database.dispose()


def test_verify_reports_an_intact_and_a_tampered_chain(kiosk, issued) -> None:
    assert kiosk("receipts", "verify") == (
        0,
        "series K1: chain intact\nseries K2: chain intact\n",
        "",
    )
    with issued.engine.begin() as conn:
        conn.execute(sa.delete(ReceiptRecord).where(ReceiptRecord.number == 2))
    code, out, _ = kiosk("receipts", "verify", "--series", "K1")
    assert code == 1 and out == "K1 #2: missing: record(s) 2\n"
    code, _, err = kiosk("receipts", "verify", "--series", "K9")
    assert code == 2 and "no receipt series 'K9'" in err


def test_export_csv_and_json_for_a_date_range(kiosk, issued) -> None:
    code, out, _ = kiosk("receipts", "export", "--from", "2026-11-21", "--to", "2026-11-21",
                         "--format", "csv")  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["series"], r["number"]) for r in rows] == [("K1", "2"), ("K1", "3"), ("K2", "1")]
    assert rows[0]["gross"] == "18.84" and rows[0]["vat"] == "3.01" and rows[0]["net"] == "15.83"
    assert rows[0]["vat_rates"] == "19%:3.01"
    code, out, _ = kiosk("receipts", "export", "--from", "2026-11-20", "--to", "2026-11-22",
                         "--series", "K1", "--format", "json")  # fmt: skip
    data = json.loads(out)
    assert [d["receipt_number"] for d in data] == [f"K1-00000{n}" for n in (1, 2, 3, 4)]
    assert data[0]["vat_rates"] == [{"rate": "19", "net": "15.83", "vat": "3.01", "gross": "18.84"}]


def test_export_rejects_bad_dates(kiosk) -> None:
    code, _, err = kiosk("receipts", "export", "--from", "2026-13-01", "--to", "2026-11-01")
    assert code == 2 and "--from" in err and err[-1] == "\n" and err.count("\n") == 1


def test_render_sample_and_stored(kiosk, issued, tmp_path) -> None:
    target = tmp_path / "sample.pdf"
    code, _, _ = kiosk("receipts", "render", "--sample", "--profile", "SE", "--lang", "sv",
                         "-o", str(target))  # fmt: skip
    assert code == 0 and target.read_bytes().startswith(b"%PDF-")
    stored = tmp_path / "stored.pdf"
    assert kiosk("receipts", "render", "--series", "K1", "--number", "2", "-o", str(stored))[0] == 0
    assert stored.read_bytes().startswith(b"%PDF-")
    code, _, err = kiosk(
        "receipts", "render", "--series", "K1", "--number", "99", "-o", str(stored)
    )
    assert code == 2 and "no receipt K1-99" in err
    assert kiosk("receipts", "render", "-o", str(stored))[0] == 2
