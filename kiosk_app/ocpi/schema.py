"""A small declarative validator for OCPI objects: each object is a table of fields, each field
a type. `check(table, data)` returns the cleaned known fields (DateTime → aware UTC datetime,
number → Decimal); unknown fields are accepted and left out. Errors name the field path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kiosk_app.ocpi.envelope import ObjectError


class FieldType:
    """Converts one JSON value; raises ObjectError naming `path`."""

    name = "value"

    def __call__(self, value: Any, path: str) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Str(FieldType):
    max_length: int | None = None
    ascii_only: bool = False  # CiString: printable ASCII, compared case-insensitively

    def __call__(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise ObjectError(path, f"expected a string, got {_kind(value)}")
        if self.max_length is not None and len(value) > self.max_length:
            raise ObjectError(path, f"longer than {self.max_length} characters")
        if self.ascii_only and not (value.isascii() and value.isprintable()):
            raise ObjectError(path, "expected printable ASCII")
        return value


def CiStr(max_length: int) -> Str:
    return Str(max_length, ascii_only=True)


@dataclass(frozen=True)
class Enum(FieldType):
    values: frozenset[str]

    def __call__(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or value.upper() not in self.values:
            raise ObjectError(path, f"expected one of {', '.join(sorted(self.values))}")
        return value.upper()


def enum(*values: str) -> Enum:
    return Enum(frozenset(values))


class DateTimeType(FieldType):
    """RFC 3339; a value without offset is read as UTC (OCPI DateTimes are UTC)."""

    def __call__(self, value: Any, path: str) -> datetime:
        if not isinstance(value, str) or not 10 <= len(value) <= 40:
            raise ObjectError(path, "expected an RFC 3339 date-time")
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ObjectError(path, f"expected an RFC 3339 date-time, got {value!r}") from None
        if "T" not in text.upper():
            raise ObjectError(path, f"expected an RFC 3339 date-time, got {value!r}")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class NumberType(FieldType):
    """A JSON number as Decimal (never float), finite."""

    def __call__(self, value: Any, path: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise ObjectError(path, f"expected a number, got {_kind(value)}")
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            raise ObjectError(path, f"expected a number, got {value!r}") from None
        if isinstance(value, str) or not number.is_finite():
            raise ObjectError(path, f"expected a number, got {value!r}")
        return number


class IntType(FieldType):
    def __call__(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ObjectError(path, f"expected an integer, got {_kind(value)}")
        return value


class BoolType(FieldType):
    def __call__(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise ObjectError(path, f"expected true or false, got {_kind(value)}")
        return value


@dataclass(frozen=True)
class ListOf(FieldType):
    item: FieldType | Callable[[Any, str], Any]
    min_items: int = 0

    def __call__(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise ObjectError(path, f"expected a list, got {_kind(value)}")
        if len(value) < self.min_items:
            raise ObjectError(path, f"expected at least {self.min_items} item(s)")
        return [self.item(v, f"{path}[{i}]") for i, v in enumerate(value)]


@dataclass(frozen=True)
class Obj(FieldType):
    table: Table

    def __call__(self, value: Any, path: str) -> dict[str, Any]:
        return check(self.table, value, path)


DateTime = DateTimeType()
Number = NumberType()
Int = IntType()
Bool = BoolType()


@dataclass(frozen=True)
class F:
    """One field: its type and whether it is required."""

    type: FieldType | Callable[[Any, str], Any]
    required: bool = False


Table = Mapping[str, F]


def check(table: Table, data: Any, path: str = "", partial: bool = False) -> dict[str, Any]:
    """Validate `data` against `table`; with `partial` (a PATCH) required fields may be absent.

    `null` counts as absent for optional fields (peers send it for "no value").
    """
    if not isinstance(data, dict):
        raise ObjectError(path, f"expected an object, got {_kind(data)}")
    out: dict[str, Any] = {}
    for name, spec in table.items():
        where = f"{path}.{name}" if path else name
        value = data.get(name)
        if value is None:
            if spec.required and not partial:
                raise ObjectError(where, "missing")
            continue
        out[name] = spec.type(value, where)
    return out


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )
