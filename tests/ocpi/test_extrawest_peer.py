"""Interoperability with a CPO we did not write: extrawest-ocpi 2.2.1 (OCPI.md §14).

Its quirks are met by generic rules: the CommandResponse arrives as a one-element list; the
`commands` endpoint is missing from its version details and is derived from its siblings;
ids come back lower-cased and are compared case-insensitively; its URLs end with a slash.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from kiosk_app.models.ocpi import OcpiLocation, OcpiPeer, OcpiSession, OcpiTariff
from kiosk_app.ocpi.envelope import OcpiError
from kiosk_app.ocpi.events import CommandResponseReceived, CommandResultReceived, SessionUpdated

# The first run builds the peer's virtualenv from PyPI inside the fixture: allow for it.
pytestmark = pytest.mark.timeout(900)

TARIFFS = ("tariff_1_simple_2hour.json", "tariff_8_simple_025kwh.json")  # what the peer serves
REF = "TX-EXW-1"


def test_handshake_pull_start_and_stop(extrawest_cpo, service, recorder, examples):  # type: ignore[no-untyped-def]
    assert service.register(extrawest_cpo.versions_url, extrawest_cpo.token_a) == "2.2.1"
    with service.database.session() as db:
        peer = db.scalar(sa.select(OcpiPeer))
        assert (peer.status, peer.country_code, peer.party_id) == ("registered", "BE", "BEC")
        assert peer.endpoints["commands"].endswith("/cpo/2.2.1/commands/")  # derived

    report = service.sync()
    assert (report.locations, report.tariffs, report.rejected) == (1, 2, [])
    with service.database.session() as db:
        location = db.scalar(sa.select(OcpiLocation))
        assert location.location_id == "LOC1"  # canonical, whatever case the peer sent
        served = [json.loads((examples / "2.2.1-bugfixes" / n).read_text())["id"] for n in TARIFFS]
        assert {t.tariff_id for t in db.scalars(sa.select(OcpiTariff))} == set(served)
        evse_uid = location.doc["evses"][0]["uid"]

    # START_SESSION with a location id in another case than the peer stores it.
    response = service.start_session(REF, "loc1", evse_uid)
    assert response is not None and response.result == "ACCEPTED"  # data was a list
    recorder.wait_for(CommandResponseReceived, command="START_SESSION", result="ACCEPTED")
    result = recorder.wait_for(CommandResultReceived, command="START_SESSION", timeout=20)
    assert (result.authorization_reference, result.result) == (REF, "ACCEPTED")

    # Its Session carries our authorization_reference; pull it, then stop it.
    service.sync(modules=("sessions",))
    updated = recorder.wait_for(SessionUpdated, authorization_reference=REF)
    assert updated.status == "PENDING"
    with service.database.session() as db:
        assert db.scalar(sa.select(OcpiSession.session_id)) == updated.session_id
    stop = service.stop_session(REF)
    assert stop is not None and stop.result == "ACCEPTED"
    stopped = recorder.wait_for(CommandResultReceived, command="STOP_SESSION", timeout=20)
    assert (stopped.authorization_reference, stopped.result) == (REF, "ACCEPTED")


def test_wrong_token_fails_registration_cleanly(extrawest_cpo, service):  # type: ignore[no-untyped-def]
    # This peer answers an unknown token on versions with HTTP 200 + OCPI 3000 (quirk 6).
    with pytest.raises(OcpiError, match="versions: OCPI 3000"):
        service.register(extrawest_cpo.versions_url, "not-the-token")
    with service.database.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(OcpiPeer)) == 0
