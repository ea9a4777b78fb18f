"""The receipt model: immutable data from which every receipt document is rendered.

A receipt is never edited. A correction is a new cancellation receipt that references the
original; a released hold gets a "nothing charged" voucher. Amounts are integer minor units of
`Receipt.currency`; price lines are gross (tax-inclusive) and appear in AFIR order.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from receipts import money
from receipts.texts import LANGUAGES
from receipts.vat import VatLine, breakdown

_LAST4 = re.compile(r"\d{4}")


class Kind(StrEnum):
    RECEIPT = "receipt"
    NOTHING_CHARGED = "nothing_charged"
    CANCELLATION = "cancellation"


class Component(StrEnum):
    """Price components, declared in the order AFIR Art. 5(4) prescribes for display."""

    ENERGY = "energy"
    TIME = "time"
    SESSION = "session"
    PARKING = "parking"


AFIR_ORDER: tuple[Component, ...] = tuple(Component)


class InvalidReceipt(ValueError):
    """Receipt data that must not be issued; the message names the field."""


@dataclass(frozen=True)
class Operator:
    """The supplier: the charge point operator or whoever sells the charge."""

    legal_name: str
    address: tuple[str, ...]
    vat_id: str = ""
    tax_number: str = ""
    # Japan: qualified invoice issuer registration number, "T" + 13 digits.
    registration_number: str = ""


@dataclass(frozen=True)
class ChargePoint:
    evse_id: str
    address: tuple[str, ...]


@dataclass(frozen=True)
class PriceLine:
    """One price component: quantity × gross unit price = gross amount (minor units)."""

    component: Component
    quantity: Decimal
    unit_price: Decimal
    amount: int
    vat_rate: Decimal


@dataclass(frozen=True)
class Payment:
    """Card payment data as PCI DSS allows it on a receipt: never the full PAN or expiry."""

    brand: str
    pan_last4: str
    aid: str
    terminal_id: str
    trace_number: str
    terminal_receipt_number: str
    auth_code: str
    paid_at: datetime
    amount: int
    # The pre-authorised amount; on a "nothing charged" voucher, the hold that was released.
    held: int = 0

    def __post_init__(self) -> None:
        if not _LAST4.fullmatch(self.pan_last4):
            raise InvalidReceipt("payment.pan_last4: expected exactly the last four digits")


@dataclass(frozen=True)
class Metering:
    """Eichrecht data: the meter, its signed readings (OCMF) and the key to check them."""

    meter_id: str
    start_reading: Decimal
    end_reading: Decimal
    ocmf: tuple[str, ...]
    public_key: str


@dataclass(frozen=True)
class Customer:
    """The recipient of a full invoice, when the driver supplied it."""

    name: str
    address: tuple[str, ...]


@dataclass(frozen=True)
class Receipt:
    """Everything printed on one receipt. `vat` is derived from `lines` when left empty."""

    kind: Kind
    profile: str
    language: str
    series: str
    number: int
    issued_at: datetime
    timezone: str
    currency: str
    operator: Operator
    charge_point: ChargePoint
    transaction_reference: str
    session_start: datetime | None = None
    session_end: datetime | None = None
    energy_kwh: Decimal = Decimal("0.000")
    lines: tuple[PriceLine, ...] = ()
    vat: tuple[VatLine, ...] = ()
    payment: Payment | None = None
    metering: Metering | None = None
    cpo_invoice_reference: str = ""
    # cancellation: the receipt it cancels; receipt: the receipt it replaces (customer added)
    original_number: str = ""
    customer: Customer | None = None

    def __post_init__(self) -> None:
        money.exponent(self.currency)  # raises on an unknown currency
        if self.language not in LANGUAGES:
            raise InvalidReceipt(f"language: {self.language!r} is not one of {LANGUAGES}")
        expected = breakdown((line.vat_rate, line.amount) for line in self.lines)
        if not self.vat:
            object.__setattr__(self, "vat", expected)
        elif self.vat != expected:
            raise InvalidReceipt("vat: does not match the price lines")
        for name in ("issued_at", "session_start", "session_end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidReceipt(f"{name}: must be timezone-aware")
        order = [AFIR_ORDER.index(line.component) for line in self.lines]
        if order != sorted(order):
            raise InvalidReceipt("lines: price components must be in AFIR order")
        if self.number < 0:
            raise InvalidReceipt("number: must not be negative")
        if self.kind is Kind.CANCELLATION and not self.original_number:
            raise InvalidReceipt("original_number: a cancellation must reference the original")
        if self.kind is Kind.NOTHING_CHARGED and self.lines:
            raise InvalidReceipt("lines: a nothing-charged voucher has no price lines")

    @property
    def receipt_number(self) -> str:
        """The printed number: series prefix and a zero-padded counter, e.g. `K1-000042`."""
        return f"{self.series}-{self.number:06d}"

    @property
    def total(self) -> int:
        """The gross total in minor units."""
        return sum(line.gross for line in self.vat)


def cancellation_of(original: Receipt) -> Receipt:
    """A cancellation draft reversing `original`; the issuer assigns series, number, time."""
    if original.kind is not Kind.RECEIPT:
        raise InvalidReceipt(f"kind: only a receipt can be cancelled, not a {original.kind}")
    reversed_lines = tuple(
        dataclasses.replace(line, quantity=-line.quantity, amount=-line.amount)
        for line in original.lines
    )
    return dataclasses.replace(
        original,
        kind=Kind.CANCELLATION,
        number=0,
        lines=reversed_lines,
        vat=(),
        payment=None,
        original_number=original.receipt_number,
    )


def with_customer(original: Receipt, customer: Customer) -> Receipt:
    """A draft re-issuing `original` as a full invoice naming `customer`; it replaces the
    original, which must be cancelled in the same transaction."""
    if original.kind is not Kind.RECEIPT or original.customer is not None:
        raise InvalidReceipt("customer: only a receipt without customer data can get one")
    if not customer.name.strip() or not customer.address:
        raise InvalidReceipt("customer: name and address are required")
    return dataclasses.replace(
        original, number=0, customer=customer, original_number=original.receipt_number
    )
