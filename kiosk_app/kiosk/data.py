"""Everything the kiosk screens need from the transaction engine, in one place.

The views call only these functions: queries over the CPO's OCPI tables (`kiosk.evses`) and
the engine's `ChargingService`, answered as view models of `kiosk_app.kiosk.viewmodels`. Refs
are the engine's transaction references. The engine's refusals become `KioskRefusal` with a
message key the error screen explains. Functions that act (`pay`, `cancel`, `stop`,
`abandon`) are idempotent: a double tap or a reload calls them twice.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app, g
from sqlalchemy.orm import Session

from kiosk_app import db
from kiosk_app.charging import get_service
from kiosk_app.charging.money import to_major
from kiosk_app.charging.runner import EvseBusy, UnknownTransaction
from kiosk_app.charging.service import NotServed, StatusView
from kiosk_app.charging.states import State
from kiosk_app.config import Config, KioskConfig
from kiosk_app.kiosk import evses
from kiosk_app.kiosk.viewmodels import (
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
from kiosk_app.models.charging import ChargingTransaction
from kiosk_app.ocpi import pricing
from kiosk_app.ocpi.pricing.hold import FROM_DEFAULT

T = TypeVar("T")

# How long "find my session by card" waits for the card on the terminal.
CARD_READ_TIMEOUT_S = 30


class KioskRefusal(Exception):
    """The engine refuses a driver's action for a reason the screen explains (a message key of
    `kiosk_app.kiosk.messages.ERRORS`, e.g. "evse_occupied", "session_invalid")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- choosing and paying ------------------------------------------------------------------------


def list_evses(kiosk_id: str) -> list[EvseTile]:
    """Every EVSE this kiosk serves (`kiosks[].evses`; every EVSE the CPO told us about when
    that list is empty), with live status, connector, power and price, in display order."""
    with _reading() as session:
        points = evses.charge_points(session, _kiosk(kiosk_id), _language(), _currency())
    return [point.tile for point in points]


def select_evse(kiosk_id: str, evse_uid: str, language: str) -> str:
    """Record the driver's choice; returns the new transaction's ref.

    Refuses with "evse_not_served" (not this kiosk's) or "evse_occupied" (no longer free).
    """
    with _reading() as session:
        point = evses.charge_point(session, _kiosk(kiosk_id), evse_uid, language, _currency())
    if point is None:
        raise KioskRefusal("evse_not_served")
    if not point.tile.selectable:
        raise KioskRefusal("evse_occupied")
    return _engine(lambda: get_service().select_evse(kiosk_id, point.tile.uid, language))


def price_summary(ref: str) -> PriceSummaryView:
    """Price (AFIR) and hold of the transaction's EVSE, explained in the driver's language."""
    view = _status(ref)
    language = _language()
    with _reading() as session:
        kiosk_id, evse_uid = _where(session, ref)
        point = evses.charge_point(session, _kiosk(kiosk_id), evse_uid, language, view.currency)
    if point is None:
        raise KioskRefusal("evse_not_served")
    hold = _money(view.hold_minor, view.currency)
    terminal = _config().terminal
    reason = FROM_DEFAULT
    if point.tariff is not None:
        reason = pricing.hold_amount(
            point.tariff, terminal.default_hold, terminal.maximum_hold
        ).reason
    details = ""
    if point.tariff is not None and evses.varies(point.tariff, language):
        details = pricing.describe_text(point.tariff, language)
    return PriceSummaryView(
        ref,
        point.tile,
        hold,
        hold_explanation=pricing.explain_hold(
            pricing.Hold(hold.amount, hold.currency, reason), language
        ),
        price_details=details,
    )


def pay(ref: str) -> None:
    """Start the pre-authorisation on the terminal. Idempotent: a second call does nothing."""
    _engine(lambda: get_service().pay(ref))


def cancel(ref: str) -> None:
    """Abandon the transaction (before payment, or on the terminal while it allows it)."""
    _engine(lambda: get_service().cancel(ref))


def abandon(ref: str) -> None:
    """The driver went back or walked away: cancel the transaction if it is still unpaid, so
    the EVSE is free again at once; a paid one carries on (found again by code or card)."""
    try:
        state = get_service().status(ref, since=_LATEST).state
    except UnknownTransaction:
        return
    if state == State.SELECTED:
        cancel(ref)


