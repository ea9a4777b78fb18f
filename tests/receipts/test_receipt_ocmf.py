"""OCMF samples verify or fail exactly as the reference README says."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from receipts import ocmf, transparency
from receipts.ocmf import Status

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "ocmf"

# (file, context or index) → expected status; every other record in the JSON must be valid
EXPECTED = {
    ("test_ocmf_keba_kcp30_fail.xml", "Transaction.Begin"): Status.INVALID,
    ("test_ocmf_ebee_02.xml", "Transaction.Begin"): Status.INVALID,
    ("second_key_fail_ocmf.xml", "Transaction.End"): Status.INVALID,
    ("test_ocmf_transaction_two_values.xml", "Transaction.Begin"): Status.UNSUPPORTED,
    ("test_ocmf_transaction_two_values.xml", "Transaction.End"): Status.UNSUPPORTED,
    ("signature_16955306_ALL.xml", "Transaction.Begin"): Status.NO_KEY,
    ("signature_16955306_ALL.xml", "Transaction.End"): Status.NO_KEY,
    # pretty-printed payload in the file: the stored bytes are not what was signed
    ("isa-ocmf__OCMF-receipt-with_import_and_export.xml", "Transaction_context"): Status.INVALID,
}
CURVES = {
    "brainpoolP256r1.xml": "ECDSA-brainpoolP256r1-SHA256",
    "nistP384_0Wh.xml": "ECDSA-secp384r1-SHA256",
    "ocmf_sec.xml": "ECDSA-secp256k1-SHA256",
}


def test_every_sample_verifies_as_documented(ocmf_examples) -> None:
    assert len(ocmf_examples) == 58
    for example in ocmf_examples:
        name = Path(example["source_file"]).name
        result = ocmf.check(example["ocmf"], example["public_key"])
        expected = EXPECTED.get((name, example["context"]), Status.VALID)
        assert result.status is expected, (name, example["index"], result)
        if name in CURVES:
            assert result.algorithm == CURVES[name]


def test_the_payload_is_kept_byte_exact(ocmf_examples) -> None:
    for example in ocmf_examples:
        record = ocmf.parse(example["ocmf"])
        assert record.raw == example["ocmf"].encode()
        assert b"OCMF|" + record.payload_bytes + b"|" in record.raw


def test_a_changed_byte_breaks_the_signature(ocmf_examples) -> None:
    example = next(e for e in ocmf_examples if e["source_file"] == "pyocmf_sample.xml")
    assert ocmf.check(example["ocmf"], example["public_key"]).valid
    tampered = example["ocmf"].replace('"RV":0.2597', '"RV":0.2598')
    assert ocmf.check(tampered, example["public_key"]).status is Status.INVALID
    # re-serialising the same values changes bytes, so it must fail too
    spaced = example["ocmf"].replace('"FV":"1.0",', '"FV": "1.0",')
    assert ocmf.check(spaced, example["public_key"]).status is Status.INVALID


def test_meter_readings_are_extracted(ocmf_examples) -> None:
    example = next(e for e in ocmf_examples if e["source_file"] == "pyocmf_sample.xml")
    record = ocmf.parse(example["ocmf"])
    assert record.reading("B").value_kwh == Decimal("0.2596")
    assert record.reading("E").value_kwh == Decimal("0.2597")
    assert record.meter_serial == ""  # this KEBA record carries no MS; GS is the gateway
    assert record.payload["GS"] == "17619300"


def test_a_pipe_inside_the_tariff_text_is_part_of_the_payload() -> None:
    record = ocmf.parse('OCMF|{"TT":"a|b","MS":"X1"}|{"SD":"00"}')
    assert record.payload == {"TT": "a|b", "MS": "X1"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("OCMX|{}|{}", "byte 0: expected the header"),
        ("OCMF|{}", "byte 7: missing .|. before the signature"),
        ('OCMF|{"a":}|{"SD":"00"}', "byte 10: payload is not valid JSON"),
        ('OCMF|{"a":1}|{}', "signature: field SD"),
        ('OCMF|[1]|{"SD":"00"}', "byte 5: payload is not a JSON object"),
    ],
)
def test_malformed_records_name_the_offset(data, message) -> None:
    with pytest.raises(ocmf.OcmfError, match=message.replace("(", r"\(")):
        ocmf.parse(data)
    assert ocmf.check(data, "00").status is Status.MALFORMED


def test_transparency_xml_round_trip_verifies(ocmf_examples) -> None:
    chosen = [e for e in ocmf_examples if e["source_file"].endswith("brainpoolP256r1.xml")]
    values = [transparency.SignedValue(e["ocmf"], e["public_key"], e["context"]) for e in chosen]
    xml = transparency.export(values, "TX-1")
    assert b">OCMF|" in xml and b'"}</signedData>' in xml  # no whitespace around signed data
    back = transparency.read(xml)
    assert [v.ocmf for v in back] == [e["ocmf"] for e in chosen]
    assert all(ocmf.check(v.ocmf, v.public_key).valid for v in back)


def test_reference_containers_are_read_byte_exact(ocmf_examples) -> None:
    data = (REFERENCE / "pyocmf_sample.xml").read_bytes()
    (value,) = transparency.read(data)
    expected = next(e for e in ocmf_examples if e["source_file"] == "pyocmf_sample.xml")
    assert value.ocmf == expected["ocmf"] and ocmf.check(value.ocmf, value.public_key).valid


def test_a_malformed_container_is_reported() -> None:
    data = (REFERENCE / "transparenzsoftware_testdata" / "ocmf-compleo-daten.xml").read_bytes()
    with pytest.raises(transparency.ContainerError, match="line"):
        transparency.read(data)


def test_metering_block_from_signed_records(ocmf_examples) -> None:
    from receipts.sample import SAMPLE_OCMF, SAMPLE_PUBLIC_KEY

    block = ocmf.metering([SAMPLE_OCMF], SAMPLE_PUBLIC_KEY)
    assert (block.meter_id, block.start_reading, block.end_reading) == (
        "DM3-0001234",
        Decimal("1234.567"),
        Decimal("1257.012"),
    )
    pair = [e["ocmf"] for e in ocmf_examples if e["source_file"].endswith("nistP384_0Wh.xml")]
    block = ocmf.metering(pair, "key")
    assert block.start_reading <= block.end_reading and block.ocmf == tuple(pair)
    with pytest.raises(ocmf.OcmfError, match="different meters"):
        ocmf.metering([SAMPLE_OCMF, pair[1]], "key")
