"""The receipt model: immutable data from which every receipt document is rendered.

A receipt is never edited. A correction is a new cancellation receipt that references the
original, or a credit note for part or all of it (money given back after the sale); a released
hold gets a "nothing charged" voucher. Amounts are integer minor units of
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
    CREDIT_NOTE = "credit_note"


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
        if self.kind in (Kind.CANCELLATION, Kind.CREDIT_NOTE) and not self.original_number:
            raise InvalidReceipt(f"original_number: a {self.kind} must reference the original")
        if self.kind is Kind.CREDIT_NOTE and (
            not self.lines or any(line.amount > 0 for line in self.lines)
        ):
            raise InvalidReceipt("lines: a credit note has negative price lines only")
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


def credit_note_of(
    original: Receipt, amount: int, refunded_at: datetime, credited_before: int = 0
) -> Receipt:
    """A credit note draft giving `amount` minor units of `original` back (after
    `credited_before` was given back by earlier credit notes); the issuer assigns series,
    number and time.

    The amount is spread over the original's price lines in proportion to their amounts
    (largest remainder, so the lines add up to exactly −amount), which keeps each VAT rate's
    share; quantities shrink in the same proportion. The payment block names the card the
    money went back to, with the negative amount."""
    if original.kind is not Kind.RECEIPT:
        raise InvalidReceipt(f"kind: only a receipt can be credited, not a {original.kind}")
    if not 0 < amount <= original.total - credited_before:
        raise InvalidReceipt(
            f"amount: must be more than 0 and at most the "
            f"{original.total - credited_before} not yet credited"
        )
    shares = _spread(amount, [line.amount for line in original.lines])
    lines = tuple(
        dataclasses.replace(
            line,
            quantity=-(line.quantity * share / line.amount).quantize(Decimal("0.001")),
            amount=-share,
        )
        for line, share in zip(original.lines, shares, strict=True)
        if share
    )
    payment = original.payment
    if payment is not None:
        payment = dataclasses.replace(payment, amount=-amount, held=0, paid_at=refunded_at)
    return dataclasses.replace(
        original,
        kind=Kind.CREDIT_NOTE,
        number=0,
        lines=lines,
        vat=(),
        payment=payment,
        metering=None,  # the signed meter data belongs to the original receipt
        original_number=original.receipt_number,
    )


def _spread(amount: int, weights: list[int]) -> list[int]:
    """`amount` split over `weights` proportionally; the remainders go to the largest parts."""
    total = sum(weights)
    exact = [(amount * w, i) for i, w in enumerate(weights)]
    shares = [q // total for q, _ in exact]
    by_remainder = sorted(exact, key=lambda e: (-(e[0] % total), e[1]))
    for _, i in by_remainder[: amount - sum(shares)]:
        shares[i] += 1
    return shares


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
