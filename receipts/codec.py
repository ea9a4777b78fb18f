"""Receipts to plain JSON data and back, and the canonical byte form the journal hashes.

Decimals travel as strings (their exact representation), datetimes as ISO 8601 with offset,
enums as their values. Decoding is driven by the dataclass type hints, so the stored record and
the model cannot drift apart silently: an unknown or missing field is an error.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from receipts.model import Receipt


class DecodeError(ValueError):
    """Stored receipt data that does not fit the model; the message names the field."""


def to_data(obj: Any) -> Any:
    """A dataclass tree as JSON-compatible data."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_data(item) for item in obj]
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj


def canonical_json(receipt: Receipt) -> str:
    """The canonical JSON text of a receipt: sorted keys, no whitespace, UTF-8 characters."""
    return json.dumps(to_data(receipt), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def receipt_from_json(text: str) -> Receipt:
    """Decode a receipt stored by `canonical_json`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"receipt content is not JSON: {exc}") from None
    return from_data(Receipt, data, "receipt")


def from_data(tp: Any, data: Any, where: str) -> Any:
    """Decode `data` as type `tp`; `where` names the field in error messages."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise DecodeError(f"{where}: expected an object")
        hints = typing.get_type_hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = set(data) - names
        if unknown:
            raise DecodeError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        values = {k: from_data(hints[k], v, f"{where}.{k}") for k, v in data.items()}
        try:
            return tp(**values)
        except TypeError as exc:
            raise DecodeError(f"{where}: {exc}") from None
    if origin in (types.UnionType, typing.Union):
        if data is None:
            return None
        (inner,) = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        return from_data(inner, data, where)
    if origin is tuple:
        if not isinstance(data, list):
            raise DecodeError(f"{where}: expected a list")
        item_type = typing.get_args(tp)[0]
        return tuple(from_data(item_type, v, f"{where}[{i}]") for i, v in enumerate(data))
    try:
        if isinstance(tp, type) and issubclass(tp, Enum):
            return tp(data)
        if tp is Decimal and isinstance(data, str):
            return Decimal(data)
        if tp is datetime and isinstance(data, str):
            return datetime.fromisoformat(data)
    except ValueError as exc:
        raise DecodeError(f"{where}: {exc}") from None
    if tp in (str, int) and type(data) is tp:
        return data
    raise DecodeError(f"{where}: expected {getattr(tp, '__name__', tp)}, got {data!r}")
