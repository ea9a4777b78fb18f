"""A scripted stand-in for the transaction engine, for tests only.

The browser tests of every screen in every language drive the kiosk through the same functions
the views call (`kiosk_app.kiosk.data`), answered from here, so any screen is one call away.
The test moves a transaction along with `show()` and `emit()`, as the engine would on terminal
and OCPI events. The real engine is exercised by test_kiosk_engine_views.py and
test_kiosk_browser_engine.py.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kiosk_app.kiosk import data
from kiosk_app.kiosk.data import KioskRefusal
from kiosk_app.kiosk.viewmodels import (
    AfirPrice,
    ChargingView,
    EvseTile,
    FinishedView,
    Money,
    PaymentView,
    PriceSummaryView,
    StartingView,
    StatusUpdate,
    TransactionScreen,
)

PRICE = AfirPrice(
    currency="EUR",
    per_kwh=Decimal("0.59"),
    per_minute=Decimal("0.05"),
    per_session=Decimal("1.00"),
    parking_per_minute=Decimal("0.10"),
    parking_grace_minutes=30,
    vat_percent=Decimal("19"),
)
HOLD = Money(Decimal("50.00"), "EUR")
TILES = [
    EvseTile("DE*KSK*E1*1", "1", "available", "CCS", Decimal("150"), PRICE),
    EvseTile("DE*KSK*E1*2", "2", "charging", "CCS", Decimal("150"), PRICE),
    EvseTile("DE*KSK*E2*1", "3", "available", "Type 2", Decimal("22"), PRICE),
    EvseTile("DE*KSK*E2*2", "4", "reserved", "Type 2", Decimal("22"), PRICE),
    EvseTile("DE*KSK*E3*1", "5", "out_of_order", "CHAdeMO", Decimal("50"), PRICE),
]
FIXED_END = datetime(2026, 11, 21, 17, 42, tzinfo=UTC)


@dataclass
class FakeTransaction:
    tile: EvseTile
    view: TransactionScreen | None = None
    events: list[str] = field(default_factory=list)
    cancelled: bool = False


class FakeEngine:
    """Answers every function of `kiosk_app.kiosk.data` from memory; counts the calls."""

    def __init__(self) -> None:
        self.tiles = list(TILES)
        self.transactions: dict[str, FakeTransaction] = {}
        self.calls: Counter[str] = Counter()
        self.card_ref: str | None = None
        self._lock = threading.Lock()

    # --- the data interface ---

    def list_evses(self, kiosk_id: str) -> list[EvseTile]:
        return list(self.tiles)

    def select_evse(self, kiosk_id: str, evse_uid: str, language: str) -> str:
        tile = next((t for t in self.tiles if t.uid == evse_uid), None)
        if tile is None or not tile.selectable:
            raise KioskRefusal("evse_occupied")
        with self._lock:
            ref = f"T{len(self.transactions) + 1:04d}"
            self.transactions[ref] = FakeTransaction(tile)
        return ref

    def price_summary(self, ref: str) -> PriceSummaryView:
        return PriceSummaryView(ref, self.transactions[ref].tile, HOLD)

    def pay(self, ref: str) -> None:
        self.calls["pay"] += 1
        tx = self.transactions[ref]
        if tx.view is None:  # idempotent, as the engine promises
            self.show(ref, PaymentView(ref, 0, hold=HOLD))
            self.emit(ref, "insert_card")

    def cancel(self, ref: str) -> None:
        self.calls["cancel"] += 1
        tx = self.transactions[ref]
        tx.cancelled = True
        if isinstance(tx.view, PaymentView):
            self.show(ref, self.failed(ref, "aborted"))

    def abandon(self, ref: str) -> None:
        self.calls["abandon"] += 1
        tx = self.transactions[ref]
        if tx.view is None:  # only an unpaid selection is cancelled
            tx.cancelled = True

    def stop(self, ref: str) -> None:
        self.calls["stop"] += 1
        self.emit(ref, "stopping")

    def transaction(self, ref: str) -> TransactionScreen:
        tx = self.transactions[ref]
        assert tx.view is not None, "no screen before payment"
        return dataclasses.replace(
            tx.view, cursor=len(tx.events), message=tx.events[-1] if tx.events else None
        )

    def status(self, ref: str, since: int) -> StatusUpdate:
        with self._lock:
            tx = self.transactions[ref]
            assert tx.view is not None
            events = tx.events[since:]
            return StatusUpdate(
                screen=tx.view.screen,  # type: ignore[arg-type]
                cursor=len(tx.events),
                events=events,
                view=dataclasses.replace(tx.view, cursor=len(tx.events)),
            )

    def find_by_code(self, kiosk_id: str, code: str) -> str | None:
        return next(
            (
                ref
                for ref, tx in self.transactions.items()
                if isinstance(tx.view, ChargingView) and tx.view.session_code == code
            ),
            None,
        )

    def find_by_card(self, kiosk_id: str) -> str | None:
        return self.card_ref

    # --- what the test does in the engine's place ---

    def show(self, ref: str, view: TransactionScreen) -> None:
        with self._lock:
            self.transactions[ref].view = view

    def emit(self, ref: str, key: str) -> None:
        with self._lock:
            self.transactions[ref].events.append(key)

    def starting(self, ref: str, seconds_left: int = 299) -> StartingView:
        deadline = datetime.now(UTC) + timedelta(seconds=seconds_left)
        return StartingView(
            ref,
            0,
            evse_label=self.transactions[ref].tile.label,
            plug_in_deadline=deadline,
            accepted=True,
        )

    def charging(self, ref: str, kwh: str = "12.34") -> ChargingView:
        return ChargingView(
            ref,
            0,
            evse_label=self.transactions[ref].tile.label,
            energy_kwh=Decimal(kwh),
            duration=timedelta(minutes=23, seconds=5),
            power_kw=Decimal("48.5"),
            cost_so_far=Money(Decimal("9.43"), "EUR"),
            hold_remaining=Money(Decimal("40.57"), "EUR"),
            session_code="K7Q4ZP",
        )

    def finished(self, ref: str) -> FinishedView:
        return FinishedView(
            ref,
            0,
            ended_at=FIXED_END,
            final_amount=Money(Decimal("19.87"), "EUR"),
            receipt_url="https://receipts.example.org/r/K1-2026-000042-Xq9vB2mT",
            energy_kwh=Decimal("28.41"),
        )

    def failed(self, ref: str, reason: str, hold_released: bool = False) -> FinishedView:
        return FinishedView(
            ref, 0, ended_at=FIXED_END, failure_reason=reason, hold_released=hold_released
        )

    def install(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        """Answer the views' calls to `kiosk_app.kiosk.data` from this engine."""
        for name in (
            "list_evses",
            "select_evse",
            "price_summary",
            "pay",
            "cancel",
            "abandon",
            "stop",
            "transaction",
            "status",
            "find_by_code",
            "find_by_card",
        ):
            monkeypatch.setattr(data, name, getattr(self, name))
