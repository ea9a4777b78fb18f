"""Parsing and validation of OCPI Tariffs, CDRs, Sessions and Prices."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk_app.ocpi.pricing import (
    CdrError,
    PriceShape,
    TariffError,
    parse_cdr,
    parse_price,
    parse_session,
    parse_tariff,
)
from kiosk_app.ocpi.pricing.model import Dimension, TaxIncluded

from .builders import EXAMPLES, TARIFF_CASES, load

GOOD = {"price_components": [{"type": "ENERGY", "price": Decimal("0.25"), "step_size": 1}]}


def tariff_with(*elements: dict, **fields: object) -> dict:
    return {"id": "T", "currency": "EUR", "elements": [GOOD, GOOD, *elements], **fields}


def error_of(data: dict) -> str:
    with pytest.raises(TariffError) as info:
        parse_tariff(data)
    return str(info.value)


def example_tariffs() -> list[Path]:
    names = [p for p in EXAMPLES.glob("*/tariff*.json")]
    names += list(TARIFF_CASES.glob("tandemdrive-ocpi-tariffs/*/tariff.json"))
    return sorted(names)


@pytest.mark.parametrize("path", example_tariffs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_reference_tariff_parses(path: Path) -> None:
    tariff = parse_tariff(load(path))
    assert tariff.elements
    if path.parent.name == "2.3.0-release-payments" and "tax_included" in load(path):
        assert tariff.version == "2.3.0"
        assert tariff.price_shape is PriceShape.V230


def test_negative_price_names_element_and_component() -> None:
    bad = {"price_components": [{"type": "TIME", "price": Decimal("-0.1"), "step_size": 1}]}
    assert error_of(tariff_with(bad)) == (
        "elements[2].price_components[0].price: negative price -0.1"
    )


def test_unknown_dimension() -> None:
    bad = {
        "price_components": [
            GOOD["price_components"][0],
            {"type": "KWH", "price": 1, "step_size": 1},
        ]
    }
    message = error_of(tariff_with(bad))
    assert message.startswith("elements[2].price_components[1].type: unknown value 'KWH'")


@pytest.mark.parametrize("value", ["7:00", "24:00", "12:60", "noon", "12:00:00"])
def test_malformed_time(value: str) -> None:
    bad = {**GOOD, "restrictions": {"start_time": value}}
    assert error_of(tariff_with(bad)) == (
        f"elements[2].restrictions.start_time: malformed time {value!r} "
        "(expected HH:MM, 00:00-23:59)"
    )


@pytest.mark.parametrize(
    ("restrictions", "message"),
    [
        (
            {"start_date": "2024-05-02", "end_date": "2024-05-01"},
            "elements[2].restrictions.end_date: 2024-05-01 is before start_date 2024-05-02",
        ),
        (
            {"start_date": "2024-05-02", "end_date": "2024-05-02"},
            "elements[2].restrictions.end_date: 2024-05-02 is before start_date 2024-05-02",
        ),
        (
            {"min_kwh": 20, "max_kwh": 10},
            "elements[2].restrictions.max_kwh: 10 is before min_kwh 20",
        ),
        (
            {"min_duration": 600, "max_duration": 60},
            "elements[2].restrictions.max_duration: 60 is before min_duration 600",
        ),
        (
            {"day_of_week": ["MONDAY", "FUNDAY"]},
            "elements[2].restrictions.day_of_week[1]: unknown day 'FUNDAY'",
        ),
        (
            {"start_date": "2024-13-01"},
            "elements[2].restrictions.start_date: malformed date '2024-13-01' (expected "
            "YYYY-MM-DD)",
        ),
        ({"max_power": -1}, "elements[2].restrictions.max_power: negative value -1"),
    ],
)
def test_bad_restrictions(restrictions: dict, message: str) -> None:
    assert error_of(tariff_with({**GOOD, "restrictions": restrictions})) == message


def test_tariff_end_before_start() -> None:
    data = tariff_with(start_date_time="2024-05-02T00:00:00Z", end_date_time="2024-05-01T00:00Z")
    assert error_of(data).startswith("end_date_time: 2024-05-01 00:00:00+00:00 is before")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"currency": "EUR", "elements": [GOOD]}, "id: missing required field"),
        (
            {"id": "T", "currency": "euro", "elements": [GOOD]},
            "currency: not an ISO 4217 code: 'euro'",
        ),
        ({"id": "T", "currency": "EUR", "elements": []}, "elements: must not be empty"),
        (
            {
                "id": "T",
                "currency": "EUR",
                "elements": [
                    {"price_components": [{"type": "TIME", "price": "1.00", "step_size": 1}]}
                ],
            },
            "elements[0].price_components[0].price: expected a number, got a string",
        ),
        (
            {
                "id": "T",
                "currency": "EUR",
                "elements": [
                    {"price_components": [{"type": "TIME", "price": 1, "step_size": 1.5}]}
                ],
            },
            "elements[0].price_components[0].step_size: expected an integer, got 1.5",
        ),
        (
            {
                "id": "T",
                "currency": "EUR",
                "elements": [
                    {"price_components": [{"type": "TIME", "price": 1, "step_size": 1, "vat": 120}]}
                ],
            },
            "elements[0].price_components[0].vat: vat 120 % is over 100 %",
        ),
        (
            {"id": "T", "currency": "EUR", "elements": [GOOD], "tax_included": "MAYBE"},
            "tax_included: unknown value 'MAYBE' (expected YES, NO, N/A)",
        ),
        (
            {
                "id": "T",
                "currency": "EUR",
                "elements": [GOOD],
                "max_price": {"excl_vat": 1},
                "min_price": {"excl_vat": 2},
            },
            "max_price: 1 is below min_price 2",
        ),
        (
            {"id": "T", "currency": "EUR", "elements": "all"},
            "elements: expected a list, got a string",
        ),
    ],
)
def test_bad_tariffs(data: dict, message: str) -> None:
    assert error_of(data) == message


def test_unknown_fields_are_tolerated() -> None:
    data = tariff_with(energy_mix={"is_green_energy": True}, future_field=[1, 2])
    data["elements"][0] = {**GOOD, "unknown": "x"}
    assert len(parse_tariff(data).elements) == 2


def test_230_fields() -> None:
    tariff = parse_tariff(
        {
            "id": "T",
            "currency": "SEK",
            "elements": [GOOD],
            "tax_included": "YES",
            "preauthorize_amount": 500,
            "min_price": {"before_taxes": 10, "after_taxes": Decimal("12.5")},
            "tariff_alt_text": [{"language": "sv", "text": "Pris"}],
        }
    )
    assert tariff.version == "2.3.0"
    assert tariff.tax_included is TaxIncluded.YES and tariff.prices_include_tax
    assert tariff.preauthorize_amount == 500
    assert (tariff.min_price.excl, tariff.min_price.incl) == (10, Decimal("12.5"))
    assert tariff.elements[0].price_components[0].type is Dimension.ENERGY


def test_211_tariff_has_number_shape() -> None:
    data = {
        "id": "T",
        "currency": "EUR",
        "elements": [GOOD],
        "last_updated": "2017-01-01T00:00:00Z",
    }
    tariff = parse_tariff(data, version="2.1.1")
    assert tariff.price_shape is PriceShape.NUMBER
    with pytest.raises(TariffError, match=r"unsupported OCPI version '3\.0'"):
        parse_tariff(data, version="3.0")


def test_price_shapes() -> None:
    assert parse_price({"excl_vat": 1, "incl_vat": Decimal("1.1")}, "p").shape is PriceShape.V221
    v230 = parse_price(
        {"before_taxes": 4, "taxes": [{"name": "VAT", "amount": Decimal("0.4")}]}, "p"
    )
    assert (v230.excl, v230.incl, v230.shape) == (4, Decimal("4.4"), PriceShape.V230)
    assert parse_price(Decimal(3), "p").shape is PriceShape.NUMBER
    with pytest.raises(CdrError, match="p: expected excl_vat"):
        parse_price({"amount": 1}, "p")


def test_cdr_errors_name_the_field() -> None:
    base = {
        "start_date_time": "2024-01-01T10:00:00Z",
        "end_date_time": "2024-01-01T11:00:00Z",
        "currency": "EUR",
    }
    with pytest.raises(
        CdrError,
        match=r"^charging_periods\[0\]\.dimensions\[0\]\.volume: "
        "negative volume -1$",
    ):
        parse_cdr(
            {
                **base,
                "charging_periods": [
                    {
                        "start_date_time": "2024-01-01T10:00:00Z",
                        "dimensions": [{"type": "ENERGY", "volume": -1}],
                    }
                ],
            }
        )
    with pytest.raises(CdrError, match=r"^end_date_time: .* is before start_date_time$"):
        parse_cdr({**base, "end_date_time": "2024-01-01T09:00:00Z"})
    with pytest.raises(CdrError, match=r"^start_date_time: malformed date-time 'soon'$"):
        parse_cdr({**base, "start_date_time": "soon"})
    with pytest.raises(TariffError, match=r"^tariffs\[0\]\.elements: missing required field$"):
        parse_cdr({**base, "tariffs": [{"id": "T", "currency": "EUR"}]})


def test_211_cdr_uses_stop_date_time() -> None:
    cdr = parse_cdr(
        {
            "start_date_time": "2017-01-01T10:00:00Z",
            "stop_date_time": "2017-01-01T11:00:00Z",
            "currency": "EUR",
            "total_cost": Decimal("2.5"),
            "charging_periods": [],
        }
    )
    assert cdr.price_shape is PriceShape.NUMBER
    assert (cdr.end - cdr.start).total_seconds() == 3600


def test_session_examples_parse() -> None:
    for folder in ("2.2.1-bugfixes", "2.3.0-release-payments"):
        session = parse_session(load(EXAMPLES / folder / "session_example_1_simple_start.json"))
        assert session.currency == "EUR"


def test_pricing_package_imports_no_io_libraries() -> None:
    package = Path(__file__).resolve().parents[2] / "kiosk_app" / "ocpi" / "pricing"
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                assert top not in {"flask", "requests", "sqlalchemy"}, module.name
                if top == "kiosk_app":
                    assert name.startswith("kiosk_app.ocpi.pricing"), (module.name, name)


def test_tariff_type_is_validated() -> None:
    assert error_of(tariff_with(type="CHEAP")).startswith("type: unknown value 'CHEAP'")
