"""Rendered receipts, read back with poppler: every mandatory field with its value."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import zxingcpp

from receipts import fonts, ocmf, pdf, profiles
from receipts.model import Kind
from receipts.profiles import Field
from receipts.sample import SAMPLE_OCMF, SAMPLE_PUBLIC_KEY, sample_receipt
from receipts.texts import LANGUAGES, text

# (total, VAT, net, rate) of the sample receipt, as each language prints them
AMOUNTS = {
    ("DE", "de"): ("18,84 EUR", "3,01 EUR", "15,83 EUR", "19 %"),
    ("DE", "en"): ("EUR 18.84", "EUR 3.01", "EUR 15.83", "19%"),
    ("DE", "sv"): ("18,84 EUR", "3,01 EUR", "15,83 EUR", "19 %"),
    ("DE", "ja"): ("18.84 EUR", "3.01 EUR", "15.83 EUR", "19%"),
    ("SE", "de"): ("155,89 SEK", "31,18 SEK", "124,71 SEK", "25 %"),
    ("SE", "en"): ("SEK 155.89", "SEK 31.18", "SEK 124.71", "25%"),
    ("SE", "sv"): ("155,89 SEK", "31,18 SEK", "124,71 SEK", "25 %"),
    ("SE", "ja"): ("155.89 SEK", "31.18 SEK", "124.71 SEK", "25%"),
    ("EU", "de"): ("18,84 EUR", "3,14 EUR", "15,70 EUR", "20 %"),
    ("EU", "en"): ("EUR 18.84", "EUR 3.14", "EUR 15.70", "20%"),
    ("EU", "sv"): ("18,84 EUR", "3,14 EUR", "15,70 EUR", "20 %"),
    ("EU", "ja"): ("18.84 EUR", "3.14 EUR", "15.70 EUR", "20%"),
    ("JP", "de"): ("1.334 JPY", "121 JPY", "1.213 JPY", "10 %"),
    ("JP", "en"): ("JPY 1,334", "JPY 121", "JPY 1,213", "10%"),
    ("JP", "sv"): ("1 334 JPY", "121 JPY", "1 213 JPY", "10 %"),
    ("JP", "ja"): ("1,334円", "121円", "1,213円", "10%"),
}
# local issue time (12:49 UTC) and session start/end per profile's time zone
LOCAL = {"DE": ("13:49", "13:02", "13:48"), "SE": ("13:49", "13:02", "13:48"),
         "EU": ("13:49", "13:02", "13:48"), "JP": ("21:49", "21:02", "21:48")}  # fmt: skip
DATE = {"de": "21.11.2026", "en": "2026-11-21", "sv": "2026-11-21", "ja": "2026年11月21日"}
ENERGY = {"de": "22,445 kWh", "en": "22.445 kWh", "sv": "22,445 kWh", "ja": "22.445 kWh"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", sorted(profiles.PROFILES))
def test_mandatory_fields_are_printed(code, language, link, pdf_text, line_with) -> None:
    receipt = sample_receipt(code, language)
    form = profiles.get(code).form_for(receipt)
    content = pdf_text(pdf.render(receipt, link))
    t = lambda key: text(key, language)  # noqa: E731
    total, vat, net, rate = AMOUNTS[code, language]
    issued, start, end = LOCAL[code]

    assert text(form.key, language) in content
    assert form.legal_basis in content
    operator = receipt.operator
    assert operator.legal_name in content
    for line in operator.address:
        assert line in content
    if Field.SUPPLIER_TAX_ID in form.mandatory or Field.SUPPLIER_VAT_ID in form.mandatory:
        assert f"{t('label.vat_id')}: {operator.vat_id}" in content
    if Field.REGISTRATION_NUMBER in form.mandatory:
        assert f"{t('label.registration_number')}: T1234567890123" in content
    assert "K1-000042" in line_with(content, t("label.number"))
    assert f"{DATE[language]} {issued}" in line_with(content, t("label.issue_date"))
    assert t("service.charging") in line_with(content, t("label.service"))
    assert ENERGY[language] in line_with(content, t("label.energy"))
    assert f"{DATE[language]} {start}" in line_with(content, t("label.session_start"))
    assert f"{DATE[language]} {end}" in line_with(content, t("label.session_end"))
    assert receipt.charge_point.evse_id in line_with(content, t("label.evse"))
    assert total in line_with(content, t("label.total"))
    vat_row = line_with(content, rate)
    assert [net, vat, total] == [a for a in (net, vat, total) if a in vat_row]
    assert vat_row.index(net) < vat_row.index(vat) < vat_row.rindex(total)
    # AFIR order: energy, then time, then the session fee
    table = content.split(t("col.item"), 1)[1].splitlines()
    components = [line.component.value for line in receipt.lines]
    rows = [
        next(i for i, row in enumerate(table) if row.startswith(t(f"component.{c}")))
        for c in components
    ]
    assert rows == sorted(rows) and components == [c for c in ("energy", "time", "session")
                                                   if c in components]  # fmt: skip
    assert "CPO-INV-2026-118873" in line_with(content, t("label.cpo_invoice"))
    # payment, as PCI DSS allows it
    assert "**** 0119" in line_with(content, t("payment.pan"))
    assert "VISA" in line_with(content, t("payment.brand"))
    assert "A0000000031010" in line_with(content, t("payment.aid"))
    assert "52500173" in line_with(content, t("payment.terminal_id"))
    assert "000731" in line_with(content, t("payment.trace"))
    assert "0112" in line_with(content, t("payment.receipt_no"))
    assert "654321" in line_with(content, t("payment.auth_code"))
    # Eichrecht
    assert "DM3-0001234" in line_with(content, t("metering.meter_id"))
    assert ("1.234,567" if language in ("de", "sv") else "1,234.567") in content.replace(
        "1 234,567", "1.234,567"
    )


def _printed_block(content: str, after: str, before: str) -> str:
    block = content.split(after, 1)[1].split(before, 1)[0]
    return "".join(line.strip() for line in block.splitlines())


@pytest.mark.parametrize("language", ["de", "ja"])
def test_printed_signed_data_verifies(language, link, pdf_text) -> None:
    """The OCMF string and key printed on the receipt can be typed off and verified."""
    content = pdf_text(pdf.render(sample_receipt("DE", language), link))
    printed = _printed_block(content, text("metering.ocmf", language) + ":", text(
        "metering.public_key", language))  # fmt: skip
    key = _printed_block(content, text("metering.public_key", language) + ":", "\n\n")
    assert printed == SAMPLE_OCMF
    assert key.startswith(SAMPLE_PUBLIC_KEY[:40])
    assert ocmf.check(printed, SAMPLE_PUBLIC_KEY).valid


def test_full_invoice_above_the_german_small_amount_limit(link, pdf_text, line_with) -> None:
    receipt = sample_receipt("DE", "de", energy=Decimal("450.000"))
    assert receipt.total == 26550 + 460 + 100  # 450 kWh × 0.59 + 46 min × 0.10 + 1.00
    content = pdf_text(pdf.render(receipt, link))
    assert line_with(content, "Rechnung").split()[0] == "Rechnung"
    assert "Kleinbetragsrechnung" not in content
    assert "§ 14 Abs. 4 UStG" in content
    assert "Leistungsempfänger" in content
    assert "____" in line_with(content, "Name")
    assert "Steuernummer: 27/123/45678" in content
    row = line_with(content, "19 %")
    assert "227,82 EUR" in row and "43,28 EUR" in row and "271,10 EUR" in row  # 27110·19/119


def test_swedish_full_invoice_above_4000_sek(link, pdf_text, line_with) -> None:
    small = sample_receipt("SE", "sv", energy=Decimal("600.000"))  # 3 900 + 10 SEK
    large = sample_receipt("SE", "sv", energy=Decimal("700.000"))  # 4 550 + 10 SEK
    assert small.total == 391000 and large.total == 456000
    assert "Förenklad faktura" in pdf_text(pdf.render(small, link))
    content = pdf_text(pdf.render(large, link))
    assert line_with(content, "Faktura").split()[0] == "Faktura"
    assert "17 kap. 24 § ML" in content and "Köpare" in content


def test_nothing_charged_voucher(link, pdf_text) -> None:
    voucher = sample_receipt("DE", "en", kind=Kind.NOTHING_CHARGED)
    content = pdf_text(pdf.render(voucher, link))
    assert "Voucher: nothing charged" in content
    assert "The hold of EUR 50.00 has been released. Nothing was charged." in content
    assert "Total" not in content and "Invoice" not in content.replace("Invoice number", "")


def test_cancellation_references_the_original(link, pdf_text, line_with) -> None:
    cancellation = sample_receipt("DE", "de", kind=Kind.CANCELLATION)
    content = pdf_text(pdf.render(cancellation, link))
    assert "Stornorechnung" in content
    assert "K1-000042" in line_with(content, "Storno zu Rechnung")
    assert "K1-000043" in line_with(content, "Rechnungsnummer")
    assert "-18,84 EUR" in line_with(content, "Gesamtbetrag")


@pytest.mark.parametrize(("code", "language"), [("DE", "de"), ("JP", "ja"), ("SE", "sv")])
def test_qr_code_on_the_pdf_decodes_to_the_link(code, language, link, pdf_image) -> None:
    image = pdf_image(pdf.render(sample_receipt(code, language), link))
    decoded = [b.text for b in zxingcpp.read_barcodes(image) if b.format.name == "QRCode"]
    assert decoded == [link]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", sorted(profiles.PROFILES))
def test_fonts_are_embedded_truetype(code, language, link, pdf_fonts) -> None:
    # Japanese text (the language, or the JP operator's name) needs IPAexGothic
    face = "IPAexGothic" if "ja" in (language, code.lower().replace("jp", "ja")) else "DejaVuSans"
    rows = pdf_fonts(pdf.render(sample_receipt(code, language), link))
    assert rows, "no fonts listed"
    for name, kind, _encoding, emb, sub, *_ in rows:
        assert kind == "TrueType" and emb == "yes" and sub == "yes", name
    assert any(row[0].endswith("+" + face) for row in rows)


def test_rendering_is_byte_identical_across_processes(link) -> None:
    receipt = sample_receipt("JP", "ja")
    first = pdf.render(receipt, link)
    assert pdf.render(receipt, link) == first
    script = (
        "import sys; from receipts import pdf; from receipts.sample import sample_receipt;"
        f"sys.stdout.buffer.write(pdf.render(sample_receipt('JP', 'ja'), {link!r}))"
    )
    other = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    assert other.stdout == first
    assert b"/CreationDate (D:20261121124940+00'00')" in first


def test_concurrent_rendering_gives_the_same_bytes(link) -> None:
    receipts = [sample_receipt(code, lang) for code, lang in (("DE", "de"), ("JP", "ja"))] * 4
    expected = [pdf.render(receipt, link) for receipt in receipts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda r: pdf.render(r, link), receipts)) == expected


def test_different_receipts_get_different_document_ids(link) -> None:
    def trailer_id(data: bytes) -> bytes:
        return data.split(b"/ID", 1)[1][:80]

    a = pdf.render(sample_receipt("DE", "de", number=1), link)
    b = pdf.render(sample_receipt("DE", "de", number=2), link)
    assert trailer_id(a) != trailer_id(b)


def test_a_missing_font_is_a_clear_error(monkeypatch, tmp_path) -> None:
    missing = fonts.FontFile("IPAexGothic", tmp_path / "ipaexg.ttf", "fonts-ipaexfont-gothic")
    monkeypatch.setitem(fonts.FONT_FILES, "IPAexGothic", missing)
    with pytest.raises(fonts.FontMissing) as caught:
        fonts.check()
    assert str(tmp_path / "ipaexg.ttf") in str(caught.value)
    assert "fonts-ipaexfont-gothic" in str(caught.value)
