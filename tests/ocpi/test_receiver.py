"""The receiver's transport rules and object semantics, through the Flask test client."""

from __future__ import annotations

import base64
import time
from datetime import datetime

import sqlalchemy as sa
from test_receiver_fuzz import SESSION, URL

from kiosk_app.models.ocpi import OcpiCommand, OcpiPeer, OcpiSession, OcpiTariff, OcpiToken
from kiosk_app.ocpi import peers
from kiosk_app.ocpi.events import CommandResultReceived, SessionUpdated, TariffUpdated

TARIFF = {
    "country_code": "BE",
    "party_id": "BEC",
    "id": "T1",
    "currency": "EUR",
    "elements": [{"price_components": [{"type": "ENERGY", "price": 0.4, "step_size": 1}]}],
    "last_updated": "2026-01-01T10:00:00Z",
}


def test_unknown_or_missing_token_is_401(client, cpo_headers):  # type: ignore[no-untyped-def]
    for headers in ({}, {"Authorization": "Token " + base64.b64encode(b"nope").decode()}):
        response = client.put(URL, json=SESSION, headers=headers)
        assert response.status_code == 401 and response.get_json()["status_code"] == 2000


def test_raw_token_is_accepted_from_peers_that_do_not_encode(app, client):  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as db:
        token = peers.issue_token(db, encoding="raw")
        db.commit()
    assert (
        client.get("/ocpi/versions", headers={"Authorization": f"Token {token}"}).status_code == 200
    )
    encoded = base64.b64encode(token.encode()).decode()
    # Configured as raw: the Base64 form is a different token, which nobody issued.
    assert (
        client.get("/ocpi/versions", headers={"Authorization": f"Token {encoded}"}).status_code
        == 401
    )


def test_token_a_opens_only_versions_and_credentials(app, client):  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as db:
        token = peers.issue_token(db)
        db.commit()
    headers = {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}
    assert client.get("/ocpi/2.2.1/details", headers=headers).status_code == 200
    assert client.put(URL, json=SESSION, headers=headers).status_code == 401


def test_request_ids_and_routing_headers_are_echoed(client, cpo_headers):  # type: ignore[no-untyped-def]
    headers = cpo_headers | {
        "X-Request-ID": "req-1",
        "X-Correlation-ID": "corr-1",
        "OCPI-from-country-code": "BE",
        "OCPI-from-party-id": "BEC",
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "KSK",
    }
    response = client.put(URL, json=SESSION, headers=headers)
    assert response.headers["X-Request-ID"] == "req-1"
    assert response.headers["X-Correlation-ID"] == "corr-1"
    assert response.headers["OCPI-from-party-id"] == "KSK"
    assert response.headers["OCPI-to-party-id"] == "BEC"


def test_session_put_then_patch_appends_periods(app, client, cpo_headers, recorder):  # type: ignore[no-untyped-def]
    period = {
        "start_date_time": "2026-01-01T10:00:00Z",
        "dimensions": [{"type": "ENERGY", "volume": 1.5}],
    }
    assert (
        client.put(
            URL, json=SESSION | {"charging_periods": [period]}, headers=cpo_headers
        ).status_code
        == 201
    )
    patch = {"kwh": 3, "charging_periods": [period], "last_updated": "2026-01-01T10:05:00Z"}
    assert client.patch(URL, json=patch, headers=cpo_headers).get_json()["status_code"] == 1000
    with app.extensions["kiosk.db"].session() as db:
        row = db.scalar(sa.select(OcpiSession))
        assert len(row.doc["charging_periods"]) == 2 and str(row.kwh) == "3.0000"
    # A PUT replaces the periods entirely; the id in the URL is compared case-insensitively.
    client.put(URL.replace("/S1", "/s1"), json=SESSION, headers=cpo_headers)
    with app.extensions["kiosk.db"].session() as db:
        assert "charging_periods" not in db.scalar(sa.select(OcpiSession)).doc
    assert [e.kwh for e in recorder.of(SessionUpdated)] == [0, 3, 0]


def test_patch_without_last_updated_and_url_id_mismatch_are_2001(client, cpo_headers):  # type: ignore[no-untyped-def]
    client.put(URL, json=SESSION, headers=cpo_headers)
    answer = client.patch(URL, json={"kwh": 1}, headers=cpo_headers).get_json()
    assert answer["status_code"] == 2001 and answer["status_message"].startswith("last_updated")
    answer = client.put(URL, json=SESSION | {"id": "OTHER"}, headers=cpo_headers).get_json()
    assert answer["status_code"] == 2001 and answer["status_message"].startswith("id:")


def test_patch_of_unknown_location_is_2003(client, cpo_headers):  # type: ignore[no-untyped-def]
    answer = client.patch(
        "/ocpi/emsp/2.2.1/locations/BE/BEC/NOPE",
        json={"name": "x", "last_updated": "2026-01-01T10:00:00Z"},
        headers=cpo_headers,
    ).get_json()
    assert answer["status_code"] == 2003


def test_tariff_put_and_delete(app, client, cpo_headers, recorder):  # type: ignore[no-untyped-def]
    url = "/ocpi/emsp/2.2.1/tariffs/BE/BEC/T1"
    assert client.put(url, json=TARIFF, headers=cpo_headers).status_code == 201
    assert client.get(url, headers=cpo_headers).get_json()["data"]["id"] == "T1"
    assert client.delete(url, headers=cpo_headers).get_json()["status_code"] == 1000
    with app.extensions["kiosk.db"].session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(OcpiTariff)) == 0
    assert [e.deleted for e in recorder.of(TariffUpdated)] == [False, True]
    assert client.get(url, headers=cpo_headers).status_code == 404


def test_command_result_first_one_wins(app, client, cpo_headers, recorder):  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as db:
        peer = db.scalar(sa.select(OcpiPeer))
        db.add(
            OcpiCommand(
                id="c1",
                peer_id=peer.id,
                command="START_SESSION",
                authorization_reference="TX-9",
                request={},
            )
        )
        db.commit()
    url = "/ocpi/emsp/2.2.1/commands/START_SESSION/c1"
    assert client.post(url, json={"result": "ACCEPTED"}, headers=cpo_headers).status_code == 200
    assert client.post(url, json={"result": "FAILED"}, headers=cpo_headers).status_code == 200
    assert [(e.authorization_reference, e.result) for e in recorder.of(CommandResultReceived)] == [
        ("TX-9", "ACCEPTED")
    ]
    answer = client.post(url, json={"result": "MAYBE"}, headers=cpo_headers).get_json()
    assert answer["status_code"] == 2001 and answer["status_message"].startswith("result:")
    unknown = client.post(url[:-2] + "zz", json={"result": "ACCEPTED"}, headers=cpo_headers)
    assert unknown.get_json()["status_code"] == 2001


def test_tokens_list_is_paginated(app, client, cpo_headers):  # type: ignore[no-untyped-def]
    with app.extensions["kiosk.db"].session() as db:
        for i in range(5):
            stamp = f"2026-01-0{i + 1}T00:00:00+00:00"
            db.add(
                OcpiToken(
                    uid=f"U{i}",
                    authorization_reference=f"R{i}",
                    doc={"uid": f"U{i}"},
                    last_updated=datetime.fromisoformat(stamp),
                )
            )
        db.commit()
    response = client.get(
        "/ocpi/emsp/2.2.1/tokens?limit=2&date_from=2026-01-02T00:00:00Z", headers=cpo_headers
    )
    body = response.get_json()
    assert [t["uid"] for t in body["data"]] == ["U1", "U2"]
    assert response.headers["X-Total-Count"] == "4" and response.headers["X-Limit"] == "100"
    assert "offset=2" in response.headers["Link"] and "date_from=" in response.headers["Link"]
    last = client.get(
        "/ocpi/emsp/2.2.1/tokens?limit=2&offset=2&date_from=2026-01-02T00:00:00Z",
        headers=cpo_headers,
    )
    assert [t["uid"] for t in last.get_json()["data"]] == [
        "U3",
        "U4",
    ] and "Link" not in last.headers


def test_unsupported_version_and_unknown_paths(client, cpo_headers):  # type: ignore[no-untyped-def]
    assert client.get("/ocpi/9.9/details", headers=cpo_headers).get_json()["status_code"] == 3002
    response = client.delete(URL, headers=cpo_headers)
    assert response.status_code == 405 and response.get_json()["status_code"] == 2000
    assert client.get("/ocpi/emsp/2.2.1/nothing", headers=cpo_headers).status_code == 404