def stop(ref: str) -> None:
    """Ask the charge point to stop charging. Idempotent."""
    _engine(lambda: get_service().stop(ref))


# --- following a transaction --------------------------------------------------------------------


def transaction(ref: str) -> TransactionScreen | PriceSummaryView:
    """The screen a transaction is on now, with its values (Payment/Starting/Charging/Finished;
    the price screen while it is not paid yet)."""
    view = _status(ref, since=0)
    if view.state == State.SELECTED:
        return price_summary(ref)
    keys = _prompts(view)
    return _screen(view, ref, message=keys[-1] if keys else None)


def status(ref: str, since: int) -> StatusUpdate:
    """What changed after cursor `since` (0 = from the start): screen, events, current values."""
    view = _status(ref, since)
    if view.state == State.SELECTED:
        return StatusUpdate(screen="price", cursor=view.cursor)  # type: ignore[arg-type]
    screen = _screen(view, ref, message=None)
    return StatusUpdate(
        screen=screen.screen,  # type: ignore[arg-type]
        cursor=view.cursor,
        events=_prompts(view),
        view=screen,
    )


def find_by_code(kiosk_id: str, code: str) -> str | None:
    """The ref of this kiosk's recent transaction with session code `code`, or None."""
    return get_service().find_by_code(kiosk_id, code)


def find_by_card(kiosk_id: str) -> str | None:
    """Read a card on this kiosk's terminal (blocks up to the terminal's read timeout) and
    return the ref of the latest open or finished transaction paid with it, or None.
    Raises `NoCardRead` when the terminal read no card."""
    return get_service().find_by_presented_card(kiosk_id, CARD_READ_TIMEOUT_S)


# --- engine answers → view models ---------------------------------------------------------------

# A cursor beyond any event: a status read for the state alone, without display lines. The
# largest 32-bit integer, as PostgreSQL compares it with an `integer` column.
_LATEST = 2**31 - 1
# The engine's display keys → the kiosk's prompt keys (`messages.PROMPTS`). Keys not listed
# (pay.started, captured, failure.…, declined.…) are said by the screen they lead to.
_PROGRESS = {
    "terminal.checking": "please_wait",
    "starting": "starting",
    "plug_in": "plug_in",
    "charging": "charging",
    "stopping": "stopping",
    "ended": "finished",
}
# ZVT intermediate statuses worded differently on the kiosk.
_TERMINAL = {"incorrect_pin": "pin_retry"}
# The engine's failure reasons → error keys (`messages.ERRORS`).
_FAILURES = {
    "cancelled": "aborted",
    "declined.DECLINED": "declined",
    "declined.PIN_ERROR": "declined",
    "declined.INSUFFICIENT_FUNDS": "insufficient_funds",
    "declined.CARD_UNREADABLE": "card_unreadable",
    "declined.CUSTOMER_ABORT_OR_TIMEOUT": "aborted",
    "start_rejected.EVSE_OCCUPIED": "evse_occupied",
    "start_failed": "start_rejected",
    "start_timeout": "start_rejected",
    "no_plugin": "no_plugin",
    "session_invalid": "session_invalid",
    "nothing_to_charge": "nothing_to_charge",
}
# The hold is back on the card (or never was taken) in these states.
_RELEASED = frozenset({State.RELEASING, State.RELEASED})
_NOT_PAID = frozenset({State.DECLINED, State.ABORTED})
_STARTING = frozenset({State.AUTHORISED, State.STARTING, State.START_ACCEPTED})
_SETTLED = frozenset({State.CAPTURED, State.RECEIPT_ISSUED, State.ADVICE_SENT})


def _prompts(view: StatusView) -> list[str]:
    keys = []
    for line in view.lines:
        if line.key.startswith("terminal.") and line.key != "terminal.checking":
            key = line.key.removeprefix("terminal.")
            # "<status>+remove_card": the terminal's last words are to take the card out.
            key = "remove_card" if key.endswith("+remove_card") else key
            keys.append(_TERMINAL.get(key, key))
        elif line.key in _PROGRESS:
            keys.append(_PROGRESS[line.key])
    return keys


