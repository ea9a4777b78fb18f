"""OCMF records signed with the simulator's demo meter key (ECDSA secp256r1, SHA-256).

The key is derived from a fixed number so its public key is stable and can be published with
the demo (`PUBLIC_KEY_HEX`); it proves nothing about real meters.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

_DEMO_SECRET = int.from_bytes(b"ev-kiosk demo meter key, not real", "big") % (2**255)
_KEY = ec.derive_private_key(_DEMO_SECRET, ec.SECP256R1())
PUBLIC_KEY_HEX = (
    _KEY.public_key()
    .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    .hex()
)
METER_SERIAL = "SIM-METER-0001"


def _ocmf_time(moment: datetime) -> str:
    # OCMF time: ISO 8601 with milliseconds after a comma, offset without colon, sync flag.
    return moment.strftime("%Y-%m-%dT%H:%M:%S,000%z") + " S"


def record(
    *,
    evse_id: str,
    token_uid: str,
    context: str,
    moment: datetime,
    meter_kwh: Decimal,
    pagination: int,
    current_type: str,
) -> tuple[str, str]:
    """One signed OCMF reading: returns (payload JSON, full `OCMF|payload|signature`)."""
    payload = {
        "FV": "1.0",
        "GI": "SIM Demo Meter",
        "GS": METER_SERIAL,
        "GV": "1.0.0",
        "PG": f"T{pagination}",
        "MV": "Simulated",
        "MM": "DemoMeter",
        "MS": METER_SERIAL,
        "IS": True,
        "IL": "NONE",
        "IF": [],
        "IT": "CENTRAL",
        "ID": token_uid,
        "CT": "EVSEID",
        "CI": evse_id,
        "RD": [
            {
                "TM": _ocmf_time(moment),
                "TX": context,
                "RV": float(meter_kwh.quantize(Decimal("0.001"))),
                "RI": "1-b:1.8.0",
                "RU": "kWh",
                "RT": "DC" if current_type == "DC" else "AC",
                "EF": "",
                "ST": "G",
            }
        ],
    }
    text = json.dumps(payload, separators=(",", ":"))
    signature = _KEY.sign(text.encode(), ec.ECDSA(hashes.SHA256())).hex()
    sig = json.dumps({"SA": "ECDSA-secp256r1-SHA256", "SD": signature}, separators=(",", ":"))
    return text, f"OCMF|{text}|{sig}"
