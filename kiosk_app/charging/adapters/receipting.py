"""The Receipts port on `kiosk_app.receipting`: a `receipts` Receipt from the transaction, the
CDR (its OCMF signed values become the Eichrecht block), the operator configuration and the
payment data. Idempotent per transaction reference: issuing again renews the link of the
receipt already issued (the old link dies; links are shown once)."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from kiosk_app import receipting
from kiosk_app.charging.adapters.catalogue import find_evse, price_stored_cdr, stored_cdr
from kiosk_app.charging.ports import IssuedReceipt
from kiosk_app.charging.states import TxState
from kiosk_app.config import Config
from kiosk_app.db import Database
from kiosk_app.models.receipts import ReceiptRecord
from kiosk_app.ocpi import pricing
from kiosk_app.ocpi.pricing.money import from_minor, to_minor
from receipts import ocmf, profiles
from receipts.model import ChargePoint, Component, Kind, Metering, Payment, PriceLine, Receipt
from receipts.texts import LANGUAGES

log = logging.getLogger(__name__)

# Our price breakdown's dimensions as receipt components, in AFIR order.
_COMPONENTS = (
    ("energy", Component.ENERGY),
    ("time", Component.TIME),
    ("fixed", Component.SESSION),
    ("parking", Component.PARKING),
)
_MILLI = Decimal("0.001")


class ReceiptIssuer:
    def __init__(
        self, database: Database, config: Callable[[], Config], clock: Callable[[], datetime]
    ) -> None:
        self.database = database
        self.config = config
        self.clock = clock

    def issue_receipt(self, tx: TxState) -> IssuedReceipt:
        return self._issue(tx, Kind.RECEIPT, lambda: self._receipt(tx))

    def issue_voucher(self, tx: TxState) -> str:
        """The "nothing charged, hold released" voucher; its number."""
        return self._issue(tx, Kind.NOTHING_CHARGED, lambda: self._voucher(tx)).number

    def issue_credit_note(self, tx: TxState, index: int, amount_minor: int) -> str:
        """The credit note of refund payment `index`, against the transaction's current
        receipt (the replacement, when the driver added their details). Idempotent per index:
        the engine asks for a transaction's credit notes one after the other."""
        with self.database.session() as session:
            original = receipting.current_receipt(session, tx.reference)
            if original is None:
                raise receipting.ReceiptRefused(f"{tx.reference}: no receipt to credit")
            notes = receipting.credit_notes(session, original)
            if index < len(notes):
                return receipting.receipt_of(notes[index]).receipt_number
            paid = (
                tx.refund_payments[index].recorded_at if index < len(tx.refund_payments) else None
            )
            issued = receipting.credit_note(
                session, original, amount_minor, paid or self.clock(), self.config()
            )
            session.commit()
            return issued.receipt.receipt_number

    def _issue(self, tx: TxState, kind: Kind, draft: Callable[[], Receipt]) -> IssuedReceipt:
        issued = self._again(tx, kind)
        if issued is not None:
            return issued
        # Built before the writing transaction: the draft reads other tables, and a second
        # connection must not wait on this one's write lock (SQLite).
        receipt = draft()
        with self.database.session() as session:
            done = receipting.issue(session, receipt, self.config(), clock=self.clock)
            session.commit()
            return IssuedReceipt(done.receipt.receipt_number, done.link, done.record.total_minor)

    def _again(self, tx: TxState, kind: Kind) -> IssuedReceipt | None:
        """The receipt already issued for this transaction, with a fresh link."""
        # Usually there is none: look without taking the write lock (SQLite).
        with self.database.reading() as session:
            record_id = session.scalar(
                sa.select(ReceiptRecord.id).where(
                    ReceiptRecord.transaction_reference == tx.reference,
                    ReceiptRecord.kind == kind.value,
                )
            )
        if record_id is None:
            return None
        with self.database.session() as session:
            record = session.get(ReceiptRecord, record_id)
            assert record is not None  # receipt records are never deleted
            link = receipting.renew_link(session, record, self.config())
            session.commit()
            number = receipting.receipt_of(record).receipt_number
            return IssuedReceipt(number, link, record.total_minor)

    # --- drafts ----------------------------------------------------------------------------

    def _base(self, tx: TxState, kind: Kind, cdr: dict[str, Any] | None) -> dict[str, Any]:
        config = self.config()
        record = find_evse(self.database, tx.evse_uid)
        location = record.location if record else {}
        address = tuple(
            part
            for part in (location.get("address"), location.get("postal_code"), location.get("city"))
            if part
        )
        evse_id = (record.evse.get("evse_id") if record else None) or tx.evse_uid
        return {
            "kind": kind,
            "profile": config.operator.country_profile,
            "language": tx.language if tx.language in LANGUAGES else "en",
            "series": "",
            "number": 0,
            "issued_at": self.clock(),
            "timezone": (record.time_zone if record else "") or config.operator.timezone,
            "currency": tx.currency,
            "operator": receipting.operator_from_config(config.operator),
            "charge_point": ChargePoint(evse_id, address or ("-",)),
            "transaction_reference": tx.reference,
            "cpo_invoice_reference": (cdr or {}).get("invoice_reference_id") or "",
        }

    def _receipt(self, tx: TxState) -> Receipt:
        cdr = stored_cdr(self.database, tx.cdr_id) if tx.cdr_id else None
        energy = tx.cdr_energy_kwh if tx.cdr_energy_kwh is not None else tx.kwh
        return Receipt(
            **self._base(tx, Kind.RECEIPT, cdr),
            session_start=tx.session_start,
            session_end=tx.session_end,
            energy_kwh=Decimal(energy).quantize(_MILLI),
            lines=self._lines(tx),
            payment=self._payment(tx, tx.captured_minor),
            metering=_metering(cdr),
        )

    def _voucher(self, tx: TxState) -> Receipt:
        return Receipt(**self._base(tx, Kind.NOTHING_CHARGED, None), payment=self._payment(tx, 0))

    def _lines(self, tx: TxState) -> tuple[PriceLine, ...]:
        """Price lines adding up to the captured amount: our breakdown of the CDR when it
        agrees with what was captured (rounding remainders go to the largest line), else one
        energy line for the captured amount (the transaction is flagged for review then)."""
        rate = profiles.get(self.config().operator.country_profile).vat_rate
        kwh = Decimal(tx.cdr_energy_kwh if tx.cdr_energy_kwh is not None else tx.kwh)
        breakdown = price_stored_cdr(self.database, tx.evse_uid, tx.cdr_id) if tx.cdr_id else None
        if breakdown is not None and breakdown.payable.minor == tx.captured_minor:
            lines = _breakdown_lines(breakdown, tx.currency, rate)
            if lines:
                return lines
        captured = from_minor(tx.captured_minor, tx.currency)
        unit = (captured / kwh).quantize(Decimal("0.0001")) if kwh else captured
        return (PriceLine(Component.ENERGY, kwh.quantize(_MILLI), unit, tx.captured_minor, rate),)

    def _payment(self, tx: TxState, amount: int) -> Payment | None:
        card = tx.reservation
        if card is None or len(card.card_last4) != 4:
            return None
        return Payment(
            brand=card.card_brand,
            pan_last4=card.card_last4,
            aid=card.aid,
            terminal_id=card.terminal_id,
            trace_number="" if card.trace_no is None else f"{card.trace_no:06d}",
            terminal_receipt_number=f"{card.receipt_no:04d}",
            auth_code=card.auth_code,
            paid_at=card.authorised_at or self.clock(),
            amount=amount,
            held=tx.held_minor,
        )


