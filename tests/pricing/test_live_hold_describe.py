"""Live cost of a running session, the hold amount, the AFIR display and the cross-check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kiosk_app.ocpi.pricing import (
    cross_check,
    describe,
    describe_text,
    explain_hold,
    hold_amount,
    latest_stop,
    live_cost,
    parse_price,
    parse_session,
    parse_tariff,
    price_cdr,
)
from kiosk_app.ocpi.pricing.hold import CAPPED, FROM_DEFAULT, FROM_TARIFF

from .builders import EXAMPLES, TARIFF_CASES, cdr, component, load, tariff

START = "2026-05-04T10:00:00Z"
ENERGY_AND_START = tariff(
    {"price_components": [component("FLAT", "0.50", vat=19), component("ENERGY", "0.40", vat=19)]}
)


def running(kwh: str, periods: list | None = None, updated: str = "2026-05-04T10:30:00Z"):
    return parse_session(
        {
            "id": "S1",
            "start_date_time": START,
            "kwh": Decimal(kwh),
            "currency": "EUR",
            "status": "ACTIVE",
            "charging_periods": periods or [],
            "last_updated": updated,
        }
    )


def test_live_cost_now_from_kwh_without_periods() -> None:
    live = live_cost(running("10"), ENERGY_AND_START, "Europe/Berlin")
    # (0.50 + 10 x 0.40) x 1.19 = 5.355 -> 5.36
    assert live.cost_now == Decimal("5.36")
    assert live.projected_cost is None


def test_live_cost_projection_at_given_power() -> None:
    at = dt.datetime(2026, 5, 4, 11, 30, tzinfo=dt.UTC)
    live = live_cost(running("10"), ENERGY_AND_START, "Europe/Berlin", at=at, power_kw=Decimal(22))
    # One more hour at 22 kW: 32 kWh -> (0.50 + 12.80) x 1.19 = 15.827 -> 15.83
    assert live.projected_cost == Decimal("15.83")
    assert live.projected_cost > live.cost_now


def test_live_cost_projection_defaults_to_average_power() -> None:
    at = dt.datetime(2026, 5, 4, 11, 0, tzinfo=dt.UTC)
    live = live_cost(running("10"), ENERGY_AND_START, "UTC", at=at)
    assert live.power_kw == 20
    assert live.projected.total_energy == 20


def test_live_cost_counts_energy_the_periods_lag_behind() -> None:
    periods = [{"start_date_time": START, "dimensions": [{"type": "ENERGY", "volume": 4}]}]
    live = live_cost(running("10", periods), ENERGY_AND_START, "UTC")
    assert live.now.total_energy == 10


def test_live_cost_with_time_tariff_and_example_session() -> None:
    folder = EXAMPLES / "2.2.1-bugfixes"
    session = parse_session(load(folder / "session_example_1_simple_start.json"))
    hourly = parse_tariff(load(EXAMPLES / "2.2.1-bugfixes" / "tariff_1_simple_2hour.json"))
    now = session.start + dt.timedelta(minutes=90)
    live = live_cost(session, hourly, "Europe/Amsterdam", now=now)
    # 1.5 h at 2.00 + 10 % VAT: 3.30.
    assert live.cost_now == Decimal("3.30")


def test_live_cost_rejects_projection_into_the_past() -> None:
    with pytest.raises(ValueError, match="before the session's last data"):
        live_cost(
            running("1"), ENERGY_AND_START, "UTC", at=dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)
        )


def test_hold_from_preauthorize_amount() -> None:
    with_amount = parse_tariff(
        {
            "id": "T",
            "currency": "EUR",
            "tax_included": "YES",
            "preauthorize_amount": Decimal("35.001"),
            "elements": [{"price_components": [component("TIME", 2)]}],
        }
    )
    hold = hold_amount(with_amount, default=Decimal(50), maximum=Decimal(100))
    assert (hold.amount, hold.reason, hold.minor) == (Decimal("35.01"), FROM_TARIFF, 3501)


def test_hold_default_and_cap() -> None:
    assert hold_amount(ENERGY_AND_START, Decimal(50), Decimal(100)).reason == FROM_DEFAULT
    capped = hold_amount(ENERGY_AND_START, Decimal(150), Decimal(100))
    assert (capped.amount, capped.reason) == (100, CAPPED)
    yen = parse_tariff(
        {
            "id": "T",
            "currency": "JPY",
            "elements": [{"price_components": [component("ENERGY", 50)]}],
        }
    )
    assert hold_amount(yen, Decimal("3000.4"), Decimal(10000)).amount == 3001


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "50.00 EUR will be reserved on your card."),
        ("de", "Auf Ihrer Karte werden 50,00 EUR reserviert."),
        ("sv", "50,00 EUR reserveras på ditt kort."),
        ("ja", "カードで50.00 EURを仮押さえします。"),
    ],
)
def test_hold_explanation(lang: str, expected: str) -> None:
    hold = hold_amount(ENERGY_AND_START, Decimal(50), Decimal(100))
    assert explain_hold(hold, lang).startswith(expected)


def test_structured_summary() -> None:
    grace = parse_tariff(
        load(
            TARIFF_CASES / "tandemdrive-ocpi-tariffs" / "grace_period_parking_time" / "tariff.json"
        )
    )
    summary = describe(grace, "en")
    assert [line.dimension for line in summary.lines] == ["ENERGY", "PARKING_TIME", "PARKING_TIME"]
    assert summary.parking_grace_minutes == 30
    assert summary.lines[0].price == Decimal("0.275") and summary.lines[0].includes_tax
    assert summary.lines[2].price == Decimal("0.05") and summary.lines[2].unit == "min"
    complex_ = parse_tariff(
        load(TARIFF_CASES / "tandemdrive-ocpi-tariffs" / "complex" / "tariff.json")
    )
    summary = describe(complex_, "de")
    assert summary.varies_by_time_of_day and summary.varies_by_weekday
    assert summary.vat_rates == (10, 15, 20)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Energy: 0.476 EUR/kWh\nSession fee: 0.595 EUR\nPrices include VAT (19 %)."),
        ("de", "Energie: 0,476 EUR/kWh\nStartgebühr: 0,595 EUR\nPreise inkl. MwSt. (19 %)."),
        ("sv", "Energi: 0,476 EUR/kWh\nStartavgift: 0,595 EUR\nPriserna inkluderar moms (19 %)."),
        ("ja", "電力量料金: 0.476 EUR/kWh\n基本料金: 0.595 EUR\n表示価格は税込です（19 %）。"),
    ],
)
def test_text_in_four_languages(lang: str, expected: str) -> None:
    assert describe_text(ENERGY_AND_START, lang) == expected


def test_time_of_day_and_weekday_variations_in_text() -> None:
    night = tariff(
        {
            "price_components": [component("TIME", 6, vat=25)],
            "restrictions": {
                "start_time": "22:00",
                "end_time": "06:00",
                "day_of_week": ["SATURDAY", "SUNDAY"],
            },
        },
        {"price_components": [component("TIME", 12, vat=25)]},
    )
    assert describe_text(night, "sv").splitlines()[0] == (
        "Laddtid: 0,125 EUR/min (22:00–06:00, lör, sön)"
    )


def test_alt_text_in_the_drivers_language_wins() -> None:
    alt = parse_tariff(load(EXAMPLES / "2.2.1-bugfixes" / "tariff_2_alt_text.json"))
    assert describe_text(alt, "en") == "2.00 euro p/hour including VAT."
    assert describe_text(alt, "de").startswith("Ladezeit: 0,0333 EUR/Min.")


def test_free_tariff_text() -> None:
    free = parse_tariff(load(EXAMPLES / "2.2.1-bugfixes" / "tariff_5_free_of_charge.json"))
    assert describe_text(free, "de").splitlines()[0] == "Kostenlos"


def test_unsupported_language() -> None:
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        describe_text(ENERGY_AND_START, "fr")


def priced(totals: dict):
    session = cdr(START, "2026-05-04T11:00:00Z", (START, {"ENERGY": 10}), **totals)
    return session, price_cdr([ENERGY_AND_START], session, "UTC")


def test_cross_check_within_one_minor_unit_is_no_mismatch() -> None:
    # Ours: 5.36. CPO: 5.35.
    session, ours = priced(
        {"total_cost": {"excl_vat": Decimal("4.5"), "incl_vat": Decimal("5.35")}}
    )
    check = cross_check(session.totals, ours, "EUR")
    assert (check.cpo_minor, check.ours_minor, check.mismatch) == (535, 536, False)
    assert check.capture == Decimal("5.35")


@pytest.mark.parametrize(("policy", "capture"), [("cpo", 600), ("ours", 536), ("lower", 536)])
def test_cross_check_mismatch_and_capture_policy(policy: str, capture: int) -> None:
    session, ours = priced(
        {
            "total_cost": {"excl_vat": Decimal("5.04"), "incl_vat": Decimal("6.00")},
            "total_energy_cost": {"excl_vat": Decimal("4.54"), "incl_vat": Decimal("5.40")},
        }
    )
    check = cross_check(session.totals, ours, "EUR", policy=policy)
    assert check.mismatch and check.difference_minor == 64
    assert check.capture_minor == capture
    assert check.differing_fields == ("total_energy_cost",)


def test_cross_check_accepts_a_230_price_and_rejects_unknown_policy() -> None:
    _, ours = priced({})
    total = parse_price(
        {"before_taxes": Decimal("4.5"), "taxes": [{"name": "VAT", "amount": Decimal("0.86")}]},
        "total_cost",
    )
    assert cross_check(total, ours, "EUR", policy="lower").capture_minor == 536
    with pytest.raises(ValueError, match="unknown capture policy"):
        cross_check(total, ours, "EUR", policy="highest")


def test_cross_check_without_incl_vat_compares_excl_and_captures_ours() -> None:
    session, ours = priced({"total_cost": {"excl_vat": Decimal("4.50")}})
    check = cross_check(session.totals, ours, "EUR", policy="cpo")
    assert (check.cpo_minor, check.ours_minor, check.mismatch) == (450, 450, False)
    assert check.capture_minor == 536


def test_latest_stop_keeps_the_projected_cost_within_the_hold() -> None:
    session = running("10")
    # 22 kW more: (0.50 + (10 + 22 h) x 0.40) x 1.19 reaches 15.83 after exactly one hour.
    stop = latest_stop(session, ENERGY_AND_START, "UTC", Decimal("15.83"), power_kw=Decimal(22))
    assert stop == dt.datetime(2026, 5, 4, 11, 30, tzinfo=dt.UTC)
    assert latest_stop(session, ENERGY_AND_START, "UTC", Decimal(5)) == session.last_updated
    far = latest_stop(session, ENERGY_AND_START, "UTC", Decimal(10_000), power_kw=Decimal(22))
    assert far == session.last_updated + dt.timedelta(hours=24)


@pytest.mark.parametrize(
    ("elements", "grace"),
    [
        (
            [
                {
                    "price_components": [component("PARKING_TIME", 6)],
                    "restrictions": {"min_duration": 2700},
                }
            ],
            45,
        ),
        ([{"price_components": [component("PARKING_TIME", 6)]}], 0),
        ([{"price_components": [component("ENERGY", "0.5")]}], None),
    ],
)
def test_parking_grace_period(elements: list, grace: int | None) -> None:
    assert describe(tariff(*elements), "en").parking_grace_minutes == grace
