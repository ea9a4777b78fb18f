"""The receipt model refuses data it must not issue, and round-trips through its JSON form."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal

import pytest

from receipts import codec, profiles
from receipts.model import (
    Component,
    Customer,
    InvalidReceipt,
    Kind,
    Payment,
    cancellation_of,
    with_customer,
)
from receipts.sample import sample_receipt
from receipts.texts import LANGUAGES


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("code", sorted(profiles.PROFILES))
def test_canonical_json_round_trips(code, kind) -> None:
    for language in LANGUAGES:
        receipt = sample_receipt(code, language, kind=kind)
        text = codec.canonical_json(receipt)
        assert codec.receipt_from_json(text) == receipt
        assert codec.canonical_json(codec.receipt_from_json(text)) == text


def test_decoding_names_the_bad_field() -> None:
    data = json.loads(codec.canonical_json(sample_receipt()))
    data["lines"][1]["amount"] = "460"
    with pytest.raises(codec.DecodeError, match=r"receipt\.lines\[1\]\.amount: expected int"):
        codec.receipt_from_json(json.dumps(data))
    data = json.loads(codec.canonical_json(sample_receipt()))
    data["payment"]["expiry"] = "12/29"
    with pytest.raises(codec.DecodeError, match=r"receipt\.payment: unknown field\(s\) expiry"):
        codec.receipt_from_json(json.dumps(data))
    with pytest.raises(codec.DecodeError, match="not JSON"):
        codec.receipt_from_json("{")


def test_only_the_last_four_pan_digits_are_accepted() -> None:
    payment = sample_receipt().payment
    for bad in ("4111111111111111", "119", "01a9", ""):
        with pytest.raises(InvalidReceipt, match="pan_last4"):
            dataclasses.replace(payment, pan_last4=bad)
    assert "expiry" not in {f.name for f in dataclasses.fields(Payment)}


def test_price_lines_must_be_in_afir_order() -> None:
    receipt = sample_receipt()
    assert [line.component for line in receipt.lines] == [
        Component.ENERGY,
        Component.TIME,
        Component.SESSION,
    ]
    with pytest.raises(InvalidReceipt, match="AFIR order"):
        dataclasses.replace(receipt, lines=receipt.lines[::-1], vat=())


def test_vat_must_match_the_lines_and_times_must_be_aware() -> None:
    receipt = sample_receipt()
    wrong = (dataclasses.replace(receipt.vat[0], net=1584, vat=300),)
    with pytest.raises(InvalidReceipt, match="vat: does not match"):
        dataclasses.replace(receipt, vat=wrong)
    with pytest.raises(InvalidReceipt, match="session_start: must be timezone-aware"):
        dataclasses.replace(receipt, session_start=datetime(2026, 11, 21, 12, 0))


def test_cancellation_and_replacement_reference_the_original() -> None:
    original = sample_receipt("DE", "de", energy=Decimal("450.000"))
    cancellation = cancellation_of(original)
    assert cancellation.total == -original.total and cancellation.payment is None
    assert cancellation.original_number == "K1-000042"
    assert [v.vat for v in cancellation.vat] == [-v.vat for v in original.vat]
    with pytest.raises(InvalidReceipt, match="only a receipt can be cancelled"):
        cancellation_of(cancellation)
    replacement = with_customer(original, Customer("Beispiel AG", ("Hauptstraße 5",)))
    assert replacement.original_number == "K1-000042" and replacement.lines == original.lines
    with pytest.raises(InvalidReceipt, match="only a receipt without customer data"):
        with_customer(replacement, Customer("X", ("Y",)))
    with pytest.raises(InvalidReceipt, match="name and address are required"):
        with_customer(original, Customer(" ", ()))


def test_profile_problems_name_the_missing_field() -> None:
    full = sample_receipt("DE", "de", energy=Decimal("450.000"))
    no_ids = dataclasses.replace(
        full, operator=dataclasses.replace(full.operator, vat_id="", tax_number="")
    )
    assert profiles.problems(no_ids) == ["operator.vat_id: a VAT id or tax number is required"]
    small = dataclasses.replace(sample_receipt("DE", "de"), operator=no_ids.operator)
    assert profiles.problems(small) == []  # § 33 UStDV needs no tax id
    # the simplified forms identify the seller by name and address; the full ones need the id
    assert profiles.problems(dataclasses.replace(small, profile="SE")) == [
        "currency: profile SE invoices in SEK"
    ]
    assert profiles.problems(dataclasses.replace(no_ids, profile="EU")) == [
        "operator.vat_id: a VAT id is required"
    ]
    assert profiles.problems(sample_receipt("JP", "ja")) == []


def test_unknown_language_and_profile_are_refused() -> None:
    with pytest.raises(InvalidReceipt, match="language: 'fr'"):
        sample_receipt("DE", "fr")
    unknown = dataclasses.replace(sample_receipt(), profile="AT")
    assert profiles.problems(unknown) == ["profile: unknown country profile 'AT'"]


def test_thresholds_are_inclusive() -> None:
    de = profiles.get("DE")
    at_limit = sample_receipt("DE", "de", energy=Decimal("415.000"))  # 244.85 + 4.60 + 1.00
    assert at_limit.total == 25045 and de.form_for(at_limit) is de.full
    below = sample_receipt("DE", "de", energy=Decimal("414.000"))
    assert below.total == 24986 and de.form_for(below) is de.simplified