def _breakdown_lines(
    breakdown: pricing.PriceBreakdown, currency: str, default_rate: Decimal
) -> tuple[PriceLine, ...]:
    volumes = {
        "energy": breakdown.total_energy,
        "time": breakdown.total_time,
        "parking": breakdown.total_parking_time,
        "fixed": Decimal(1),
    }
    lines = []
    for name, component in _COMPONENTS:
        amount: pricing.Amount = getattr(breakdown, name)
        if not amount.lines:
            continue
        gross = to_minor(amount.incl, currency)
        if gross == 0:
            continue
        rates = {line.rate for line in amount.lines if line.rate is not None}
        rate = rates.pop() if len(rates) == 1 else default_rate
        quantity = Decimal(volumes[name]).quantize(_MILLI)
        unit = (amount.incl / quantity).quantize(Decimal("0.0001")) if quantity else amount.incl
        lines.append(PriceLine(component, quantity, unit, gross, rate))
    if not lines:
        return ()
    remainder = breakdown.payable.minor - sum(line.amount for line in lines)
    if remainder:
        largest = max(range(len(lines)), key=lambda i: lines[i].amount)
        line = lines[largest]
        lines[largest] = PriceLine(
            line.component, line.quantity, line.unit_price, line.amount + remainder, line.vat_rate
        )
    return tuple(lines)


def _metering(cdr: dict[str, Any] | None) -> Metering | None:
    """The Eichrecht block from the CDR's OCMF signed values (begin and end readings)."""
    signed = (cdr or {}).get("signed_data") or {}
    if signed.get("encoding_method") != "OCMF":
        return None
    records = []
    for value in signed.get("signed_values") or []:
        try:
            text = base64.b64decode(value.get("signed_data", ""), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            text = str(value.get("signed_data", ""))
        try:
            records.append((text, ocmf.parse(text)))
        except ocmf.OcmfError as exc:
            log.warning("CDR %s: OCMF record not readable: %s", cdr.get("id") if cdr else "", exc)
    readings = [reading for _, record in records for reading in record.readings]
    start = next((r.value_kwh for r in readings if r.type == "B"), None)
    end = next((r.value_kwh for r in reversed(readings) if r.type == "E"), None)
    if not records or start is None or end is None:
        return None
    return Metering(
        meter_id=records[0][1].meter_serial,
        start_reading=start,
        end_reading=end,
        ocmf=tuple(text for text, _ in records),
        public_key=str(signed.get("public_key", "")),
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
