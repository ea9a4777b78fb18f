"""The worked examples of the OCPI Tariffs module (mod_tariffs), priced from the official
example tariffs in ../shared/reference/ocpi-examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiosk_app.ocpi.pricing import Tariff, parse_cdr, parse_tariff, price_cdr

from .builders import EXAMPLES, cdr, load, price_of

V221 = EXAMPLES / "2.2.1-bugfixes"
V230 = EXAMPLES / "2.3.0-release-payments"


def example(name: str, folder=V221) -> Tariff:
    return parse_tariff(load(folder / f"{name}.json"))


def d(value: str) -> Decimal:
    return Decimal(value)


@pytest.mark.parametrize(
    ("start", "periods", "end", "expected"),
    [
        # 16:55, 10 min charging, 2 min parking: 0.10 + 0.20 + parking rounded to 15 min 0.25
        # (edition 2 rule: only the parking total is rounded when both are priced).
        (
            "16:55",
            [("16:55", "TIME", "0.1666666667"), ("17:05", "PARKING_TIME", "0.0333")],
            "17:07",
            "0.55",
        ),
        # 16:35, 35 min charging: 0.50 + 0.20, total 35 min rounded to 45 min at 2.40: 1.30.
        ("16:35", [("16:35", "TIME", "0.5833333333")], "17:10", "1.30"),
        # 19:40, 12 min charging, 20 min parking: 0.48 + 8 min parking before 20:00 rounded to
        # 15 min 0.25 = 0.73 (edition 2 correction, ocpi/ocpi#546).
        (
            "19:40",
            [("19:40", "TIME", "0.2"), ("19:52", "PARKING_TIME", "0.3333333333")],
            "20:12",
            "0.73",
        ),
    ],
)
def test_step_size_examples(start, periods, end, expected) -> None:
    day = "2024-05-06T"
    session = cdr(
        f"{day}{start}:00Z",
        f"{day}{end}:00Z",
        *[(f"{day}{at}:00Z", {kind: volume}) for at, kind, volume in periods],
    )
    result = price_cdr([example("tariff_14_step_size")], session, "UTC")
    assert result.payable.amount == d(expected)


def test_max_power_example() -> None:
    # 1 kWh at 6 kW, 40 kWh at 48 kW, 0.5 kWh at 4 kW: 0.20 + 20.00 + 0.10 = 20.30.
    session = cdr(
        "2024-05-06T10:00:00Z",
        "2024-05-06T11:17:30Z",
        ("2024-05-06T10:00:00Z", {"ENERGY": 1, "TIME": "0.1667"}),
        ("2024-05-06T10:10:00Z", {"ENERGY": 40, "TIME": "0.8333"}),
        ("2024-05-06T11:00:00Z", {"ENERGY": "0.5", "TIME": "0.125"}),
    )
    result = price_cdr([example("tariffrestriction_example_max_power")], session, "UTC")
    assert result.total.excl == d("20.30")


def test_max_power_uses_reported_power_dimensions() -> None:
    session = cdr(
        "2024-05-06T10:00:00Z",
        "2024-05-06T12:00:00Z",
        ("2024-05-06T10:00:00Z", {"ENERGY": 10, "MAX_POWER": 15}),
        ("2024-05-06T11:00:00Z", {"ENERGY": 10, "MAX_POWER": 16}),
    )
    result = price_cdr([example("tariffrestriction_example_max_power")], session, "UTC")
    assert result.total.excl == d("2.00") + d("3.50")


def test_max_duration_example() -> None:
    # 40 minutes: 5 kWh in the first 30 free, 1.2 kWh in the last 10 at 0.25: 0.30.
    session = cdr(
        "2024-05-06T10:00:00Z",
        "2024-05-06T10:40:00Z",
        ("2024-05-06T10:00:00Z", {"ENERGY": 5}),
        ("2024-05-06T10:30:00Z", {"ENERGY": "1.2"}),
    )
    result = price_cdr([example("tariffrestriction_example_max_duration")], session, "UTC")
    assert result.total.excl == d("0.30")


def test_max_duration_splits_a_period_at_the_boundary() -> None:
    # One 40-minute period of 8 kWh: the last quarter (2 kWh) falls after 30 minutes.
    session = cdr(
        "2024-05-06T10:00:00Z", "2024-05-06T10:40:00Z", ("2024-05-06T10:00:00Z", {"ENERGY": 8})
    )
    result = price_cdr([example("tariffrestriction_example_max_duration")], session, "UTC")
    assert result.total.excl == d("0.50")


@pytest.mark.parametrize(
    ("name", "periods", "hours", "expected"),
    [
        ("tariff_8_simple_025kwh", [{"ENERGY": 20}], 1, ("5.00", "5.50")),
        ("tariff_9_025kwh_start", [{"ENERGY": 20}], 1, ("5.50", "6.10")),
        ("tariff_12_025kwh_min_price", [{"ENERGY": 20}], 1, ("5.00", "5.50")),
        ("tariff_12_025kwh_min_price", [{"ENERGY": "1.5"}], 1, ("0.50", "0.55")),
        # 20 kWh, then 40 minutes parking billed per 15 minutes: 45 minutes.
        (
            "tariff_10_025kwh_parking_start",
            [{"ENERGY": 20}, {"PARKING_TIME": "0.6667"}],
            2,
            ("7.00", "7.90"),
        ),
        ("tariff_6_025kwh_start_max_price", [{"ENERGY": 50}], 1, ("10.00", "11.00")),
        ("tariff_6_025kwh_start_max_price", [{"ENERGY": 30}], 1, ("8.00", "8.85")),
        ("tariff_1_simple_2hour", [{"TIME": "2.5"}], 3, ("5.00", "5.50")),
        # 150 minutes charging, 42 minutes parking billed as 45.
        (
            "tariff_13_simple_3hour_5parking",
            [{"TIME": "2.5"}, {"PARKING_TIME": "0.7"}],
            3.2,
            ("11.25", "12.75"),
        ),
        # Ad hoc example: 2.5 hours, 4.75 excl.; 4.997 incl. is paid as 5.00.
        ("tariff_2_alt_text", [{"TIME": "2.5"}], 3, ("4.75", "4.997")),
        ("tariff_5_free_of_charge", [{"ENERGY": 20}], 1, ("0", "0")),
    ],
)
def test_tariff_examples(name, periods, hours, expected) -> None:
    session = cdr(
        "2024-05-06T08:00:00Z",
        f"2024-05-06T{8 + int(hours * 60) // 60:02d}:{int(hours * 60) % 60:02d}:00Z",
        *[(f"2024-05-06T{8 + index:02d}:00:00Z", dims) for index, dims in enumerate(periods)],
    )
    for folder in (V221, V230):
        result = price_cdr([example(name, folder)], session, "UTC")
        assert price_of(result.total) == (d(expected[0]), d(expected[1])), folder.name


def test_alt_text_example_pays_five_euro() -> None:
    session = cdr(
        "2024-05-06T08:00:00Z", "2024-05-06T10:30:00Z", ("2024-05-06T08:00:00Z", {"TIME": "2.5"})
    )
    assert price_cdr([example("tariff_2_alt_text")], session, "UTC").payable.amount == d("5.00")


RESERVED = "2024-05-06T08:00:00Z"


@pytest.mark.parametrize(
    ("name", "minutes", "expected"),
    [
        ("tariff_15_reservation_5_euro_per_hour", 15, ("6.75", "7.60")),
        ("tariff_16_reservation_2_euro_fee_5_euro_per_hour", 13, ("8.75", "10.00")),
        ("tariff_17_reservation_with_expire_fee", 22, ("6.50", "7.30")),
        ("tariff_18_reservation_with_expire_time", 22, ("7.00", "7.90")),
    ],
)
def test_reservation_examples(name, minutes, expected) -> None:
    start = f"2024-05-06T08:{minutes:02d}:00Z"
    session = cdr(
        RESERVED,
        "2024-05-06T09:30:00Z",
        (RESERVED, {"RESERVATION_TIME": Decimal(minutes) / 60}),
        (start, {"ENERGY": 20, "TIME": 1}),
    )
    result = price_cdr([example(name)], session, "UTC")
    assert price_of(result.total) == (d(expected[0]), d(expected[1]))
    assert result.reservation.excl > 0


@pytest.mark.parametrize(
    ("name", "hours", "expected"),
    [
        # Expired after 1 hour: 4.00 expiry fee + 1 hour at 2.00.
        ("tariff_17_reservation_with_expire_fee", "1", ("6.00", "7.20")),
        # Expired after 1.5 hours, billed at the RESERVATION_EXPIRES rate 6.00 per hour.
        ("tariff_18_reservation_with_expire_time", "1.5", ("9.00", "10.80")),
    ],
)
def test_expired_reservation_examples(name, hours, expected) -> None:
    session = cdr(RESERVED, "2024-05-06T09:30:00Z", (RESERVED, {"RESERVATION_TIME": hours}))
    result = price_cdr([example(name)], session, "UTC")
    assert price_of(result.total) == (d(expected[0]), d(expected[1]))
    assert price_of(result.reservation) == price_of(result.total)


def test_cdr_example_230_with_its_embedded_tariff() -> None:
    # 1.973 hours at 2.00 per hour billed per 5 minutes: 2 hours, 4.00 + 10 % VAT, 2.3.0 shape.
    cdr230 = parse_cdr(load(V230 / "cdr_example.json"))
    result = price_cdr((), cdr230, "Europe/Brussels").to_ocpi()
    assert result["total_cost"] == {
        "before_taxes": d("4"),
        "taxes": [{"name": "VAT", "percentage": d("10.0"), "amount": d("0.4")}],
    }


def test_cdr_example_221_with_its_embedded_tariff() -> None:
    cdr221 = parse_cdr(load(V221 / "cdr_example.json"))
    expected = {key: cdr221.totals[key] for key in ("total_cost", "total_time_cost")}
    result = price_cdr((), cdr221, "Europe/Brussels")
    for key, price in expected.items():
        assert result.to_ocpi()[key] == {"excl_vat": price.excl, "incl_vat": price.incl}


def test_tariff_validity_window_and_tariff_id_select_the_tariff() -> None:
    old = parse_tariff(
        {
            "id": "OLD",
            "currency": "EUR",
            "end_date_time": "2024-01-01T00:00:00Z",
            "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}]}],
        }
    )
    new = parse_tariff(
        {
            "id": "NEW",
            "currency": "EUR",
            "start_date_time": "2024-01-01T00:00:00Z",
            "elements": [{"price_components": [{"type": "ENERGY", "price": 2, "step_size": 1}]}],
        }
    )
    session = cdr(
        "2024-05-06T10:00:00Z", "2024-05-06T11:00:00Z", ("2024-05-06T10:00:00Z", {"ENERGY": 10})
    )
    assert price_cdr([old, new], session, "UTC").total.excl == 20
    named = parse_cdr(
        {
            "start_date_time": "2024-05-06T10:00:00Z",
            "end_date_time": "2024-05-06T11:00:00Z",
            "currency": "EUR",
            "charging_periods": [
                {
                    "start_date_time": "2024-05-06T10:00:00Z",
                    "tariff_id": "OLD",
                    "dimensions": [{"type": "ENERGY", "volume": 10}],
                }
            ],
        }
    )
    assert price_cdr([old, new], named, "UTC").total.excl == 10
    stale = price_cdr([old], session, "UTC")
    assert stale.warnings == ("no tariff is valid at the session start; priced with OLD",)


def test_unknown_tariff_id_is_reported() -> None:
    only = example("tariff_8_simple_025kwh")
    session = parse_cdr(
        {
            "start_date_time": "2024-05-06T10:00:00Z",
            "end_date_time": "2024-05-06T11:00:00Z",
            "currency": "EUR",
            "charging_periods": [
                {
                    "start_date_time": "2024-05-06T10:00:00Z",
                    "tariff_id": "GONE",
                    "dimensions": [{"type": "ENERGY", "volume": 10}],
                }
            ],
        }
    )
    result = price_cdr([only], session, "UTC")
    assert result.total.excl == Decimal("2.50")
    assert result.warnings == ("charging_periods[0].tariff_id GONE is unknown; priced with 16",)
