"""Property tests: round-trip of every declared message, robustness against arbitrary bytes."""

from __future__ import annotations

import contextlib

from crccheck.crc import CrcKermit
from hypothesis import given, settings
from hypothesis import strategies as st

from payment_terminal.protocol.bmp import (
    BMP_BY_NUMBER,
    RECEIPT_FFFF,
    TOTALS_GROUPS,
    BcdClock,
    BcdNumber,
    BcdText,
    Byte,
    Digits,
    FixedText,
    Hex,
    ReceiptNumber,
    Text,
    TlvField,
    Totals,
    Var,
)
from payment_terminal.protocol.commands import MESSAGES, Message, decode_message, encode_message
from payment_terminal.protocol.errors import ProtocolError
from payment_terminal.protocol.framing import Deframer, FrameReceived, crc16_kermit, frame, unframe
from payment_terminal.protocol.tlv import Tlv, decode_tlv, encode_tlv

# CP437 maps every byte, so decoding arbitrary bytes gives texts that re-encode exactly.
BYTE_06 = b"\x06".decode("cp437")
cp437_text = st.binary(max_size=40).map(lambda raw: raw.decode("cp437"))

PRIMITIVE_TAGS = [0x07, 0x08, 0x14, 0x41, 0x1F16, 0x1F17, 0x1F2B, 0xFF40]
CONSTRUCTED_TAGS = [0x23, 0x24, 0x25, 0x26, 0x60, 0xE4, 0xE9]

tlvs = st.recursive(
    st.lists(st.tuples(st.sampled_from(PRIMITIVE_TAGS), st.binary(max_size=300)), max_size=3).map(
        lambda items: Tlv(tuple(items))
    ),
    lambda inner: st.lists(
        st.one_of(
            st.tuples(st.sampled_from(PRIMITIVE_TAGS), st.binary(max_size=20)),
            st.tuples(st.sampled_from(CONSTRUCTED_TAGS), inner),
        ),
        max_size=3,
    ).map(lambda items: Tlv(tuple(items))),
    max_leaves=6,
)


def _digits(count: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=count, max_size=count)


def strategy_for(codec: object) -> st.SearchStrategy:
    """Values each field codec must round-trip."""
    if isinstance(codec, Byte):
        return st.integers(0, 255)
    if isinstance(codec, BcdNumber):
        return st.integers(0, 10 ** (2 * codec.size) - 1)
    if isinstance(codec, ReceiptNumber):
        return st.one_of(st.integers(0, 9999), st.just(RECEIPT_FFFF))
    if isinstance(codec, BcdText):
        return _digits(2 * codec.size)
    if isinstance(codec, BcdClock):
        pairs = st.lists(_digits(2), min_size=codec.size, max_size=codec.size)
        return pairs.map(lambda p: codec.century + codec.separator.join(p))
    if isinstance(codec, FixedText):
        alphabet = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
        if codec.pad == b" ":
            return st.text(alphabet, min_size=codec.size, max_size=codec.size)
        return st.text(alphabet, max_size=codec.size)
    if isinstance(codec, Hex):
        return st.binary(min_size=codec.size or 0, max_size=codec.size or 30).map(bytes.hex)
    if isinstance(codec, Text):
        if codec.nul:
            return cp437_text.filter(lambda t: not t.endswith("\0"))
        return cp437_text
    if isinstance(codec, Digits):
        return st.text("0123456789abcde", max_size=19)
    if isinstance(codec, Totals):
        group = st.fixed_dictionaries(
            {"count": st.integers(0, 99), "amount": st.integers(0, 10**12 - 1)}
        )
        return st.fixed_dictionaries(
            {
                "receipt_from": st.integers(0, 9999),
                "receipt_to": st.integers(0, 9999),
                "groups": st.fixed_dictionaries({name: group for name in TOTALS_GROUPS}),
            }
        )
    if isinstance(codec, Var):
        return strategy_for(codec.inner)
    if isinstance(codec, TlvField):
        return tlvs
    raise AssertionError(f"no strategy for {codec!r}")


@st.composite
def messages(draw: st.DrawFn, code: int) -> Message:
    spec = MESSAGES[code]
    fields: dict = {}
    for positional in spec.positional:
        value = draw(strategy_for(positional.codec))
        if code == 0x06D1 and positional.key == "text":
            # A text ending in `06 <len> <TLV>` reads as an appended TLV (tested on its own).
            value = value.replace(BYTE_06, "")
        fields[positional.key] = value
    if spec.bmps:
        chosen = draw(st.permutations(spec.typical_bmps))[: draw(st.integers(0, 4))]
        for number in chosen:
            bmp = BMP_BY_NUMBER[number]
            fields[bmp.key] = draw(strategy_for(bmp.codec))
    return Message(code, fields)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_declared_message_round_trips(data: st.DataObject) -> None:
    for code in MESSAGES:
        message = data.draw(messages(code), label=f"{code:04x}")
        raw = encode_message(message)
        decoded = decode_message(raw)
        assert decoded.code == code
        assert decoded.fields == message.fields
        assert encode_message(decoded) == raw


@given(st.text("0123456789", min_size=1).flatmap(lambda _: cp437_text), tlvs)
def test_print_line_with_appended_tlv_round_trips(text: str, tlv: Tlv) -> None:
    text = text.replace(BYTE_06, "")
    message = Message(0x06D1, {"attribute": 0x40, "text": text, "tlv": tlv})
    assert decode_message(encode_message(message)).fields == message.fields


@given(tlvs)
def test_tlv_round_trips(tlv: Tlv) -> None:
    assert decode_tlv(encode_tlv(tlv)) == tlv


@settings(max_examples=500)
@given(st.binary(max_size=300), st.sampled_from([None, 0x0501, 0x0622]))
def test_arbitrary_bytes_into_the_decoder_raise_only_protocol_errors(
    raw: bytes, after: int | None
) -> None:
    with contextlib.suppress(ProtocolError):
        decode_message(raw, after=after)


@settings(max_examples=300)
@given(st.binary(min_size=3, max_size=3), st.binary(max_size=300))
def test_arbitrary_data_under_a_valid_header_raise_only_protocol_errors(
    head: bytes, body: bytes
) -> None:
    raw = head[:2] + bytes([min(len(body), 0xFE)]) + body[:0xFE]
    with contextlib.suppress(ProtocolError):
        decode_message(raw)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_into_the_deframer_never_raise(raw: bytes) -> None:
    deframer = Deframer()
    deframer.feed(raw)
    with contextlib.suppress(ProtocolError):
        unframe(raw)


@given(st.binary(max_size=300), st.lists(st.integers(1, 20), max_size=10))
def test_deframer_reassembles_any_segmentation(apdu: bytes, cuts: list[int]) -> None:
    wire = frame(apdu)
    deframer, events, pos = Deframer(), [], 0
    for cut in [*cuts, len(wire)]:
        events += deframer.feed(wire[pos : pos + cut])
        pos += cut
    events += deframer.feed(wire[pos:])
    assert events == [FrameReceived(apdu, True)]


@given(st.binary(max_size=500))
def test_crc_agrees_with_crccheck(data: bytes) -> None:
    assert crc16_kermit(data) == CrcKermit.calc(data)


def test_crc_check_values() -> None:
    assert crc16_kermit(b"123456789") == 0x2189
    assert crc16_kermit(bytes.fromhex("060006123456ba097803")) == 0xC324
