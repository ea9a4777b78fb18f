"""OCMF signed meter data: byte-exact parsing, signature verification, meter readings.

`OCMF|<payload JSON>|<signature JSON>`: the signature covers the payload bytes exactly as
written, so the payload is kept as the original bytes and only read, never re-serialised. The
payload is split at the first `|` after the header and the last `|`, since free text (`TT`)
may itself contain a `|`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from receipts.model import Metering

HEADER = b"OCMF|"

# SA curve names (OCMF spec) → curve class; secp192k1 is named by the spec but the
# cryptography package cannot load it, so it is reported as unsupported.
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp256r1": ec.SECP256R1,
    "secp256k1": ec.SECP256K1,
    "secp384r1": ec.SECP384R1,
    "brainpool256r1": ec.BrainpoolP256R1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpool384r1": ec.BrainpoolP384R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
}
HASHES: dict[str, type[hashes.HashAlgorithm]] = {"SHA256": hashes.SHA256}
DEFAULT_ALGORITHM = "ECDSA-secp256r1-SHA256"
_WH_PER_KWH = Decimal(1000)


class OcmfError(ValueError):
    """Malformed OCMF data; the message names the byte offset or field."""


class Status(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNSUPPORTED = "unsupported"
    NO_KEY = "no_key"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Verification:
    status: Status
    algorithm: str
    detail: str = ""

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID


@dataclass(frozen=True)
class Reading:
    time: str
    type: str  # TX: B begin, E end, ...
    value_kwh: Decimal
    status: str


@dataclass(frozen=True)
class Record:
    """One signed OCMF record: the exact payload bytes and their parsed content."""

    raw: bytes
    payload_bytes: bytes
    payload: dict[str, Any]
    signature: dict[str, Any]

    @property
    def meter_serial(self) -> str:
        return str(self.payload.get("MS", ""))

    @property
    def algorithm(self) -> str:
        return str(self.signature.get("SA", DEFAULT_ALGORITHM))

    @property
    def readings(self) -> tuple[Reading, ...]:
        """Energy readings (RU kWh or Wh) in kWh, in record order."""
        found = []
        for index, entry in enumerate(self.payload.get("RD", [])):
            unit = entry.get("RU")
            if unit not in ("kWh", "Wh") or "RV" not in entry:
                continue
            value = entry["RV"]
            if not isinstance(value, Decimal | int):
                raise OcmfError(f"payload RD[{index}].RV: expected a number, got {value!r}")
            kwh = Decimal(value) / _WH_PER_KWH if unit == "Wh" else Decimal(value)
            found.append(
                Reading(entry.get("TM", ""), entry.get("TX", ""), kwh, entry.get("ST", ""))
            )
        return tuple(found)

    def reading(self, kind: str) -> Reading | None:
        """The first reading of transaction type `kind` (`B` begin, `E` end)."""
        return next((r for r in self.readings if r.type == kind), None)


def parse(data: str | bytes) -> Record:
    """Parse an OCMF string without altering a byte of the signed payload."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if not raw.startswith(HEADER):
        raise OcmfError("byte 0: expected the header 'OCMF|'")
    last = raw.rfind(b"|")
    if last < len(HEADER):
        raise OcmfError(f"byte {len(raw)}: missing '|' before the signature section")
    payload_bytes = raw[len(HEADER) : last]
    payload = _json_object(payload_bytes, "payload", len(HEADER))
    signature = _json_object(raw[last + 1 :], "signature", last + 1)
    if not isinstance(signature.get("SD"), str):
        raise OcmfError("signature: field SD (signature data) missing")
    return Record(raw, payload_bytes, payload, signature)


