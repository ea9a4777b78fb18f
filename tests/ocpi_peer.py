"""A CPO registered with us, as the credentials handshake leaves it, for tests and benchmarks
that exercise the receiver without running the handshake first (the handshake has tests of its
own in tests/ocpi/)."""

from __future__ import annotations

import base64

from kiosk_app.db import Database
from kiosk_app.models.ocpi import OcpiPeer
from kiosk_app.ocpi.transport import hash_token


def register_cpo(
    database: Database, token: str, country_code: str, party_id: str
) -> dict[str, str]:
    """Store the CPO as registered (2.2.1) and return the headers it calls us with."""
    with database.session() as db:
        db.add(
            OcpiPeer(
                status="registered",
                incoming_token_hash=hash_token(token),
                outgoing_token="our-token-b",
                token_encoding="auto",
                version="2.2.1",
                endpoints={},
                country_code=country_code,
                party_id=party_id,
            )
        )
        db.commit()
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}
