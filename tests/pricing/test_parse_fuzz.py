"""The parsers refuse any malformed input with their own one-line error, never another
exception (the OCPI receiver turns it into an OCPI 2001 answer, never a 500)."""

from __future__ import annotations

import copy
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk_app.ocpi.pricing import PricingInputError, parse_cdr, parse_tariff, price_cdr

from .builders import EXAMPLES, TARIFF_CASES, load

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=False, places=4, min_value=-1000, max_value=1000)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

TARIFF = load(TARIFF_CASES / "tandemdrive-ocpi-tariffs" / "complex" / "tariff.json")
CDR = load(EXAMPLES / "2.2.1-bugfixes" / "cdr_example.json")


def paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def replaced(document: object, path: tuple, value: object) -> object:
    if not path:
        return value
    copied = copy.deepcopy(document)
    target = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copied


def price_embedded(document: object) -> None:
    """Parse a CDR and price it with its own tariffs."""
    price_cdr((), parse_cdr(document), "Europe/Brussels")


def accepts_or_refuses(parse, document: object) -> None:
    try:
        parse(document)
    except PricingInputError as error:
        message = str(error)
        assert message and "\n" not in message


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(paths(TARIFF)), json_values)
def test_mutated_tariff(path: tuple, value: object) -> None:
    accepts_or_refuses(parse_tariff, replaced(TARIFF, path, value))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(paths(CDR)), json_values)
def test_mutated_cdr(path: tuple, value: object) -> None:
    accepts_or_refuses(price_embedded, replaced(CDR, path, value))


@settings(max_examples=60, deadline=None)
@given(json_values)
def test_arbitrary_json(value: object) -> None:
    accepts_or_refuses(parse_tariff, value)
    accepts_or_refuses(parse_cdr, value)


def test_decimal_infinity_is_refused() -> None:
    document = replaced(TARIFF, ("elements", 0, "price_components", 0, "price"), Decimal("Inf"))
    accepts_or_refuses(parse_tariff, document)
