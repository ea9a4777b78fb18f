"""Issuing receipts on a real database: gapless numbers, the chain, tokens, cancellations."""

from __future__ import annotations

import dataclasses
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from kiosk_app import receipting
from kiosk_app.db import Database
from kiosk_app.models.receipts import ReceiptRecord, ReceiptSeries
from receipts import pdf
from receipts.journal import Defect
from receipts.model import Kind
from receipts.sample import sample_receipt

DRAFT = dataclasses.replace(sample_receipt("DE", "de"), number=0)


@pytest.fixture
def database(database_url):  # type: ignore[no-untyped-def]
    database = Database(database_url)
    yield database
    database.dispose()


def _issue(database: Database, config, draft=DRAFT, **kwargs) -> receipting.Issued:  # type: ignore[no-untyped-def]
    with database.session() as session:
        issued = receipting.issue(session, draft, config, **kwargs)
        session.commit()
        return issued


def _numbers(database: Database, prefix: str = "K1") -> list[int]:
    with database.session() as session:
        return list(
            session.scalars(
                sa.select(ReceiptRecord.number)
                .join(ReceiptSeries)
                .where(ReceiptSeries.prefix == prefix)
                .order_by(ReceiptRecord.number)
            )
        )


def test_numbers_are_sequential_per_series_and_chained(database, config) -> None:
    first = _issue(database, config)
    second = _issue(database, config)
    other = _issue(database, config, series="K2")
    assert (first.receipt.number, second.receipt.number, other.receipt.number) == (1, 2, 1)
    assert first.receipt.receipt_number == "K1-000001"
    assert second.record.previous_hash == first.record.content_hash
    with database.session() as session:
        assert receipting.verify_journal(session) == {"K1": [], "K2": []}


def test_a_rolled_back_issue_leaves_no_gap(database, config) -> None:
    with database.session() as session:
        receipting.issue(session, DRAFT, config)
        session.rollback()
    assert _issue(database, config).receipt.number == 1


def test_the_link_token_is_random_long_and_stored_only_hashed(database, config) -> None:
    issued = _issue(database, config)
    assert len(issued.token) == 32  # 24 random bytes, URL-safe base64
    assert issued.link == config.receipts.public_base_url + issued.token
    assert issued.token not in issued.record.content
    assert issued.record.token_hash == receipting.token_hash(issued.token) != issued.token
    assert _issue(database, config).token != issued.token
    with database.session() as session:
        found = receipting.find_by_token(session, issued.token)
        assert found is not None and found.id == issued.record.id
        assert receipting.find_by_token(session, issued.token[:-1] + "A") is None
        later = datetime.now(UTC) + timedelta(days=config.receipts.link_lifetime_days, seconds=5)
        assert receipting.find_by_token(session, issued.token, now=later) is None


def test_the_stored_record_renders_the_issued_receipt(database, config) -> None:
    issued = _issue(database, config)
    with database.session() as session:
        record = session.get(ReceiptRecord, issued.record.id)
        stored = receipting.receipt_of(record)
        assert stored == issued.receipt
        assert receipting.render_pdf(record, issued.link) == pdf.render(issued.receipt, issued.link)


def test_cancellation_is_a_new_receipt_referencing_the_original(database, config) -> None:
    original = _issue(database, config)
    with database.session() as session:
        record = session.get(ReceiptRecord, original.record.id)
        cancellation = receipting.cancel(session, record, config)
        session.commit()
        assert cancellation.receipt.kind is Kind.CANCELLATION
        assert cancellation.receipt.number == 2
        assert cancellation.receipt.original_number == "K1-000001"
        assert cancellation.receipt.total == -original.receipt.total
        assert cancellation.record.original_id == original.record.id
        with pytest.raises(receipting.ReceiptRefused, match="already cancelled"):
            receipting.cancel(session, record, config)
    assert receipting.receipt_of(original.record) == original.receipt  # untouched


def test_receipt_data_that_misses_a_mandatory_field_is_refused(database, config) -> None:
    japanese = dataclasses.replace(sample_receipt("JP", "ja"), number=0)
    no_number = dataclasses.replace(
        japanese, operator=dataclasses.replace(japanese.operator, registration_number="1234")
    )
    with pytest.raises(receipting.ReceiptRefused, match="registration_number"):
        _issue(database, config, no_number)
    assert _numbers(database) == []


def test_journal_reports_tampering_in_the_database(database, config) -> None:
    for _ in range(5):
        _issue(database, config)
    with database.engine.begin() as conn:
        conn.execute(
            sa.update(ReceiptRecord)
            .where(ReceiptRecord.number == 2)
            .values(content=sa.func.replace(ReceiptRecord.content, '"amount":1324', '"amount":24'))
        )
        conn.execute(sa.delete(ReceiptRecord).where(ReceiptRecord.number == 3))
        conn.execute(sa.update(ReceiptRecord).where(ReceiptRecord.number == 4).values(number=-4))
        conn.execute(sa.update(ReceiptRecord).where(ReceiptRecord.number == 5).values(number=4))
        conn.execute(sa.update(ReceiptRecord).where(ReceiptRecord.number == -4).values(number=5))
    with database.session() as session:
        problems = receipting.verify_journal(session)["K1"]
    assert [(p.number, p.defect) for p in problems] == [
        (2, Defect.EDITED),
        (3, Defect.MISSING),
        (4, Defect.REORDERED),
        (5, Defect.REORDERED),
    ]


def _concurrent(database_url: str, config, writers: int, each: int) -> None:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write() -> None:
        database = Database(database_url)
        try:
            barrier.wait()
            for _ in range(each):
                _issue(database, config)
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_concurrent_writers_get_gapless_unique_numbers(database, config) -> None:
    _concurrent(database.url, config, writers=4, each=25)
    assert _numbers(database) == list(range(1, 101))
    with database.session() as session:
        assert receipting.verify_journal(session) == {"K1": []}


if os.environ.get("KIOSK_TEST_DATABASE_URL"):
    # The full load runs where it means something: PostgreSQL with real row locks.

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    def test_eight_writers_times_200_on_postgresql(database, config) -> None:
        _concurrent(database.url, config, writers=8, each=200)
        assert _numbers(database) == list(range(1, 1601))
        with database.session() as session:
            assert receipting.verify_journal(session) == {"K1": []}
