"""Fuzzing the receiver: whatever a peer sends, no 500; invalid JSON → HTTP 400; valid JSON
with bad content → HTTP 200 + OCPI 2001 whose message starts with the offending field."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SESSION = {
    "country_code": "BE",
    "party_id": "BEC",
    "id": "S1",
    "start_date_time": "2026-01-01T10:00:00Z",
    "kwh": 0,
    "cdr_token": {
        "country_code": "DE",
        "party_id": "KSK",
        "uid": "T1",
        "type": "AD_HOC_USER",
        "contract_id": "C1",
    },
    "auth_method": "COMMAND",
    "location_id": "L1",
    "evse_uid": "E1",
    "connector_id": "1",
    "currency": "EUR",
    "status": "ACTIVE",
    "last_updated": "2026-01-01T10:00:00Z",
}
URL = "/ocpi/emsp/2.2.1/sessions/BE/BEC/S1"
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def check_answer(response, sent: dict | None = None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code != 500
    body = response.get_json()
    assert isinstance(body, dict) and "status_code" in body and "timestamp" in body
    if response.status_code == 200 and body["status_code"] == 2001:
        field = body["status_message"].split(":")[0].split(".")[0].split("[")[0]
        if sent is not None:
            assert field in sent or field == "", body["status_message"]


@FUZZ
@given(raw=st.binary(max_size=200))
def test_bytes_are_400_or_answered(client, cpo_headers, raw):  # type: ignore[no-untyped-def]
    response = client.put(URL, data=raw, headers=cpo_headers | {"Content-Type": "application/json"})
    check_answer(response)
    try:
        json.loads(raw)
    except ValueError:
        assert response.status_code == 400
    else:
        assert response.status_code == 200


@FUZZ
@given(field=st.sampled_from(sorted(SESSION)), value=json_values, drop=st.booleans())
def test_mutated_session_put(client, cpo_headers, field, value, drop):  # type: ignore[no-untyped-def]
    body = copy.deepcopy(SESSION)
    if drop:
        del body[field]
    else:
        body[field] = value
    response = client.put(URL, json=body, headers=cpo_headers)
    check_answer(response, body | {field: None})
    assert response.status_code in (200, 201)
    if response.get_json()["status_code"] == 2001:
        assert response.get_json()["status_message"].startswith(field)


@FUZZ
@given(
    patch=st.dictionaries(
        st.sampled_from([*sorted(SESSION), "x", "charging_periods"]), json_values, max_size=4
    )
)
def test_random_session_patch(client, cpo_headers, patch):  # type: ignore[no-untyped-def]
    client.put(URL, json=SESSION, headers=cpo_headers)
    response = client.patch(URL, json=patch, headers=cpo_headers)
    check_answer(response, patch | {"last_updated": None})
    assert response.status_code == 200


@FUZZ
@given(
    path=st.sampled_from(
        [
            "/ocpi/emsp/2.2.1/locations/BE/BEC/L1",
            "/ocpi/emsp/2.2.1/locations/BE/BEC/L1/E1",
            "/ocpi/emsp/2.2.1/locations/BE/BEC/L1/E1/1",
            "/ocpi/emsp/2.2.1/tariffs/BE/BEC/T1",
            "/ocpi/emsp/2.2.1/cdrs",
            "/ocpi/emsp/2.2.1/commands/START_SESSION/unknown",
            "/ocpi/ptp/2.3.0/payments/terminals/kiosk-1",
            "/ocpi/2.2.1/credentials",
        ]
    ),
    method=st.sampled_from(["PUT", "PATCH", "POST"]),
    value=json_values,
)
def test_any_json_anywhere(client, cpo_headers, path, method, value):  # type: ignore[no-untyped-def]
    response = client.open(path, method=method, json=value, headers=cpo_headers)
    check_answer(response)
    if value is None:  # no body at all
        assert response.status_code in (400, 404, 405)
    else:
        assert response.status_code in (200, 201, 404, 405)


# Official examples as seeds; URL ids are filled from the unmutated example.
SEEDS = {
    "location_example.json": ("PUT", "/ocpi/emsp/2.2.1/locations/{country_code}/{party_id}/{id}"),
    "cdr_example.json": ("POST", "/ocpi/emsp/2.2.1/cdrs"),
    "tariff_4_complex.json": ("PUT", "/ocpi/emsp/2.2.1/tariffs/{country_code}/{party_id}/{id}"),
    "session_example_2_short_finished.json": (
        "PUT",
        "/ocpi/emsp/2.2.1/sessions/{country_code}/{party_id}/{id}",
    ),
}


def _mutate(data, draw):  # type: ignore[no-untyped-def]
    """A deep copy of `data` with one nested value replaced or removed; returns (doc, path)."""
    doc = copy.deepcopy(data)
    node, path = doc, []
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return doc, path
        key = draw(st.sampled_from(keys))
        path.append(key)
        child = node[key]
        if isinstance(child, dict | list) and child and draw(st.booleans()):
            node = child
            continue
        if isinstance(node, dict) and draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(json_values)
        return doc, path


@FUZZ
@given(data=st.data(), seed=st.sampled_from(sorted(SEEDS)))
def test_mutated_official_examples(client, cpo_headers, examples, data, seed):  # type: ignore[no-untyped-def]
    original = json.loads((examples / "2.2.1-bugfixes" / seed).read_text())
    doc, path = _mutate(original, data.draw)
    method, template = SEEDS[seed]
    url = template.format(**original)
    response = client.open(url, method=method, json=doc, headers=cpo_headers)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["status_code"] in (1000, 2001, 2003), answer
    if answer["status_code"] == 2001 and path:
        # The error names the mutated field, or a field on the way to it.
        named = answer["status_message"].split(":")[0]
        top = path[0]
        assert (
            named.startswith(str(top)) or named == "" or top in ("country_code", "party_id", "id")
        ), (
            answer["status_message"],
            path,
        )
