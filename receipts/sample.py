"""Realistic sample receipts per country profile, for the CLI, the docs and the tests.

The signed meter record was made for these samples with a throwaway secp256r1 key; its
readings (1234.567 → 1257.012 kWh) match the billed 22.445 kWh.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from receipts import money, profiles
from receipts.model import (
    ChargePoint,
    Component,
    Kind,
    Metering,
    Operator,
    Payment,
    PriceLine,
    Receipt,
    cancellation_of,
    credit_note_of,
)

SAMPLE_OCMF = (
    'OCMF|{"FV":"1.0","GI":"DEMO-KIOSK","GS":"DK-0001","GV":"1.0.0","PG":"T42",'
    '"MV":"Demo Meter Co","MM":"DM-3","MS":"DM3-0001234","MF":"1.2.0","IS":false,"IL":"NONE",'
    '"IF":["RFID_NONE","OCPP_NONE","ISO15118_NONE","PLMN_NONE"],"IT":"CARD_TXN_NR",'
    '"ID":"000731","CT":"EVSEID","CI":"DE*DCG*E0001*1",'
    '"RD":[{"TM":"2026-11-21T13:02:11,000+0100 S",'
    '"TX":"B","RV":1234.567,"RI":"01-00:B0.08.00*FF","RU":"kWh","RT":"DC","EF":"","ST":"G"},'
    '{"TM":"2026-11-21T13:48:40,000+0100 S","TX":"E","RV":1257.012,"RI":"01-00:B0.08.00*FF",'
    '"RU":"kWh","RT":"DC","EF":"","ST":"G"}]}|{"SA":"ECDSA-secp256r1-SHA256",'
    '"SD":"304502210093E259F495EBB219BE864E8474A15B903BF434B79067193A59C4709CA50E7AB1022032AE2'
    'CB7BD4D961AB45DDD156C61539B7AFB1015D7C19DF9DC240E8299840BE0"}'
)
SAMPLE_PUBLIC_KEY = (
    "3059301306072A8648CE3D020106082A8648CE3D03010703420004E0EE6FA9FE0395D65DC2AF9680FDBDE4"
    "240E47E0FC37F5D7C468C51EC70526E6CD3415D04F6594D8BCC1A71EAAC5961D7506131553F48935D2A9B1"
    "6885695881"
)
SESSION_START = datetime(2026, 11, 21, 12, 2, 11, tzinfo=UTC)
SESSION_END = datetime(2026, 11, 21, 12, 48, 40, tzinfo=UTC)
ENERGY = Decimal("22.445")
_HOLDS = {"EUR": Decimal(50), "SEK": Decimal(500), "JPY": Decimal(5000)}

# profile: operator, site, timezone, (energy, minute, session) gross unit prices
_SITES = {
    "DE": (
        Operator(
            "Demo Charging GmbH", ("Musterstraße 1", "10115 Berlin"), "DE123456789", "27/123/45678"
        ),
        ChargePoint("DE*DCG*E0001*1", ("Am Ladepark 5", "10117 Berlin")),
        "Europe/Berlin",
        (Decimal("0.59"), Decimal("0.10"), Decimal("1.00")),
    ),
    "SE": (
        Operator("Demo Laddning AB", ("Kungsgatan 1", "111 43 Stockholm"), "SE556677889901"),
        ChargePoint("SE*DLA*E0001*1", ("Laddvägen 3", "111 45 Stockholm")),
        "Europe/Stockholm",
        (Decimal("6.50"), Decimal("0"), Decimal("10.00")),
    ),
    "EU": (
        Operator("Demo Charging B.V.", ("Damrak 1", "1012 LG Amsterdam"), "NL123456789B01"),
        ChargePoint("NL*DCB*E0001*1", ("Laadplein 2", "1012 AB Amsterdam")),
        "Europe/Amsterdam",
        (Decimal("0.59"), Decimal("0.10"), Decimal("1.00")),
    ),
    "JP": (
        Operator(
            "デモ充電株式会社", ("東京都千代田区丸の内1-1-1",), registration_number="T1234567890123"
        ),
        ChargePoint("JP*DCK*E0001*1", ("東京都千代田区丸の内2-2-2",)),
        "Asia/Tokyo",
        (Decimal("55"), Decimal("0"), Decimal("100")),
    ),
}


def _line(
    component: Component, quantity: Decimal, price: Decimal, prof: profiles.Profile
) -> PriceLine:
    gross = money.to_minor(quantity * price, prof.currency)
    return PriceLine(component, quantity, price, gross, prof.vat_rate)


def sample_receipt(
    profile: str = "DE",
    language: str = "de",
    kind: Kind = Kind.RECEIPT,
    energy: Decimal = ENERGY,
    number: int = 42,
) -> Receipt:
    """A sample receipt (or voucher) for `profile` in `language`; `energy` scales the bill."""
    prof = profiles.get(profile)
    operator, charge_point, timezone, (per_kwh, per_minute, per_session) = _SITES[prof.code]
    currency = prof.currency
    minutes = Decimal(int((SESSION_END - SESSION_START).total_seconds() // 60))
    lines = [_line(Component.ENERGY, energy, per_kwh, prof)]
    if per_minute:
        lines.append(_line(Component.TIME, minutes, per_minute, prof))
    lines.append(_line(Component.SESSION, Decimal(1), per_session, prof))
    held = money.to_minor(_HOLDS[currency], currency)
    if kind is Kind.NOTHING_CHARGED:
        lines, energy = [], Decimal("0.000")
    payment = Payment(
        brand="VISA",
        pan_last4="0119",
        aid="A0000000031010",
        terminal_id="52500173",
        trace_number="000731",
        terminal_receipt_number="0112",
        auth_code="654321",
        paid_at=SESSION_END + timedelta(seconds=20),
        amount=sum(line.amount for line in lines),
        held=held,
    )
    metering = None
    if kind is not Kind.NOTHING_CHARGED and energy == ENERGY:
        readings = (Decimal("1234.567"), Decimal("1257.012"))
        metering = Metering("DM3-0001234", *readings, (SAMPLE_OCMF,), SAMPLE_PUBLIC_KEY)
    receipt = Receipt(
        kind=Kind.RECEIPT if kind in (Kind.CANCELLATION, Kind.CREDIT_NOTE) else kind,
        profile=prof.code,
        language=language,
        series="K1",
        number=number,
        issued_at=SESSION_END + timedelta(minutes=1),
        timezone=timezone,
        currency=currency,
        operator=operator,
        charge_point=charge_point,
        transaction_reference="TX-20261121-0007",
        session_start=SESSION_START if kind is not Kind.NOTHING_CHARGED else None,
        session_end=SESSION_END if kind is not Kind.NOTHING_CHARGED else None,
        energy_kwh=energy,
        lines=tuple(lines),
        payment=payment,
        metering=metering,
        cpo_invoice_reference="CPO-INV-2026-118873" if kind is Kind.RECEIPT else "",
    )
    later = receipt.issued_at + timedelta(days=1)
    if kind is Kind.CANCELLATION:
        return dataclasses.replace(cancellation_of(receipt), number=number + 1, issued_at=later)
    if kind is Kind.CREDIT_NOTE:  # a quarter of the bill given back after a credit CDR
        note = credit_note_of(receipt, receipt.total // 4, later)
        return dataclasses.replace(note, number=number + 1, issued_at=later)
    return receipt