def _json_object(data: bytes, what: str, offset: int) -> dict[str, Any]:
    try:
        value = json.loads(data, parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise OcmfError(f"byte {offset + exc.start}: {what} is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise OcmfError(f"byte {offset + exc.pos}: {what} is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise OcmfError(f"byte {offset}: {what} is not a JSON object")
    return value


def load_public_key(text: str, curve: ec.EllipticCurve) -> ec.EllipticCurvePublicKey:
    """A public key from hex or base64 DER SubjectPublicKeyInfo, or a raw X‖Y point in hex."""
    text = "".join(text.split())
    try:
        der = bytes.fromhex(text)
    except ValueError:
        try:
            der = base64.b64decode(text, validate=True)
        except binascii.Error:
            raise OcmfError("public key: neither hex nor base64") from None
    if der[:1] == b"\x30":
        key = serialization.load_der_public_key(der)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise OcmfError("public key: not an elliptic-curve key")
        return key
    # a bare point, as some meters print it: add the uncompressed-point marker
    point = der if der[:1] == b"\x04" and len(der) % 2 else b"\x04" + der
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)


def _signature_der(record: Record, size: int) -> bytes:
    encoding = record.signature.get("SE", "hex")
    sd = record.signature["SD"]
    try:
        raw = base64.b64decode(sd, validate=True) if encoding == "base64" else bytes.fromhex(sd)
    except (ValueError, binascii.Error):
        raise OcmfError(f"signature SD: not valid {encoding}") from None
    if len(raw) == 2 * size and raw[:1] != b"\x30":
        # raw r‖s, as some meters write it: wrap it as DER
        half = len(raw) // 2
        return encode_dss_signature(int.from_bytes(raw[:half]), int.from_bytes(raw[half:]))
    return raw


def verify(record: Record, public_key: str | None) -> Verification:
    """Check the signature of `record` with `public_key` (from a trusted source)."""
    algorithm = record.algorithm
    if not public_key:
        return Verification(Status.NO_KEY, algorithm, "no public key given")
    parts = algorithm.split("-")
    if len(parts) != 3 or parts[0] != "ECDSA":
        return Verification(Status.UNSUPPORTED, algorithm, "not an ECDSA algorithm")
    curve_class, hash_class = CURVES.get(parts[1]), HASHES.get(parts[2])
    if curve_class is None or hash_class is None:
        return Verification(Status.UNSUPPORTED, algorithm, f"curve or hash {algorithm} unsupported")
    curve = curve_class()
    try:
        key = load_public_key(public_key, curve)
        der = _signature_der(record, (curve.key_size + 7) // 8)
    except UnsupportedAlgorithm as exc:
        return Verification(Status.UNSUPPORTED, algorithm, f"public key: {exc}")
    except (OcmfError, ValueError) as exc:
        return Verification(Status.MALFORMED, algorithm, str(exc))
    if key.curve.name != curve.name:
        detail = f"key is on {key.curve.name}, SA names {parts[1]}"
        return Verification(Status.INVALID, algorithm, detail)
    try:
        key.verify(der, record.payload_bytes, ec.ECDSA(hash_class()))
    except InvalidSignature:
        return Verification(Status.INVALID, algorithm, "signature does not match the payload")
    return Verification(Status.VALID, algorithm)


def check(data: str, public_key: str | None) -> Verification:
    """Parse and verify in one step; malformed data is a result, not an exception."""
    try:
        record = parse(data)
    except OcmfError as exc:
        return Verification(Status.MALFORMED, "", str(exc))
    return verify(record, public_key)


def metering(records: Sequence[str], public_key: str) -> Metering:
    """The receipt's Eichrecht block from the session's signed records (e.g. OCPI CDR
    `signed_values`): meter serial, begin reading from the first `B`, end from the last `E`."""
    parsed = [parse(data) for data in records]
    begins = [r.reading("B") for r in parsed if r.reading("B")]
    ends = [r.reading("E") for r in parsed if r.reading("E")]
    if not begins or not ends:
        raise OcmfError("readings: need a begin (TX B) and an end (TX E) reading")
    serials = {r.meter_serial or str(r.payload.get("GS", "")) for r in parsed}
    if len(serials) != 1:
        raise OcmfError(f"payload MS: records come from different meters {sorted(serials)}")
    return Metering(
        meter_id=serials.pop(),
        start_reading=begins[0].value_kwh,
        end_reading=ends[-1].value_kwh,
        ocmf=tuple(records),
        public_key=public_key,
    )
