"""Against the CPO simulator over real HTTP: every scenario reaches the subscriber as the
right event, and the database holds what the events say."""

from __future__ import annotations

import base64
import json
import time

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk_app.models.ocpi import OcpiCdr, OcpiCommand, OcpiEvse, OcpiSession, OcpiTariff
from kiosk_app.ocpi.events import (
    CdrReceived,
    CommandResponseReceived,
    CommandResultReceived,
    LocationUpdated,
    SessionUpdated,
)

REF = "TX-0001"


def start(service, ref=REF, evse="EVSE-1"):  # type: ignore[no-untyped-def]
    return service.start_session(ref, "PARK-1", evse)


def db_rows(service, model, **filters):  # type: ignore[no-untyped-def]
    with service.database.session() as db:
        return list(db.scalars(sa.select(model).filter_by(**filters)))


def test_sync_pulls_every_page_of_locations_and_tariffs(registered, sim):  # type: ignore[no-untyped-def]
    # The simulator serves one item per page, so two tariffs need the Link header followed.
    tariffs = db_rows(registered, OcpiTariff)
    assert sorted(t.tariff_id for t in tariffs) == ["AC-STANDARD", "DC-FAST"]
    evses = db_rows(registered, OcpiEvse)
    assert len(evses) == 6 and {e.status for e in evses} == {"AVAILABLE"}
    gets = [p for m, p, _ in sim.received if m == "GET" and p.endswith("/tariffs")]
    assert len(gets) == 2


def test_happy_path_start_session_cdr(registered, recorder, sim):  # type: ignore[no-untyped-def]
    response = start(registered)
    assert response is not None and response.result == "ACCEPTED"
    first = recorder.wait_for(CommandResponseReceived, command="START_SESSION")
    assert (first.authorization_reference, first.result, first.timeout_s) == (REF, "ACCEPTED", 30)
    recorder.wait_for(CommandResultReceived, command="START_SESSION", result="ACCEPTED")
    recorder.wait_for(SessionUpdated, authorization_reference=REF, status="PENDING")
    recorder.wait_for(LocationUpdated, evse_uid="EVSE-1", status="CHARGING")
    # All three ticks: kWh grows 1.833 kWh per 5 simulated minutes at 22 kW.
    deadline = time.monotonic() + 10
    while len(recorder.of(SessionUpdated, status="ACTIVE")) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    active = recorder.of(SessionUpdated, status="ACTIVE")
    assert [str(e.kwh) for e in active] == ["1.833", "3.666", "5.499"]
    assert all(e.total_cost is not None for e in active)
    assert active[-1].total_cost > active[0].total_cost
    session_row = db_rows(registered, OcpiSession, authorization_reference=REF)[0]
    assert len(session_row.doc["charging_periods"]) == 3  # PATCHes appended their periods

    registered.stop_session(REF)
    recorder.wait_for(CommandResponseReceived, command="STOP_SESSION", result="ACCEPTED")
    recorder.wait_for(CommandResultReceived, command="STOP_SESSION", result="ACCEPTED")
    recorder.wait_for(SessionUpdated, authorization_reference=REF, status="COMPLETED")
    cdr = recorder.wait_for(CdrReceived, authorization_reference=REF)
    assert cdr.credit is False and str(cdr.total_energy) == "5.499"
    assert cdr.total_cost_incl == active[-1].total_cost

    signed = cdr.raw["signed_data"]
    key = serialization.load_der_public_key(bytes.fromhex(signed["public_key"]))
    for value in signed["signed_values"]:
        ocmf = base64.b64decode(value["signed_data"]).decode()
        assert ocmf.startswith("OCMF|")
        payload = ocmf[len("OCMF|") : ocmf.rindex("|")]
        signature = json.loads(ocmf[ocmf.rindex("|") + 1 :])
        assert payload == value["plain_data"]
        assert json.loads(payload)["ID"] == cdr.raw["cdr_token"]["uid"]
        key.verify(bytes.fromhex(signature["SD"]), payload.encode(), ec.ECDSA(hashes.SHA256()))


def test_command_rejected(registered, recorder, sim):  # type: ignore[no-untyped-def]
    sim.configure(command_response="REJECTED")
    assert start(registered).result == "REJECTED"
    event = recorder.wait_for(CommandResponseReceived)
    assert (event.authorization_reference, event.result) == (REF, "REJECTED")
    time.sleep(0.2)
    assert not recorder.of(CommandResultReceived) and not recorder.of(SessionUpdated)


def test_evse_occupied(registered, recorder, sim):  # type: ignore[no-untyped-def]
    sim.configure(command_result="EVSE_OCCUPIED")
    start(registered)
    recorder.wait_for(CommandResultReceived, authorization_reference=REF, result="EVSE_OCCUPIED")
    time.sleep(0.2)
    assert not recorder.of(SessionUpdated)
    command = db_rows(registered, OcpiCommand, authorization_reference=REF)[0]
    assert (command.response_result, command.result) == ("ACCEPTED", "EVSE_OCCUPIED")


def test_result_never_sent(registered, recorder, sim):  # type: ignore[no-untyped-def]
    sim.configure(command_result=None)
    start(registered)
    recorder.wait_for(CommandResponseReceived, result="ACCEPTED")
    time.sleep(0.3)
    assert not recorder.of(CommandResultReceived)
    assert db_rows(registered, OcpiCommand)[0].result is None


