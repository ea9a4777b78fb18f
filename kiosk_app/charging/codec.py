"""Engine values (states, events, effects) to JSON-able dicts and back, driven by type hints.

Decimals and datetimes become strings, enums their values, nested dataclasses dicts, tuples
lists. Used for the transaction snapshot, the event log and the effect intents.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

D = TypeVar("D")


def dump(value: Any) -> Any:
    """A dataclass (or anything inside one) as plain JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list | frozenset):
        return [dump(v) for v in value]
    return value


def load(cls: type[D], data: dict[str, Any]) -> D:
    """Rebuild a dataclass written by `dump`."""
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: _load(hints[k], v) for k, v in data.items() if k in names})


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _load(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _load(inner[0], value)
    if origin is tuple:
        item = typing.get_args(tp)[0]
        return tuple(_load(item, v) for v in value)
    if dataclasses.is_dataclass(tp):
        return load(tp, value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if tp is Decimal:
        return Decimal(value)
    if tp is datetime:
        return datetime.fromisoformat(value)
    return value
