"""Country profiles: which invoice form a receipt takes and which fields the law requires.

Data, not code paths: each profile names its simplified and full invoice forms, the gross
threshold between them, and per form the mandatory fields. The renderer prints every field a
form lists; `problems()` refuses receipt data that cannot satisfy them (e.g. no tax id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from receipts.model import Kind, Receipt


class Field(StrEnum):
    """A legally required receipt item (see docs/compliance.md for the sources)."""

    SUPPLIER_NAME_ADDRESS = "supplier_name_address"
    SUPPLIER_TAX_ID = "supplier_tax_id"  # VAT id or tax number
    SUPPLIER_VAT_ID = "supplier_vat_id"
    REGISTRATION_NUMBER = "registration_number"  # JP: T + 13 digits
    ISSUE_DATE = "issue_date"
    NUMBER = "number"
    SERVICE = "service"  # type and extent of the supply (kWh)
    SUPPLY_TIME = "supply_time"
    NET_PER_RATE = "net_per_rate"
    VAT_RATE = "vat_rate"
    VAT_AMOUNT = "vat_amount"
    GROSS_PER_RATE = "gross_per_rate"
    CUSTOMER = "customer"
    ORIGINAL_REFERENCE = "original_reference"


@dataclass(frozen=True)
class InvoiceForm:
    """One kind of invoice document: its title (a text key), legal basis and required fields."""

    key: str
    legal_basis: str
    mandatory: frozenset[Field]


@dataclass(frozen=True)
class Profile:
    code: str
    currency: str
    vat_rate: Decimal
    simplified: InvoiceForm
    full: InvoiceForm
    # Largest gross total (minor units, inclusive) for the simplified form; None: no limit.
    simplified_limit: int | None
    retention_years: int

    def form_for(self, receipt: Receipt) -> InvoiceForm:
        """The invoice form the receipt's gross total calls for (cancellations: the original's).
        A document naming its customer is a full invoice whatever its amount: a credit note
        for a full invoice repeats the customer, so it must print them."""
        if receipt.customer is not None:
            return self.full
        total = abs(receipt.total)
        if self.simplified_limit is not None and total > self.simplified_limit:
            return self.full
        return self.simplified


_F = Field
_BASIC = frozenset({_F.SUPPLIER_NAME_ADDRESS, _F.ISSUE_DATE, _F.SERVICE})
_FULL_EU = frozenset(
    {
        _F.SUPPLIER_NAME_ADDRESS,
        _F.SUPPLIER_VAT_ID,
        _F.ISSUE_DATE,
        _F.NUMBER,
        _F.SERVICE,
        _F.SUPPLY_TIME,
        _F.NET_PER_RATE,
        _F.VAT_RATE,
        _F.VAT_AMOUNT,
        _F.CUSTOMER,
    }
)

_JP_SIMPLIFIED = InvoiceForm(
    "title.jp_simplified",
    "消費税法第57条の4第2項",
    _BASIC | {_F.REGISTRATION_NUMBER, _F.GROSS_PER_RATE, _F.VAT_RATE, _F.VAT_AMOUNT, _F.NUMBER},
)

PROFILES: dict[str, Profile] = {
    "DE": Profile(
        code="DE",
        currency="EUR",
        vat_rate=Decimal("19"),
        simplified=InvoiceForm(
            "title.de_small", "§ 33 UStDV", _BASIC | {_F.VAT_RATE, _F.GROSS_PER_RATE}
        ),
        full=InvoiceForm(
            "title.de_full",
            "§ 14 Abs. 4 UStG",
            (_FULL_EU - {_F.SUPPLIER_VAT_ID}) | {_F.SUPPLIER_TAX_ID},
        ),
        simplified_limit=250_00,
        retention_years=8,
    ),
    "SE": Profile(
        code="SE",
        currency="SEK",
        vat_rate=Decimal("25"),
        simplified=InvoiceForm(
            "title.se_simplified",
            "17 kap. 26 § ML (2023:200)",
            _BASIC | {_F.NUMBER, _F.VAT_AMOUNT, _F.VAT_RATE},
        ),
        full=InvoiceForm("title.se_full", "17 kap. 24 § ML (2023:200)", _FULL_EU),
        simplified_limit=4000_00,
        retention_years=7,
    ),
    "EU": Profile(
        code="EU",
        currency="EUR",
        vat_rate=Decimal("20"),
        simplified=InvoiceForm(
            "title.eu_simplified",
            "Art. 226b Directive 2006/112/EC",
            _BASIC | {_F.VAT_AMOUNT},
        ),
        full=InvoiceForm("title.eu_full", "Art. 226 Directive 2006/112/EC", _FULL_EU),
        simplified_limit=100_00,
        retention_years=10,
    ),
    "JP": Profile(
        code="JP",
        currency="JPY",
        vat_rate=Decimal("10"),
        # Sellers to the general public may always issue the qualified simplified invoice.
        simplified=_JP_SIMPLIFIED,
        full=_JP_SIMPLIFIED,
        simplified_limit=None,
        retention_years=7,
    ),
}

_JP_REGISTRATION = re.compile(r"T\d{13}")


class UnknownProfile(ValueError):
    pass


def get(code: str) -> Profile:
    """The profile for a country code (DE, SE, EU, JP)."""
    try:
        return PROFILES[code]
    except KeyError:
        raise UnknownProfile(
            f"unknown country profile {code!r}; known: {', '.join(PROFILES)}"
        ) from None


def title_key(receipt: Receipt) -> str:
    """The text key of the document title: the invoice form, or voucher / cancellation."""
    if receipt.kind is Kind.RECEIPT:
        return get(receipt.profile).form_for(receipt).key
    return f"title.{receipt.kind.value}"


def problems(receipt: Receipt) -> list[str]:
    """Why this receipt data cannot meet its profile's form; empty when it can."""
    if receipt.profile not in PROFILES:
        return [f"profile: unknown country profile {receipt.profile!r}"]
    profile = PROFILES[receipt.profile]
    found = []
    if receipt.currency != profile.currency:
        found.append(f"currency: profile {profile.code} invoices in {profile.currency}")
    if receipt.kind is Kind.NOTHING_CHARGED:
        return found  # a voucher for a released hold is no invoice
    mandatory = profile.form_for(receipt).mandatory
    operator = receipt.operator
    if not operator.legal_name or not operator.address:
        found.append("operator: legal name and address are required")
    if Field.SUPPLIER_TAX_ID in mandatory and not (operator.vat_id or operator.tax_number):
        found.append("operator.vat_id: a VAT id or tax number is required")
    if Field.SUPPLIER_VAT_ID in mandatory and not operator.vat_id:
        found.append("operator.vat_id: a VAT id is required")
    if Field.REGISTRATION_NUMBER in mandatory and not _JP_REGISTRATION.fullmatch(
        operator.registration_number
    ):
        found.append("operator.registration_number: expected T followed by 13 digits")
    if Field.SUPPLY_TIME in mandatory and receipt.session_end is None:
        found.append("session_end: the time of supply is required")
    return found
