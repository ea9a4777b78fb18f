"""Every reference vector decodes to its stated meaning; the flagged ones are rejected."""

from __future__ import annotations

import re

import pytest

from payment_terminal.protocol.bmp import BMP_BY_KEY
from payment_terminal.protocol.commands import decode_message, encode_message
from payment_terminal.protocol.errors import ProtocolError
from payment_terminal.protocol.framing import Deframer, FrameReceived, frame, unframe
from payment_terminal.protocol.tlv import encode_tlv

FLAGGED = {50, 51, 63}
_PAIR = re.compile(r'(?<![\w])([A-Za-z_][\w/]*)=("(?:[^"\\]|\\.)*"|[^\s;,]*)')


def _unquote(value: str) -> str:
    if not value.startswith('"'):
        return value
    escapes = {"\\0": "\0", "\\r": "\r", "\\n": "\n"}
    body = value[1:-1]
    for escaped, char in escapes.items():
        body = body.replace(escaped, char)
    return body


def _strip_tlv(text: str) -> tuple[str, list[int]]:
    """Remove `TLV[n]{...}` bodies (checked by length), returning the rest and the lengths."""
    lengths, out, i = [], [], 0
    while (at := text.find("TLV[", i)) >= 0:
        out.append(text[i:at])
        close = text.index("]", at)
        lengths.append(int(text[at + 4 : close]))
        depth, j = 0, close + 1
        while True:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        i = j
    out.append(text[i:])
    return "".join(out), lengths


def _int(value: str) -> int:
    return int(value, 16) if value.lower().startswith("0x") else int(value, 10)


# meaning key -> (our field key, expected value from the meaning's text)
EXPECT = {
    "amount": ("amount", int),
    "currency": ("currency_code", int),
    "CC": ("currency_code", int),
    "receipt_no": ("receipt_no", lambda v: 0xFFFF if v == "ffff" else int(v)),
    "trace": ("trace_no", int),
    "orig_trace": ("original_trace_no", int),
    "turnover_no": ("turnover_no", int),
    "TID": ("terminal_id", str),
    "result_code": ("result_code", _int),
    "password": ("password", str),
    "config_byte": ("config_byte", _int),
    "service_byte": ("service_byte", _int),
    "payment_type/status_byte": ("payment_type", _int),
    "intermediate_status": ("status", _int),
    "timeout": ("timeout", _int),
    "max_status_infos": ("max_status_infos", _int),
    "time": ("time", lambda v: f"{v[:2]}:{v[2:4]}:{v[4:]}"),
    "date_MMDD": ("date", lambda v: f"{v[:2]}-{v[2:]}"),
    "expiry_YYMM": ("expiry", str),
    "card_seq_no": ("card_seq_no", int),
    "PAN": ("pan", lambda v: v.rstrip("f")),
    "track2": ("track2", lambda v: v.rstrip("f")),
    "card_type": ("card_type", _int),
    "card_type_id_netop": ("card_type_id", _int),
    "card_name": ("card_name", lambda v: _unquote(v).rstrip("\0")),
    "VU_number": ("vu_number", _unquote),
    "AID_auth_attr": ("aid", lambda v: bytes.fromhex(v).rstrip(b"\0").decode()),
    "additional_text": ("additional_text", _unquote),
    "sw_version": ("sw_version", _unquote),
    "terminal_status": ("terminal_status", _int),
    "attribute": ("attribute", _int),
    "text": ("text", _unquote),
    "bmpF1": ("line1", lambda v: bytes.fromhex(v).decode()),
    "bmpF2": ("line2", lambda v: bytes.fromhex(v).decode()),
    "data": ("data", str),
    "dialog_control": ("dialog_control", _int),
}


def _apdu(vector: dict) -> bytes:
    raw = bytes.fromhex(vector["hex"])
    return unframe(raw).apdu if vector["transport"] == "serial" else raw