def test_credentials_get_put_delete(app, client, cpo_headers):  # type: ignore[no-untyped-def]
    answer = client.get("/ocpi/2.2.1/credentials", headers=cpo_headers).get_json()
    assert answer["data"]["token"] == "cpo-token-c-for-tests"
    assert answer["data"]["roles"][0]["role"] == "EMSP"
    # POST while registered → 405
    post = client.post("/ocpi/2.2.1/credentials", json=answer["data"], headers=cpo_headers)
    assert post.status_code == 405
    assert client.delete("/ocpi/2.2.1/credentials", headers=cpo_headers).status_code == 200
    assert client.put(URL, json=SESSION, headers=cpo_headers).status_code == 401


def test_a_registered_caller_is_remembered_briefly(app, client, cpo_headers):  # type: ignore[no-untyped-def]
    """A charging Session's PATCH stream spares the token query; a peer removed outside a
    request (the CLI, another web worker) is refused once the memory lapses."""
    app.extensions["kiosk.ocpi_callers"] = peers.RecentCallers(ttl_s=0.3)
    database = app.extensions["kiosk.db"]
    token_queries = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if "incoming_token_hash" in statement:
            token_queries.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", count)
    assert client.put(URL, json=SESSION, headers=cpo_headers).status_code == 201
    for kwh in (1, 2, 3):
        assert client.patch(URL, json={"kwh": kwh}, headers=cpo_headers).status_code == 200
    assert len(token_queries) == 1
    with database.session() as db:
        db.scalar(sa.select(OcpiPeer)).status = peers.UNREGISTERED
        db.commit()
    assert client.patch(URL, json={"kwh": 4}, headers=cpo_headers).status_code == 200
    time.sleep(0.35)
    assert client.patch(URL, json={"kwh": 5}, headers=cpo_headers).status_code == 401


def test_211_session_with_raw_token_is_matched_through_our_one_time_token(  # type: ignore[no-untyped-def]
    app, client, recorder
):
    with app.extensions["kiosk.db"].session() as db:
        token = peers.issue_token(db)
        peer = db.scalar(sa.select(OcpiPeer))
        peer.status, peer.country_code, peer.party_id, peer.version = (
            "registered",
            "NL",
            "ABC",
            "2.1.1",
        )
        db.add(
            OcpiToken(
                uid="ADHOC1",
                authorization_reference="TX-211",
                doc={},
                last_updated=datetime(2017, 1, 1),
            )
        )
        db.commit()
    session = {
        "id": "S211",
        "start_datetime": "2017-01-01T10:00:00Z",
        "kwh": 2.5,
        "auth_id": "adhoc1",
        "auth_method": "WHITELIST",
        "location": {
            "id": "L1",
            "address": "a",
            "city": "c",
            "country": "NLD",
            "coordinates": {"latitude": "52.1", "longitude": "4.3"},
            "last_updated": "2017-01-01T10:00:00Z",
        },
        "currency": "EUR",
        "total_cost": 1.25,
        "status": "ACTIVE",
        "last_updated": "2017-01-01T10:05:00Z",
    }
    response = client.put(
        "/ocpi/emsp/2.1.1/sessions/NL/ABC/S211",
        json=session,
        headers={"Authorization": f"Token {token}"},
    )  # 2.1.1: not encoded
    assert response.status_code == 201, response.get_json()
    event = recorder.wait_for(SessionUpdated)
    assert (event.authorization_reference, event.session_id, str(event.total_cost)) == (
        "TX-211",
        "S211",
        "1.25",
    )


def test_connector_put_needs_last_updated_and_a_known_evse(client, cpo_headers, examples):  # type: ignore[no-untyped-def]
    import json

    loc = json.loads((examples / "2.2.1-bugfixes" / "location_example.json").read_text())
    base = f"/ocpi/emsp/2.2.1/locations/BE/BEC/{loc['id']}"
    assert client.put(base, json=loc, headers=cpo_headers).status_code == 201
    evse = loc["evses"][0]
    connector = {"id": "9", "standard": "IEC_62196_T2", "format": "SOCKET"}
    url = f"{base}/{evse['uid']}/9"
    answer = client.put(url, json=connector, headers=cpo_headers).get_json()
    assert (answer["status_code"], answer["status_message"]) == (2001, "last_updated: missing")
    stamped = connector | {"last_updated": "2026-01-01T00:00:00Z"}
    assert client.put(url, json=stamped, headers=cpo_headers).status_code == 201
    assert client.get(url, headers=cpo_headers).get_json()["data"]["id"] == "9"
    unknown = client.put(f"{base}/NOPE/9", json=stamped, headers=cpo_headers).get_json()
    assert unknown["status_code"] == 2003
