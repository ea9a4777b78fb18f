"""The hash chain: an edited amount, a deleted record and a swapped pair are all reported."""

from __future__ import annotations

import dataclasses

from receipts import codec, journal
from receipts.journal import Defect
from receipts.sample import sample_receipt


def _chain(count: int) -> list[journal.Entry]:
    entries, previous = [], journal.GENESIS
    for number in range(1, count + 1):
        content = codec.canonical_json(sample_receipt("DE", "de", number=number))
        digest = journal.chain_hash(previous, content)
        entries.append(journal.Entry("K1", number, content, digest, previous))
        previous = digest
    return entries


def test_an_intact_chain_verifies() -> None:
    assert journal.verify(_chain(5), last_number=5) == []
    assert journal.verify([], last_number=0) == []


def test_an_edited_amount_is_reported() -> None:
    entries = _chain(5)
    edited = entries[2].content.replace('"amount":1324', '"amount":1', 1)
    assert edited != entries[2].content
    entries[2] = dataclasses.replace(entries[2], content=edited)
    (problem,) = journal.verify(entries, last_number=5)
    assert (problem.number, problem.defect) == (3, Defect.EDITED)


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    entries = _chain(5)
    edited = entries[2].content.replace('"amount":1324', '"amount":1', 1)
    entries[2] = dataclasses.replace(
        entries[2],
        content=edited,
        content_hash=journal.chain_hash(entries[2].previous_hash, edited),
    )
    problems = journal.verify(entries, last_number=5)
    assert [(p.number, p.defect) for p in problems] == [(4, Defect.BROKEN_LINK)]


def test_a_deleted_record_is_reported() -> None:
    entries = _chain(5)
    del entries[1]
    problems = journal.verify(entries, last_number=5)
    assert [(p.number, p.defect) for p in problems] == [(2, Defect.MISSING)]
    assert "record(s) 2" in problems[0].detail


def test_deleted_records_at_the_end_are_reported_against_the_counter() -> None:
    problems = journal.verify(_chain(5)[:3], last_number=5)
    assert [(p.number, p.defect, p.detail) for p in problems] == [
        (4, Defect.MISSING, "record(s) 4..5")
    ]


def test_a_swapped_pair_is_reported() -> None:
    entries = _chain(5)
    a, b = entries[1], entries[2]
    entries[1] = dataclasses.replace(b, number=a.number)
    entries[2] = dataclasses.replace(a, number=b.number)
    problems = journal.verify(entries, last_number=5)
    assert {(p.number, p.defect) for p in problems} == {
        (2, Defect.REORDERED),
        (3, Defect.REORDERED),
    }
