"""The simulated terminal's journal: receipt and trace numbers, reservations, the EOD batch."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime

# BMP 60 card group of each simulated brand.
TOTALS_GROUP = {"girocard": "girocard", "Mastercard": "eurocard", "Visa": "visa"}


@dataclass(frozen=True)
class Booking:
    """A captured amount waiting for End-of-Day."""

    card_brand: str
    amount_minor: int
    receipt_no: int
    reservation_no: int


@dataclass
class JournalEntry:
    receipt_no: int
    trace_no: int
    amount_minor: int
    currency: str
    reference: str
    card_brand: str
    masked_pan: str
    card: str  # the SimCard's name: capture and reversal report the card that paid
    state: str = "open"  # open, captured, released, reversed
    captured_minor: int = 0
    created: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))


class Journal:
    """Thread-safe; the control API reads it while the PT thread writes it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._receipt = 0
        self._trace = 0
        self.entries: dict[int, JournalEntry] = {}
        self.batch: list[Booking] = []

    def next_numbers(self) -> tuple[int, int]:
        """A fresh (receipt number, trace number); receipts wrap at 9999."""
        with self._lock:
            self._receipt = self._receipt % 9999 + 1
            self._trace = self._trace % 999999 + 1
            return self._receipt, self._trace

    def add(self, entry: JournalEntry) -> None:
        with self._lock:
            self.entries[entry.receipt_no] = entry

    def get(self, receipt_no: int) -> JournalEntry | None:
        with self._lock:
            return self.entries.get(receipt_no)

    def settle(self, entry: JournalEntry, state: str, captured: int, receipt_no: int) -> None:
        """Close a reservation; a reversal also takes its booking out of the open batch."""
        with self._lock:
            entry.state = state
            entry.captured_minor = captured
            if captured:
                self.batch.append(Booking(entry.card_brand, captured, receipt_no, entry.receipt_no))
            else:
                self.batch = [b for b in self.batch if b.reservation_no != entry.receipt_no]

    def open_reservations(self) -> list[JournalEntry]:
        with self._lock:
            return [e for e in self.entries.values() if e.state == "open"]

    def close_batch(self) -> list[Booking]:
        with self._lock:
            batch, self.batch = self.batch, []
            return batch

    def to_dict(self) -> dict:
        with self._lock:
            entries = [asdict(e) for e in self.entries.values()]
            return {
                "entries": entries,
                "open": [e["receipt_no"] for e in entries if e["state"] == "open"],
                "captured_minor": sum(e["captured_minor"] for e in entries),
                "batch_total_minor": sum(booking.amount_minor for booking in self.batch),
            }
