"""The hash-chained receipt journal.

Each record stores `hash = sha256(previous_hash ‖ canonical content)` and the previous record's
hash, one chain per series starting from GENESIS. Editing a record breaks its own hash; deleting
one leaves a gap in the numbers and a broken link; swapping two changes which number sits where.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

GENESIS = "0" * 64


def chain_hash(previous_hash: str, content: str) -> str:
    """The hash of a record with canonical `content` following `previous_hash`."""
    return hashlib.sha256(previous_hash.encode("ascii") + content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A stored journal record as read back from storage."""

    series: str
    number: int
    content: str
    content_hash: str
    previous_hash: str


class Defect(StrEnum):
    EDITED = "edited"
    MISSING = "missing"
    REORDERED = "reordered"
    BROKEN_LINK = "broken_link"


@dataclass(frozen=True)
class Problem:
    series: str
    number: int
    defect: Defect
    detail: str

    def __str__(self) -> str:
        return f"{self.series} #{self.number}: {self.defect.value}: {self.detail}"


def _content_number(content: str) -> int | None:
    try:
        data = json.loads(content)
    except json.JSONDecodeError:
        return None
    number = data.get("number") if isinstance(data, dict) else None
    return number if isinstance(number, int) else None


def _own_defect(entry: Entry, numbers: set[int]) -> Problem | None:
    """A record carrying another record's number was moved; a wrong hash means an edit."""
    inner = _content_number(entry.content)
    if inner != entry.number:
        defect = Defect.REORDERED if inner in numbers else Defect.EDITED
        return Problem(entry.series, entry.number, defect, f"content carries number {inner}")
    if chain_hash(entry.previous_hash, entry.content) != entry.content_hash:
        return Problem(entry.series, entry.number, Defect.EDITED, "content hash mismatch")
    return None


def verify(entries: Iterable[Entry], last_number: int | None = None) -> list[Problem]:
    """Walk one series' records in stored number order and report every defect.

    `last_number` is the series counter, so records deleted from the end are noticed too.
    """
    problems: list[Problem] = []
    previous: Entry | None = None
    ordered = sorted(entries, key=lambda e: e.number)
    numbers = {entry.number for entry in ordered}
    series = ordered[0].series if ordered else ""
    flagged_previous = False
    for entry in ordered:
        expected_number = previous.number + 1 if previous else 1
        if entry.number > expected_number:
            gap = f"{expected_number}" + (
                f"..{entry.number - 1}" if entry.number - 1 > expected_number else ""
            )
            problems.append(Problem(series, expected_number, Defect.MISSING, f"record(s) {gap}"))
        defect = _own_defect(entry, numbers)
        if defect:
            problems.append(defect)
        expected_link = previous.content_hash if previous else GENESIS
        # a link after a gap or next to an already reported record says nothing new
        if (
            entry.previous_hash != expected_link
            and entry.number == expected_number
            and not (defect or flagged_previous)
        ):
            problems.append(
                Problem(series, entry.number, Defect.BROKEN_LINK, "previous hash does not match")
            )
        previous, flagged_previous = entry, defect is not None
    if last_number is not None and (previous.number if previous else 0) < last_number:
        first = previous.number + 1 if previous else 1
        problems.append(Problem(series, first, Defect.MISSING, f"record(s) {first}..{last_number}"))
    return problems
