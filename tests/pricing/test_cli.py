"""`kiosk tariff price` and `kiosk tariff describe`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk_app.cli import main

from .builders import EXAMPLES, TARIFF_CASES

CASES = TARIFF_CASES / "tandemdrive-ocpi-tariffs"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["tariff", *argv])
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def price(capsys: pytest.CaptureFixture[str], tariff: object, cdr: object, *extra: str):
    return run(capsys, "price", "--tariff", str(tariff), "--cdr", str(cdr), *extra)


def test_price_prints_totals_in_the_input_shape(capsys) -> None:
    folder = CASES / "simple_3hour_5parking"
    code, out, _ = price(
        capsys,
        str(folder / "tariff.json"),
        str(folder / "cdr1.json"),
        "--tz",
        "UTC",
    )
    assert code == 0
    result = json.loads(out)
    assert result["total_cost"] == {"excl_vat": 11.25, "incl_vat": 12.75}
    assert result["total_parking_cost"] == {"excl_vat": 3.75, "incl_vat": 4.5}
    assert result["total_parking_time"] == 0.7 and result["total_time"] == 3.2
    for key in (
        "total_energy",
        "total_energy_cost",
        "total_time_cost",
        "total_fixed_cost",
        "total_reservation_cost",
    ):
        assert key in result
    assert result["payable"]["minor_units"] == 1275


def test_price_230_shape_with_embedded_tariff(capsys, tmp_path: Path) -> None:
    cdr = EXAMPLES / "2.3.0-release-payments" / "cdr_example.json"
    tariffs = tmp_path / "tariffs.json"
    tariffs.write_text(json.dumps(json.loads(cdr.read_text())["tariffs"]))
    code, out, _ = price(capsys, str(tariffs), str(cdr), "--tz", "Europe/Brussels")
    assert code == 0
    assert json.loads(out)["total_cost"] == {
        "before_taxes": 4,
        "taxes": [{"name": "VAT", "percentage": 10, "amount": 0.4}],
    }


def test_cdr_totals_are_not_used_as_input(capsys, tmp_path: Path) -> None:
    folder = CASES / "simple_025kwh"
    data = json.loads((folder / "cdr1.json").read_text())
    data["total_cost"] = {"excl_vat": 99, "incl_vat": 99}
    data["total_energy"] = 99
    cdr = tmp_path / "cdr.json"
    cdr.write_text(json.dumps(data))
    _, out, _ = price(capsys, str(folder / "tariff.json"), str(cdr))
    result = json.loads(out)
    assert result["total_cost"] == {"excl_vat": 5, "incl_vat": 5.5}
    assert result["total_energy"] == 20


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"price": -0.1}, "elements[0].price_components[0].price: negative price -0.1"),
        ({"type": "KWH"}, "elements[0].price_components[0].type: unknown value 'KWH'"),
    ],
)
def test_bad_tariff_is_one_line_exit_2(capsys, tmp_path: Path, change: dict, message: str) -> None:
    data = json.loads((CASES / "simple_025kwh" / "tariff.json").read_text())
    data["elements"][0]["price_components"][0].update(change)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    code, out, err = run(capsys, "describe", "--tariff", str(bad), "--lang", "en")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err and "Traceback" not in err


def test_bad_time_and_dates(capsys, tmp_path: Path) -> None:
    data = json.loads((CASES / "step_size" / "tariff.json").read_text())
    data["elements"][1]["restrictions"]["end_time"] = "25:00"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    code, _, err = price(capsys, str(bad), str(CASES / "step_size" / "cdr1.json"))
    assert code == 2
    assert "elements[1].restrictions.end_time: malformed time '25:00'" in err


def test_invalid_json_and_unknown_zone(capsys, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    code, _, err = run(capsys, "describe", "--tariff", str(broken), "--lang", "de")
    assert code == 2 and "not valid JSON" in err
    folder = CASES / "simple_025kwh"
    code, _, err = price(
        capsys,
        str(folder / "tariff.json"),
        str(folder / "cdr1.json"),
        "--tz",
        "Mars/Olympus",
    )
    assert code == 2 and "unknown time zone 'Mars/Olympus'" in err


def test_describe_prints_text_and_alt_text(capsys) -> None:
    code, out, _ = run(
        capsys, "describe", "--tariff", str(CASES / "simple_025kwh" / "tariff.json"), "--lang", "de"
    )
    assert code == 0
    assert out.splitlines() == ["Energie: 0,275 EUR/kWh", "Preise inkl. MwSt. (10 %)."]
    code, out, _ = run(
        capsys, "describe", "--tariff", str(CASES / "alt_text" / "tariff.json"), "--lang", "en"
    )
    assert out.strip() == "2.00 euro p/hour including VAT."


def test_describe_json_summary(capsys) -> None:
    code, out, _ = run(
        capsys,
        "describe",
        "--tariff",
        str(CASES / "complex" / "tariff.json"),
        "--lang",
        "ja",
        "--json",
    )
    summary = json.loads(out)
    assert code == 0 and summary["varies_by_weekday"] is True
    assert summary["lines"][0]["dimension"] == "TIME"


def test_tariff_in_an_ocpi_response_envelope(capsys, tmp_path: Path) -> None:
    data = json.loads((CASES / "simple_025kwh" / "tariff.json").read_text())
    wrapped = tmp_path / "response.json"
    wrapped.write_text(
        json.dumps({"data": [data], "status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"})
    )
    code, out, _ = run(capsys, "describe", "--tariff", str(wrapped), "--lang", "en")
    assert code == 0 and out.startswith("Energy: 0.275 EUR/kWh")