def _stated(meaning: str) -> str:
    return meaning.split("|| decoded:", 1)[1] if "|| decoded:" in meaning else meaning


@pytest.mark.parametrize("index", [i for i in range(75) if i not in FLAGGED])
def test_vector_decodes_to_its_meaning(vectors: list[dict], index: int) -> None:
    vector = vectors[index]
    raw = _apdu(vector)
    message = decode_message(raw)
    stated, tlv_lengths = _strip_tlv(_stated(vector["meaning"]))
    code = re.search(r"\(([0-9A-F]{2} [0-9A-F]{2})\)", stated)
    if code:
        assert message.code_hex == code.group(1)
    checked = 0
    for key, value in _PAIR.findall(stated):
        if key == "rest":
            assert message.rest.hex() == value
            checked += 1
            continue
        if key not in EXPECT:
            continue
        ours, convert = EXPECT[key]
        expected = convert(value)
        if ours == "text" and "tlv" in message.fields:
            # Documented tolerance: a TLV appended to a print line is split off the text.
            assert expected.startswith(message.fields["text"])
        else:
            assert message.fields[ours] == expected, key
        checked += 1
    for length in tlv_lengths:
        assert len(encode_tlv(message.fields["tlv"])) == length
    if "totals" in message.fields:
        wire = BMP_BY_KEY["totals"].codec.encode(message.fields["totals"], 0xFF)[3:]
        assert wire.hex() == re.search(r"single_amounts=(\w+)", stated).group(1)
    assert checked or tlv_lengths or message.fields == {}
    # The encoder reproduces the vector byte for byte.
    assert encode_message(message) == raw


@pytest.mark.parametrize("index", [i for i in range(75) if i not in FLAGGED])
def test_serial_vectors_frame_identically(vectors: list[dict], index: int) -> None:
    vector = vectors[index]
    if vector["transport"] != "serial":
        return
    received = unframe(bytes.fromhex(vector["hex"]))
    assert received.crc_ok is vector["checks"]["crc_ok"]
    assert received.apdu.hex() == vector["checks"]["apdu_hex"]
    assert frame(received.apdu).hex() == vector["hex"]
    # The streaming de-framer agrees, byte by byte (CRC bytes 10 or 03 included).
    deframer = Deframer()
    events = [
        event for byte in bytes.fromhex(vector["hex"]) for event in deframer.feed(bytes([byte]))
    ]
    assert events == [FrameReceived(received.apdu, True)]


@pytest.mark.parametrize(
    ("index", "declared", "present"), [(50, 14, 13), (51, 17, 16), (63, 68, 37)]
)
def test_flagged_vectors_are_rejected(
    vectors: list[dict], index: int, declared: int, present: int
) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_message(_apdu(vectors[index]))
    assert caught.value.offset == 2
    assert str(caught.value) == (
        f"at offset 2: expected a length field matching the data ({present} bytes), "
        f"found length {declared}"
    )


def test_over_long_tlv_is_rejected_even_with_a_consistent_apdu_length(vectors: list[dict]) -> None:
    # Vector 50 with its APDU length byte corrected: the BMP 06 length 0x11 still overruns.
    data = bytes.fromhex(vectors[50]["hex"])[3:]
    with pytest.raises(ProtocolError) as caught:
        decode_message(bytes([0x06, 0x1E, len(data)]) + data)
    assert (
        str(caught.value) == "at offset 5: expected a TLV container length of at most 10, found 17"
    )


def test_inner_tlv_overrun_names_the_tag_offset() -> None:
    # 06 1E B8, BMP 06 of 6 bytes holding tag 23 that claims 9 bytes but has 4.
    raw = bytes.fromhex("061e09b80606230908020123")
    with pytest.raises(ProtocolError) as caught:
        decode_message(raw)
    assert caught.value.offset == 6
    assert "9 value bytes for TLV tag 23" in str(caught.value)