def _failure(reason: str | None) -> str:
    reason = reason or "internal_error"
    if reason in _FAILURES:
        return _FAILURES[reason]
    if reason.startswith("start_rejected."):
        return "start_rejected"
    if reason.startswith("declined."):  # the terminal failed, not the card
        return "terminal_not_ready"
    return "ended_by_operator"  # operator, hold_expiring, cdr_missing, late_approval


def _screen(view: StatusView, ref: str, message: str | None) -> TransactionScreen:
    state, cursor = view.state, view.cursor
    if state == State.AUTHORISING:
        return PaymentView(
            ref, cursor, message=message, hold=_money(view.hold_minor, view.currency)
        )
    if state in _STARTING:
        deadline = view.plugin_deadline or datetime.now(UTC) + timedelta(
            seconds=_config().charging.plugin_window_s
        )
        return StartingView(
            ref,
            cursor,
            message=message,
            evse_label=_evse_label(ref),
            plug_in_deadline=deadline,
            accepted=state == State.START_ACCEPTED,
        )
    if state in (State.CHARGING, State.STOPPING):
        cost = view.cost_minor or 0
        remaining = view.hold_minor - cost
        if view.hold_remaining_minor is not None:
            remaining = view.hold_remaining_minor
        return ChargingView(
            ref,
            cursor,
            message=message,
            evse_label=_evse_label(ref),
            energy_kwh=view.kwh,
            duration=timedelta(seconds=view.duration_s or 0),
            power_kw=view.power_kw,
            cost_so_far=_money(cost, view.currency),
            hold_remaining=_money(remaining, view.currency),
            session_code=view.session_code,
            can_stop=state == State.CHARGING,
        )
    ended_at = view.lines[-1].at if view.lines else datetime.now(UTC)
    if state in _RELEASED or state in _NOT_PAID:
        return FinishedView(
            ref,
            cursor,
            message=message,
            ended_at=ended_at,
            failure_reason=_failure(view.failure),
            hold_released=state in _RELEASED,
        )
    # Charged, or still settling (waiting for the CDR, capturing, with an operator): the final
    # amount only once it is captured.
    settled = state in _SETTLED and view.cost_minor is not None
    return FinishedView(
        ref,
        cursor,
        message=message,
        ended_at=ended_at,
        final_amount=_money(view.cost_minor or 0, view.currency) if settled else None,
        receipt_url=view.receipt_link,
        energy_kwh=view.kwh,
    )


# --- plumbing -----------------------------------------------------------------------------------


def _engine(call: Callable[[], T]) -> T:
    """Run an engine call; its refusals become the driver's error screens."""
    try:
        return call()
    except NotServed as exc:
        raise KioskRefusal("evse_not_served") from exc
    except EvseBusy as exc:
        raise KioskRefusal("evse_occupied") from exc
    except UnknownTransaction as exc:
        raise KioskRefusal("session_invalid") from exc


def _status(ref: str, since: int = _LATEST) -> StatusView:
    return _engine(lambda: get_service().status(ref, since=since))


def _reading() -> AbstractContextManager[Session]:
    """A short session of its own for the OCPI tables: the request's session would hold
    SQLite's write lock while the engine commits in its own sessions."""
    return db.get_database().session()


def _where(session: Session, ref: str) -> tuple[str, str]:
    """The kiosk and EVSE of a transaction."""
    row = session.execute(
        sa.select(ChargingTransaction.kiosk_id, ChargingTransaction.evse_uid).where(
            ChargingTransaction.reference == ref
        )
    ).first()
    if row is None:
        raise KioskRefusal("session_invalid")
    return row.kiosk_id, row.evse_uid


def _evse_label(ref: str) -> str:
    with _reading() as session:
        return evses.label(session, _where(session, ref)[1])


def _money(minor: int, currency: str) -> Money:
    return Money(to_major(minor, currency), currency)


def _config() -> Config:
    return current_app.config["KIOSK"]


def _kiosk(kiosk_id: str) -> KioskConfig:
    kiosk = next((k for k in _config().kiosks if k.id == kiosk_id), None)
    if kiosk is None:
        raise KioskRefusal("unknown_kiosk")
    return kiosk


def _currency() -> str:
    return _config().terminal.currency


def _language() -> str:
    return g.get("language") or "en"
