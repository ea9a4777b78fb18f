"""Sans-IO pieces: tokens, pagination links, version negotiation, envelopes, objects."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk_app.ocpi import envelope, objects, transport, versions
from kiosk_app.ocpi.envelope import ObjectError, OcpiError


def test_authorization_header_by_version_and_encoding() -> None:
    assert transport.authorization_header("example-token", "2.2.1", "auto") == (
        "Token ZXhhbXBsZS10b2tlbg=="  # the spec's own example has a stray newline (§12)
    )
    assert transport.authorization_header("example-token", "2.1.1", "auto") == "Token example-token"
    assert transport.authorization_header("example-token", "2.2.1", "raw") == "Token example-token"


@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=64)
)
def test_any_token_round_trips_both_ways(token: str) -> None:
    for version in ("2.1.1", "2.2.1"):
        header = transport.authorization_header(token, version, "auto")
        assert token in [c.token for c in transport.token_candidates(header)]


def test_token_candidates_reject_other_schemes() -> None:
    assert transport.token_candidates("Bearer abc") == []
    assert transport.token_candidates(None) == []


def test_next_link_and_page_headers() -> None:
    assert transport.next_link('<https://x/l?offset=2&limit=2>; rel="next"') == (
        "https://x/l?offset=2&limit=2"
    )
    assert transport.next_link(None) is None
    headers = transport.Page(0, 2, 3).headers("https://x/l?date_from=2026-01-01T00:00:00Z", 50)
    assert headers["X-Total-Count"] == "3" and headers["X-Limit"] == "50"
    assert "offset=2" in headers["Link"] and "date_from=" in headers["Link"]
    assert "Link" not in transport.Page(2, 2, 3).headers("https://x/l", 50)


def test_negotiation_picks_highest_common() -> None:
    assert versions.negotiate(["2.1.1", "2.2.1"]) == "2.2.1"
    assert versions.negotiate(["2.2", "2.3.0", "2.1.1"]) == "2.3.0"
    with pytest.raises(OcpiError) as err:
        versions.negotiate(["2.0"])
    assert err.value.status == 3002


def test_missing_commands_endpoint_is_derived_else_3003() -> None:
    details = {
        "endpoints": [
            {"identifier": "locations", "role": "SENDER", "url": "http://c/cpo/2.2.1/locations/"}
        ]
    }
    assert versions.peer_endpoints(details)["commands"] == "http://c/cpo/2.2.1/commands/"
    with pytest.raises(OcpiError) as err:
        versions.peer_endpoints({"endpoints": [{"identifier": "locations", "url": "http://c/x"}]})
    assert err.value.status == 3003


def test_envelope_parse_and_build() -> None:
    built = envelope.build({"a": 1})
    assert built["status_code"] == 1000 and built["timestamp"].endswith("Z")
    assert "data" not in envelope.build(None, 2001, "x: missing")
    with pytest.raises(OcpiError):
        envelope.parse(b"<html>")
    assert not envelope.parse({"status_code": 2001, "timestamp": "x"}).ok


def test_command_response_as_object_or_one_element_list() -> None:
    single = objects.parse_command_response({"result": "ACCEPTED", "timeout": 30})
    listed = objects.parse_command_response([{"result": "accepted", "timeout": 30, "message": []}])
    assert single == listed == objects.CommandResponse("ACCEPTED", 30, None)
    assert objects.parse_command_response({"result": "REJECTED"}).timeout_s is None  # 2.1.1


def test_datetime_is_utc_and_errors_name_the_field() -> None:
    table = {"at": objects.F(objects.DateTime, True)}
    assert objects.check(table, {"at": "2026-01-01T12:00:00+02:00"})["at"] == datetime(
        2026, 1, 1, 10, tzinfo=UTC
    )
    assert objects.check(table, {"at": "2026-01-01T12:00:00"})["at"].tzinfo is UTC
    with pytest.raises(ObjectError, match=r"^at: expected an RFC 3339"):
        objects.check(table, {"at": "yesterday"})


def test_prices_per_version() -> None:
    assert objects.price_parser("2.2.1")({"excl_vat": 1, "incl_vat": 1.19}, "p") == (
        objects.Price(Decimal(1), Decimal("1.19"))
    )
    assert objects.price_parser("2.3.0")(
        {"before_taxes": 10, "taxes": [{"name": "VAT", "amount": 1.9}]}, "p"
    ) == objects.Price(Decimal(10), Decimal("11.9"))
    assert objects.price_parser("2.1.1")(4.5, "p") == objects.Price(Decimal("4.5"), None)
    price = objects.Price(Decimal("10"), Decimal("11.90"))
    for version in ("2.2.1", "2.3.0"):
        assert objects.price_parser(version)(price.to_json(version), "p") == price


def test_credit_cdr_needs_its_reference(examples) -> None:  # type: ignore[no-untyped-def]
    import json

    cdr = json.loads((examples / "2.2.1-bugfixes" / "cdr_example.json").read_text())
    with pytest.raises(ObjectError, match=r"^credit_reference_id"):
        objects.parse_cdr(cdr | {"credit": True})
    assert objects.parse_cdr(cdr | {"credit": True, "credit_reference_id": "1"}).credit


def test_211_session_fields_are_read_under_their_22_names() -> None:
    session = objects.parse_session(
        {
            "id": "S",
            "start_datetime": "2017-01-01T00:00:00Z",
            "kwh": 1,
            "auth_id": "TOKEN-UID",
            "auth_method": "WHITELIST",
            "location": {
                "id": "L",
                "address": "a",
                "city": "c",
                "country": "NLD",
                "coordinates": {"latitude": "1", "longitude": "2"},
                "last_updated": "2017-01-01T00:00:00Z",
            },
            "currency": "EUR",
            "total_cost": 2.5,
            "status": "ACTIVE",
            "last_updated": "2017-01-01T00:00:00Z",
        },
        "2.1.1",
    )
    assert session.token_uid == "TOKEN-UID" and session.total_cost.excl_vat == Decimal("2.5")
