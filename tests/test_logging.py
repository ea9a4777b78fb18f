"""Logs carry a request id and never a secret or a card number."""

import json
import logging

from kiosk_app import log


def test_request_id_is_echoed_and_generated(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == (
        "abc-123"
    )
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 36


def test_every_line_of_a_request_carries_its_id(app, client, capfd):
    @app.get("/talk")
    def talk():
        logging.getLogger("kiosk_app.test").warning("hello from the view")
        return "ok"

    client.get("/talk", headers={"X-Request-ID": "req-42"})
    err = capfd.readouterr().err
    assert "WARNING [req-42] kiosk_app.test: hello from the view" in err


def test_secrets_and_card_numbers_are_masked():
    masker = log.ContextFilter(["s3cr3t-token"])
    text = masker.mask(
        "token s3cr3t-token card 4111 1111 1111 1111 and 5500000000000004 amount 5000"
    )
    assert text == "token ******** card PAN-REDACTED and PAN-REDACTED amount 5000"


def test_numbers_that_cannot_be_card_numbers_stay_readable():
    # References and request ids must survive: an operator follows them through the logs.
    kept = [
        "request 00000000-0000-0000-0000-000000000000",
        "reference 0000000000000000 and 00000000000000000000000000000000",
        "4111111111111112",  # fails the Luhn check: no card number
    ]
    for text in kept:
        assert log.mask_card_numbers(text) == text
    assert log.mask_card_numbers("pan 4111-1111-1111-1111!") == "pan PAN-REDACTED!"
    assert log.mask_card_numbers("pan 4111111111111111 50 EUR") == "pan PAN-REDACTED EUR"


def test_json_lines_are_valid_json():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "paid %s", ("4111111111111111",), None
    )
    log.ContextFilter([]).filter(record)
    entry = json.loads(log.JsonFormatter().format(record))
    assert entry["message"] == "paid PAN-REDACTED"
    assert entry["level"] == "INFO" and entry["request_id"] == "-"
