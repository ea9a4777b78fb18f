"""What each kiosk screen shows, as small typed values.

View models carry raw values (Decimal amounts with their currency, timestamps in UTC, message
keys); the templates format and translate them for the driver's language. So the engine side
never formats text, and the screen never computes money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar, Literal

EvseStatus = Literal["available", "charging", "reserved", "out_of_order"]


@dataclass(frozen=True)
class Money:
    """An amount in major units (e.g. euros) with its ISO 4217 currency code."""

    amount: Decimal
    currency: str


@dataclass(frozen=True)
class AfirPrice:
    """A price in the order AFIR asks for; None means the component does not apply."""

    currency: str
    per_kwh: Decimal | None = None
    per_minute: Decimal | None = None
    per_session: Decimal | None = None
    parking_per_minute: Decimal | None = None
    parking_grace_minutes: int | None = None
    # VAT rate in percent that the prices include, e.g. Decimal("19").
    vat_percent: Decimal | None = None
    # False when the tariff does not say whether its prices include tax (no VAT rates given).
    includes_tax: bool = True


@dataclass(frozen=True)
class EvseTile:
    """One charge point on the choose screen."""

    uid: str
    label: str
    status: EvseStatus
    connector: str
    max_power_kw: Decimal
    price: AfirPrice

    @property
    def selectable(self) -> bool:
        return self.status == "available"


@dataclass(frozen=True)
class PriceSummaryView:
    """Screen 3: what it costs and what is held, before the driver pays."""

    screen: ClassVar[str] = "price"
    ref: str
    evse: EvseTile
    hold: Money
    # Why this amount is held, in the driver's language (from the tariff engine).
    hold_explanation: str = ""
    # The full price text, when the one-line price leaves something out (time of day, power,
    # minimum price, the operator's own wording).
    price_details: str = ""


@dataclass(frozen=True)
class TransactionScreen:
    """A screen of a running transaction; `cursor` is where the status feed continues, and
    `message` the latest prompt or progress key (shown on arrival; later ones come by poll)."""

    screen: ClassVar[str]
    ref: str
    cursor: int
    message: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class PaymentView(TransactionScreen):
    """Screen 4: the card terminal is busy with the driver's card."""

    screen: ClassVar[str] = "pay"
    hold: Money
    can_cancel: bool = True


@dataclass(frozen=True)
class StartingView(TransactionScreen):
    """Screen 5: payment approved, charging is being started; waiting for the plug."""

    screen: ClassVar[str] = "starting"
    evse_label: str
    plug_in_deadline: datetime
    # False while the charge point has not yet accepted the start command.
    accepted: bool = False


@dataclass(frozen=True)
class ChargingView(TransactionScreen):
    """Screen 6: the live session."""

    screen: ClassVar[str] = "charging"
    evse_label: str
    energy_kwh: Decimal
    duration: timedelta
    power_kw: Decimal | None  # None until the CPO reports a power
    cost_so_far: Money
    hold_remaining: Money
    session_code: str
    can_stop: bool = True


@dataclass(frozen=True)
class FinishedView(TransactionScreen):
    """Screen 7: the end, charged (`final_amount`, receipt) or failed (`failure_reason` key)."""

    screen: ClassVar[str] = "finished"
    ended_at: datetime
    final_amount: Money | None = None
    receipt_url: str | None = None
    energy_kwh: Decimal | None = None
    failure_reason: str | None = None
    # Whether a hold had been placed and is now released (else the card was never charged).
    hold_released: bool = False

    @property
    def failed(self) -> bool:
        return self.failure_reason is not None


@dataclass(frozen=True)
class StatusUpdate:
    """A poll answer: the screen the transaction is on, and what happened since the cursor."""

    screen: Literal["pay", "starting", "charging", "finished"]
    cursor: int
    # Message keys in order (terminal prompts, progress), e.g. ["insert_card", "enter_pin"].
    events: list[str] = field(default_factory=list)
    # The current values of the screen, e.g. the ChargingView; None if only the screen changed.
    view: TransactionScreen | None = None


@dataclass(frozen=True)
class ErrorView:
    """Screen 9: what went wrong (a message key) and what the driver can do next."""

    reason: str
    help_phone: str = ""
    # The request id, when the driver should quote it (unexpected errors).
    reference: str = ""