def test_car_never_plugged_in(registered, recorder, sim):  # type: ignore[no-untyped-def]
    sim.configure(car_plugged_in=False)
    start(registered)
    recorder.wait_for(CommandResultReceived, result="ACCEPTED")
    time.sleep(0.3)
    assert not recorder.of(SessionUpdated)


def test_session_invalid(registered, recorder, sim):  # type: ignore[no-untyped-def]
    sim.configure(session_invalid=True)
    start(registered)
    recorder.wait_for(SessionUpdated, authorization_reference=REF, status="INVALID")
    time.sleep(0.2)
    assert not recorder.of(CdrReceived)


def test_slow_answer_is_an_error_event_not_a_retry(registered, recorder, sim):  # type: ignore[no-untyped-def]
    registered.client.timeout = (2.0, 0.3)
    sim.configure(slow_s=1.0)
    assert start(registered) is None
    event = recorder.wait_for(CommandResponseReceived)
    assert event.result == "ERROR" and "Timeout" in event.message
    time.sleep(1.0)
    commands = [p for m, p, _ in sim.received if p.endswith("/commands/START_SESSION")]
    assert len(commands) == 1


def test_http_500_is_an_error_event_and_never_retried(registered, recorder, sim):  # type: ignore[no-untyped-def]
    sim.configure(http_500=5)
    assert start(registered) is None
    event = recorder.wait_for(CommandResponseReceived)
    assert event.result == "ERROR" and "HTTP 500" in event.message
    assert sim.scenario.http_500 == 4  # exactly one request reached the CPO


def _charge_to_cdr(service, recorder):  # type: ignore[no-untyped-def]
    start(service)
    recorder.wait_for(SessionUpdated, authorization_reference=REF, status="PENDING")
    deadline = time.monotonic() + 10
    while len(recorder.of(SessionUpdated, status="ACTIVE")) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    service.stop_session(REF)
    return recorder.wait_for(CdrReceived, authorization_reference=REF, credit=False)


def test_duplicate_cdr_is_idempotent(registered, recorder, sim):  # type: ignore[no-untyped-def]
    sim.configure(duplicate_cdr=True)
    cdr = _charge_to_cdr(registered, recorder)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        posts = [p for p in sim.pushes if p[0] == "POST" and p[1].endswith("/cdrs")]
        if len(posts) == 2:
            break
        time.sleep(0.02)
    assert [(p[2], p[3]["status_code"]) for p in posts] == [(201, 1000), (200, 1000)]
    assert len(recorder.of(CdrReceived)) == 1
    assert len(db_rows(registered, OcpiCdr, cdr_id=cdr.cdr_id)) == 1


def test_credit_cdr_is_linked_to_its_original(registered, recorder, sim):  # type: ignore[no-untyped-def]
    sim.configure(credit_cdr=True)
    original = _charge_to_cdr(registered, recorder)
    credit = recorder.wait_for(CdrReceived, credit=True)
    assert credit.credit_reference_id == original.cdr_id
    assert credit.authorization_reference == REF
    assert credit.total_cost_incl == -original.total_cost_incl
    rows = {r.cdr_id: r for r in db_rows(registered, OcpiCdr)}
    assert rows[credit.cdr_id].credited_cdr_pk == rows[original.cdr_id].id


def test_connector_required_by_evse_is_filled_in(registered, recorder, sim):  # type: ignore[no-untyped-def]
    start(registered, evse="EVSE-5")  # DC: START_SESSION_CONNECTOR_REQUIRED, one connector
    body = next(b for m, p, b in sim.received if p.endswith("/commands/START_SESSION"))
    assert body["connector_id"] == "1" and body["authorization_reference"] == REF
    assert body["token"]["type"] == "AD_HOC_USER" and body["token"]["whitelist"] == "NEVER"
    assert body["response_url"].endswith(
        "/commands/START_SESSION/" + db_rows(registered, OcpiCommand)[0].id
    )


@pytest.mark.parametrize("direction", ["we_register", "cpo_registers"])
def test_handshake_both_directions(direction, service, live_app, sim, recorder):  # type: ignore[no-untyped-def]
    if direction == "we_register":
        assert service.register(sim.versions_url, sim.token_a) == "2.3.0"
    else:
        with service.database.session() as db:
            from kiosk_app.ocpi import peers

            token_a = peers.issue_token(db)
            db.commit()
        assert sim.register_with(live_app.versions_url, token_a) == "2.3.0"
    report = service.sync()
    assert (report.locations, report.tariffs, report.rejected) == (1, 2, [])
    start(service)
    recorder.wait_for(SessionUpdated, authorization_reference=REF, status="PENDING")


def test_token_is_pushed_before_start_when_configured(registered, sim, recorder):  # type: ignore[no-untyped-def]
    import dataclasses

    registered.config = dataclasses.replace(registered.config, push_tokens=True)
    start(registered)
    calls = [(m, p) for m, p, _ in sim.received if "/tokens/" in p or "/commands/" in p]
    assert calls[0][0] == "PUT" and calls[0][1].startswith("/ocpi/cpo/2.3.0/tokens/DE/KSK/")
    assert calls[1] == ("POST", "/ocpi/cpo/2.3.0/commands/START_SESSION")
    token_put = next(b for m, p, b in sim.received if m == "PUT" and "/tokens/" in p)
    assert token_put["type"] == "AD_HOC_USER" and token_put["whitelist"] == "NEVER"
