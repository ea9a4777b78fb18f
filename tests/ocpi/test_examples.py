"""Every official OCPI example (2.2.1-bugfixes, 2.3.0-release-payments) goes through the
receiver or the parser that owns its object: the valid ones are accepted, the known-defective
ones (SOURCES.md) get the documented error naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk_app.ocpi import envelope, objects, schema, versions
from kiosk_app.ocpi.envelope import ObjectError

FOLDERS = {"2.2.1": "2.2.1-bugfixes", "2.3.0": "2.3.0-release-payments"}
ROLE = {"2.2.1": "emsp", "2.3.0": "ptp"}

# Known defects and the error we answer with (SOURCES.md, "Known defects").
DEFECTS = {
    ("2.2.1", "tariff_put_example.json"): "last_updated: missing",
    ("2.3.0", "tariff_put_example.json"): "last_updated: missing",
    ("2.3.0", "cdr_example.json"): "tariffs[0].tax_included: missing",
    ("2.3.0", "payment_financial_advice_confirmation_create.json"): (
        "total_costs.before_taxes: missing"
    ),
    ("2.3.0", "payment_financial_advice_confirmation_example_success.json"): (
        "total_costs.before_taxes: missing"
    ),
    ("2.3.0", "payment_financial_advice_confirmation_example_failure.json"): (
        "total_costs.before_taxes: missing"
    ),
    ("2.3.0", "payment_terminal_create_minimal.json"): "last_updated: missing",
}
# Fragments of a Location (no object of their own): checked as part of no request.
FRAGMENTS = ("location_energymix_", "location_hours_", "location_regularhours_")


BASE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "ocpi-examples"
ALL = [(v, p.name) for v, folder in FOLDERS.items() for p in sorted((BASE / folder).glob("*.json"))]
OBJECTS = [case for case in ALL if not case[1].startswith(FRAGMENTS)]


def test_the_examples_are_all_there() -> None:
    assert len(ALL) == 131  # SOURCES.md: 59 + 72
    assert len(ALL) - len(OBJECTS) == 14  # Location fragments (hours, energy mix), not objects


@pytest.mark.parametrize("version", sorted(FOLDERS))
def test_every_example(version, examples, client, cpo_headers, subtests):  # type: ignore[no-untyped-def]
    # One database for all examples of a version (a fresh one per example costs seconds on
    # PostgreSQL); every example still reports on its own.
    for case in [c for c in OBJECTS if c[0] == version]:
        with subtests.test(example=case[1]):
            check_example(case, examples, client, cpo_headers)


def load(examples: Path, version: str, name: str):  # type: ignore[no-untyped-def]
    return json.loads((examples / FOLDERS[version] / name).read_text())


def put(client, headers, url, body):  # type: ignore[no-untyped-def]
    return client.put(url, json=body, headers=headers)


def check_example(example, examples, client, cpo_headers):  # type: ignore[no-untyped-def]
    version, name = example
    body = load(examples, version, name)
    base = f"/ocpi/{ROLE[version]}/{version}"
    expected_error = DEFECTS.get(example)
    answers = []  # (http, envelope) of receiver calls; a parser result otherwise

    def send(method: str, url: str, data: object) -> None:
        response = client.open(url, method=method, json=data, headers=cpo_headers)
        answers.append((response.status_code, response.get_json()))

    def location_first() -> dict:
        loc = load(examples, version, "location_example.json")
        send("PUT", f"{base}/locations/BE/BEC/{loc['id']}", loc)
        return loc

    if name.startswith(("location_example", "location_put", "location_patch")):
        loc = location_first()
        if name.startswith("location_example"):
            send(
                "PUT",
                f"{base}/locations/{body['country_code']}/{body['party_id']}/{body['id']}",
                body,
            )
        elif name == "location_put_example_add_evse.json":
            send("PUT", f"{base}/locations/BE/BEC/{loc['id']}/{body['uid']}", body)
        elif name in (
            "location_patch_example_status.json",
            "location_patch_example_remove_evse.json",
        ):
            send("PATCH", f"{base}/locations/BE/BEC/{loc['id']}/{loc['evses'][0]['uid']}", body)
        elif name == "location_patch_example_tariff.json":
            evse = loc["evses"][0]
            send(
                "PATCH",
                f"{base}/locations/BE/BEC/{loc['id']}/{evse['uid']}/{evse['connectors'][0]['id']}",
                body,
            )
        else:
            send("PATCH", f"{base}/locations/BE/BEC/{loc['id']}", body)
    elif name.startswith("session_"):
        if "patch" in name:
            first = load(examples, version, "session_example_1_simple_start.json")
            url = f"{base}/sessions/{first['country_code']}/{first['party_id']}/{first['id']}"
            send("PUT", url, first)
            send("PATCH", url, body)
        else:
            send(
                "PUT",
                f"{base}/sessions/{body['country_code']}/{body['party_id']}/{body['id']}",
                body,
            )
    elif name.startswith(("tariff", "tariffrestriction")):
        cc, pid, tid = (
            body.get("country_code", "BE"),
            body.get("party_id", "BEC"),
            body.get("id", "x"),
        )
        send("PUT", f"{base}/tariffs/{cc}/{pid}/{tid}", body)
    elif name.startswith("cdr_"):
        send("POST", f"{base}/cdrs", body)
    elif name.startswith("credentials_"):
        assert objects.parse_credentials(body, version).roles
    elif name.startswith("token_"):
        objects.parse_token(body, partial=name == "token_patch_example.json")
    elif name.startswith("transport_and_format_"):
        env = envelope.parse(body)
        assert env.ok
        if "version_info" in name:
            assert versions.parse_versions(env.data)
        elif "version_details" in name:
            assert versions.peer_endpoints(env.data)["locations"]
        else:
            for token in env.data if isinstance(env.data, list) else [env.data]:
                objects.parse_token(token)
    elif name.startswith("versions_info"):
        assert versions.parse_versions(body)
    elif name.startswith("version_details"):
        assert versions.peer_endpoints(body)["locations"]
    elif name.startswith("type_displaytext"):
        schema.check(objects.DISPLAY_TEXT, body)
    elif name.startswith("payment_financial_advice"):
        if expected_error:
            with pytest.raises(ObjectError) as err:
                objects.parse_financial_advice(body)
            assert err.value.message.startswith(expected_error)
            return
        objects.parse_financial_advice(body)
    elif name.startswith("payment_terminal"):
        if name in (
            "payment_terminal_location_assignment.json",
            "payment_terminal_put_update.json",
        ):
            send(
                "PATCH" if "assignment" in name else "PUT",
                f"{base}/payments/terminals/kiosk-1",
                body,
            )
        elif expected_error:
            with pytest.raises(ObjectError) as err:
                objects.parse_terminal(body)
            assert err.value.message.startswith(expected_error)
            objects.check_terminal_changes(body)  # fine as the body of a create POST
            return
        else:
            objects.parse_terminal(body)
    else:
        pytest.fail(f"no handler for example {name}")

    for http, answer in answers[:-1]:
        assert (http, answer["status_code"]) in ((200, 1000), (201, 1000)), answer
    if answers:
        http, answer = answers[-1]
        if expected_error:
            assert (http, answer["status_code"]) == (200, 2001)
            assert answer["status_message"].startswith(expected_error)
        else:
            assert http in (200, 201) and answer["status_code"] == 1000, answer
