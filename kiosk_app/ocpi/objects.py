"""OCPI objects the kiosk reads and writes, validated from plain dicts.

Each parser checks the fields we rely on (types, required, lengths) and returns a typed value
carrying the cleaned fields; unknown fields are accepted. Errors are `ObjectError` naming the
field path (OCPI 2001). Ids are CiStrings: compare them with `ci()`. OCPI 2.1.1 Sessions and
CDRs are read through the same tables after renaming their fields to the 2.2 names.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from kiosk_app.ocpi.envelope import ObjectError
from kiosk_app.ocpi.pricing import TariffError, parse_tariff
from kiosk_app.ocpi.schema import (
    Bool,
    CiStr,
    DateTime,
    F,
    Int,
    ListOf,
    Number,
    Obj,
    Str,
    check,
    enum,
)

EVSE_STATUSES = enum(
    "AVAILABLE", "BLOCKED", "CHARGING", "INOPERATIVE", "OUTOFORDER",
    "PLANNED", "REMOVED", "RESERVED", "UNKNOWN",
)  # fmt: skip
SESSION_STATUSES = enum("PENDING", "ACTIVE", "COMPLETED", "INVALID", "RESERVATION")
TOKEN_TYPES = enum("AD_HOC_USER", "APP_USER", "EMAID", "OTHER", "RFID")
COMMAND_RESPONSE_RESULTS = enum("NOT_SUPPORTED", "REJECTED", "ACCEPTED", "UNKNOWN_SESSION")
# 2.2+ CommandResult values, plus TIMEOUT/UNKNOWN_SESSION that 2.1.1 callbacks carry.
COMMAND_RESULTS = enum(
    "ACCEPTED", "CANCELED_RESERVATION", "EVSE_OCCUPIED", "EVSE_INOPERATIVE", "FAILED",
    "NOT_SUPPORTED", "REJECTED", "TIMEOUT", "UNKNOWN_RESERVATION", "UNKNOWN_SESSION",
)  # fmt: skip


def ci(value: str) -> str:
    """The canonical form of a CiString id (for keys and comparisons)."""
    return value.upper()


# --- shared types --------------------------------------------------------------------------------

DISPLAY_TEXT = {"language": F(Str(2), True), "text": F(Str(512), True)}
GEO = {"latitude": F(Str(10), True), "longitude": F(Str(11), True)}


@dataclass(frozen=True)
class Price:
    """An amount before and (when known) after taxes, as Decimal."""

    excl_vat: Decimal
    incl_vat: Decimal | None

    def to_json(self, version: str) -> dict[str, Any]:
        if version >= "2.3":
            taxes = []
            if self.incl_vat is not None:
                taxes = [{"name": "VAT", "amount": _num(self.incl_vat - self.excl_vat)}]
            return {"before_taxes": _num(self.excl_vat), "taxes": taxes}
        body = {"excl_vat": _num(self.excl_vat)}
        if self.incl_vat is not None:
            body["incl_vat"] = _num(self.incl_vat)
        return body


def _num(amount: Decimal) -> float | int:
    # JSON numbers go out through the float type; 4 decimals (OCPI's limit) survive it exactly
    # enough for the peer, and our own stored copy keeps the Decimal.
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def price_parser(version: str):  # type: ignore[no-untyped-def]
    """The Price type of `version`: 2.1.1 a bare number, 2.2.1 {excl_vat, incl_vat?},
    2.3.0 {before_taxes, taxes[]} (a 2.2.1-shaped Price is an error there)."""

    def parse(value: Any, path: str) -> Price:
        if version < "2.2":
            amount = Number(value, path)
            return Price(amount, None)
        if version >= "2.3":
            data = check(
                {
                    "before_taxes": F(Number, True),
                    "taxes": F(ListOf(Obj({"name": F(Str(20)), "amount": F(Number, True)})), False),
                },
                value,
                path,
            )
            taxes = data.get("taxes")
            if taxes is None:
                return Price(data["before_taxes"], None)
            before = data["before_taxes"]
            return Price(before, before + sum(t["amount"] for t in taxes))
        data = check({"excl_vat": F(Number, True), "incl_vat": F(Number)}, value, path)
        return Price(data["excl_vat"], data.get("incl_vat"))

    return parse


# --- tariffs (the envelope we index on here; the pricing parser checks the content) --------------


def validate_tariff_content(data: Any, version: str = "2.2.1", path: str = "") -> dict[str, Any]:
    """The single place where a Tariff's content is checked before we store it: the envelope
    we index on (id, country_code, party_id, currency, last_updated, elements present, and
    2.3.0's required `tax_included`), then the strict content check of the pricing parser
    (`kiosk_app.ocpi.pricing.parse_tariff`), so we never store a tariff we cannot price.
    """
    table = {
        "id": F(CiStr(36), True),
        "currency": F(Str(3), True),
        "elements": F(ListOf(Obj({"price_components": F(ListOf(Obj({}), 1), True)}), 1), True),
        "last_updated": F(DateTime, True),
    }
    if version >= "2.2":
        table |= {"country_code": F(CiStr(2), True), "party_id": F(CiStr(3), True)}
    if version >= "2.3":
        table["tax_included"] = F(enum("YES", "NO", "N/A"), True)
    checked = check(table, data, path)
    try:
        parse_tariff(data, version, path)
    except TariffError as exc:
        raise ObjectError(exc.path, exc.problem) from None
    return checked


# --- locations -----------------------------------------------------------------------------------

CONNECTOR = {
    "id": F(CiStr(36), True),
    "standard": F(Str(40), True),
    "format": F(enum("SOCKET", "CABLE")),
    "power_type": F(Str(20)),
    "max_voltage": F(Int),
    "max_amperage": F(Int),
    "max_electric_power": F(Int),
    "tariff_ids": F(ListOf(CiStr(36))),
    "last_updated": F(DateTime),
}
EVSE = {
    "uid": F(CiStr(36), True),
    "evse_id": F(CiStr(48)),
    "status": F(EVSE_STATUSES, True),
    "capabilities": F(ListOf(Str(40))),
    "connectors": F(ListOf(Obj(CONNECTOR), 1), True),
    "last_updated": F(DateTime, True),
}
LOCATION_BASE = {
    "id": F(CiStr(36), True),
    "name": F(Str(255)),
    "address": F(Str(45), True),
    "city": F(Str(45), True),
    "country": F(Str(3), True),
    "coordinates": F(Obj(GEO), True),
    "evses": F(ListOf(Obj(EVSE))),
    "time_zone": F(Str(255)),
    "last_updated": F(DateTime, True),
}
LOCATION = LOCATION_BASE | {
    "country_code": F(CiStr(2), True),
    "party_id": F(CiStr(3), True),
    "publish": F(Bool, True),
}


def location_table(version: str) -> dict[str, F]:
    return LOCATION if version >= "2.2" else LOCATION_BASE


def parse_location(data: Any, version: str = "2.2.1", partial: bool = False) -> dict[str, Any]:
    return _checked(location_table(version), data, partial)


def parse_evse(data: Any, partial: bool = False) -> dict[str, Any]:
    return _checked(EVSE, data, partial)


def parse_connector(data: Any, partial: bool = False) -> dict[str, Any]:
    return _checked(CONNECTOR, data, partial)


def _checked(table: dict[str, F], data: Any, partial: bool) -> dict[str, Any]:
    cleaned = check(table, data, partial=partial)
    if partial and "last_updated" not in cleaned:
        raise ObjectError("last_updated", "missing (a PATCH must carry last_updated)")
    return cleaned


# --- sessions and CDRs ---------------------------------------------------------------------------

CDR_TOKEN = {
    "country_code": F(CiStr(2), True),
    "party_id": F(CiStr(3), True),
    "uid": F(CiStr(36), True),
    "type": F(TOKEN_TYPES, True),
    "contract_id": F(CiStr(36), True),
}
CHARGING_PERIOD = {
    "start_date_time": F(DateTime, True),
    "dimensions": F(ListOf(Obj({"type": F(Str(30), True), "volume": F(Number, True)}), 1), True),
    "tariff_id": F(CiStr(36)),
}
SIGNED_DATA = {
    "encoding_method": F(CiStr(36), True),
    "encoding_method_version": F(Int),
    "public_key": F(Str(512)),
    "signed_values": F(
        ListOf(
            Obj(
                {
                    "nature": F(CiStr(32), True),
                    "plain_data": F(Str(5000), True),
                    "signed_data": F(Str(5000), True),
                }
            ),
            1,
        ),
        True,
    ),
    "url": F(Str(512)),
}
CDR_LOCATION = {
    "id": F(CiStr(36), True),
    "address": F(Str(45), True),
    "city": F(Str(45), True),
    "country": F(Str(3), True),
    "coordinates": F(Obj(GEO), True),
    "evse_uid": F(CiStr(36), True),
    "evse_id": F(CiStr(48), True),
    "connector_id": F(CiStr(36), True),
    "connector_standard": F(Str(40), True),
    "connector_format": F(Str(10), True),
    "connector_power_type": F(Str(20), True),
}

_V211_RENAMES = {
    "start_datetime": "start_date_time",
    "end_datetime": "end_date_time",
    "stop_date_time": "end_date_time",
}


@functools.cache
def _session_table(version: str) -> dict[str, F]:
    price = price_parser(version)
    table = {
        "id": F(CiStr(36), True),
        "start_date_time": F(DateTime, True),
        "end_date_time": F(DateTime),
        "kwh": F(Number, True),
        "auth_method": F(Str(20)),
        "authorization_reference": F(CiStr(36)),
        "meter_id": F(Str(255)),
        "currency": F(Str(3), True),
        "charging_periods": F(ListOf(Obj(CHARGING_PERIOD))),
        "total_cost": F(price),
        "status": F(SESSION_STATUSES, True),
        "last_updated": F(DateTime, True),
    }
    if version >= "2.2":
        table |= {
            "country_code": F(CiStr(2), True),
            "party_id": F(CiStr(3), True),
            "cdr_token": F(Obj(CDR_TOKEN), True),
            "location_id": F(CiStr(36), True),
            "evse_uid": F(CiStr(36), True),
            "connector_id": F(CiStr(36), True),
        }
    else:
        table |= {"auth_id": F(Str(36), True), "location": F(Obj(LOCATION_BASE), True)}
    return table


@dataclass(frozen=True)
class Session:
    """A Session as pushed or pulled; `fields` holds every checked field."""

    id: str
    status: str
    kwh: Decimal
    currency: str
    authorization_reference: str | None
    token_uid: str | None
    total_cost: Price | None
    start: datetime
    end: datetime | None
    last_updated: datetime
    fields: dict[str, Any] = field(repr=False)


def normalize_v211(data: Any, version: str) -> Any:
    """2.1.1 names for Session/CDR date fields, mapped to the 2.2 names (others untouched)."""
    if version >= "2.2" or not isinstance(data, dict):
        return data
    return {_V211_RENAMES.get(k, k): v for k, v in data.items()}


def check_session(data: Any, version: str = "2.2.1", partial: bool = False) -> dict[str, Any]:
    """Validate a full Session (PUT) or a Session PATCH."""
    return _checked(_session_table(version), normalize_v211(data, version), partial)


def parse_session(data: Any, version: str = "2.2.1") -> Session:
    f = check_session(data, version)
    token_uid = f["cdr_token"]["uid"] if "cdr_token" in f else f.get("auth_id")
    return Session(
        id=f["id"],
        status=f["status"],
        kwh=f["kwh"],
        currency=f["currency"],
        authorization_reference=f.get("authorization_reference"),
        token_uid=token_uid,
        total_cost=f.get("total_cost"),
        start=f["start_date_time"],
        end=f.get("end_date_time"),
        last_updated=f["last_updated"],
        fields=f,
    )


@dataclass(frozen=True)
class Cdr:
    id: str
    authorization_reference: str | None
    token_uid: str | None
    session_id: str | None
    currency: str
    total_cost: Price
    total_energy: Decimal
    credit: bool
    credit_reference_id: str | None
    invoice_reference_id: str | None
    fields: dict[str, Any] = field(repr=False)


def parse_cdr(data: Any, version: str = "2.2.1") -> Cdr:
    price = price_parser(version)
    table = {
        "id": F(CiStr(39), True),
        "start_date_time": F(DateTime, True),
        "end_date_time": F(DateTime, True),
        "session_id": F(CiStr(36)),
        "authorization_reference": F(CiStr(36)),
        "auth_method": F(Str(20)),
        "meter_id": F(Str(255)),
        "currency": F(Str(3), True),
        "tariffs": F(ListOf(lambda v, p: validate_tariff_content(v, version, p))),
        "charging_periods": F(ListOf(Obj(CHARGING_PERIOD), 1), True),
        "signed_data": F(Obj(SIGNED_DATA)),
        "total_cost": F(price, True),
        "total_fixed_cost": F(price),
        "total_energy": F(Number, True),
        "total_energy_cost": F(price),
        "total_time": F(Number, True),
        "total_time_cost": F(price),
        "total_parking_time": F(Number),
        "total_parking_cost": F(price),
        "total_reservation_cost": F(price),
        "remark": F(Str(255)),
        "invoice_reference_id": F(CiStr(39)),
        "credit": F(Bool),
        "credit_reference_id": F(CiStr(39)),
        "last_updated": F(DateTime, True),
    }
    if version >= "2.2":
        table |= {
            "country_code": F(CiStr(2), True),
            "party_id": F(CiStr(3), True),
            "cdr_token": F(Obj(CDR_TOKEN), True),
            "cdr_location": F(Obj(CDR_LOCATION), True),
        }
    else:
        table |= {"auth_id": F(Str(36), True), "location": F(Obj(LOCATION_BASE), True)}
    f = check(table, normalize_v211(data, version))
    if f.get("credit") and not f.get("credit_reference_id"):
        raise ObjectError("credit_reference_id", "missing (required for a credit CDR)")
    return Cdr(
        id=f["id"],
        authorization_reference=f.get("authorization_reference"),
        token_uid=f["cdr_token"]["uid"] if "cdr_token" in f else f.get("auth_id"),
        session_id=f.get("session_id"),
        currency=f["currency"],
        total_cost=f["total_cost"],
        total_energy=f["total_energy"],
        credit=f.get("credit", False),
        credit_reference_id=f.get("credit_reference_id"),
        invoice_reference_id=f.get("invoice_reference_id"),
        fields=f,
    )


# --- commands ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandResponse:
    result: str
    timeout_s: int | None
    message: str | None


@dataclass(frozen=True)
class CommandResult:
    result: str
    message: str | None


def _first_text(texts: list[dict[str, Any]] | None) -> str | None:
    return texts[0]["text"] if texts else None


def parse_command_response(data: Any) -> CommandResponse:
    """The synchronous answer to a command. Some CPOs wrap it in a one-element list."""
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    f = check(
        {
            "result": F(COMMAND_RESPONSE_RESULTS, True),
            "timeout": F(Int),
            "message": F(ListOf(Obj(DISPLAY_TEXT))),
        },
        data,
    )
    return CommandResponse(f["result"], f.get("timeout"), _first_text(f.get("message")))


def parse_command_result(data: Any) -> CommandResult:
    """The asynchronous CommandResult (2.2+), or the 2.1.1 callback's CommandResponse."""
    f = check({"result": F(COMMAND_RESULTS, True), "message": F(ListOf(Obj(DISPLAY_TEXT)))}, data)
    return CommandResult(f["result"], _first_text(f.get("message")))


# --- tokens and credentials ----------------------------------------------------------------------

TOKEN = {
    "country_code": F(CiStr(2), True),
    "party_id": F(CiStr(3), True),
    "uid": F(CiStr(36), True),
    "type": F(TOKEN_TYPES, True),
    "contract_id": F(CiStr(36), True),
    "visual_number": F(Str(64)),
    "issuer": F(Str(64), True),
    "group_id": F(CiStr(36)),
    "valid": F(Bool, True),
    "whitelist": F(enum("ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"), True),
    "language": F(Str(2)),
    "last_updated": F(DateTime, True),
}


def parse_token(data: Any, partial: bool = False) -> dict[str, Any]:
    return _checked(TOKEN, data, partial)


BUSINESS_DETAILS = {"name": F(Str(100), True), "website": F(Str(255))}


@dataclass(frozen=True)
class Credentials:
    token: str
    url: str
    country_code: str
    party_id: str
    roles: list[str]
    business_name: str


def parse_credentials(data: Any, version: str = "2.2.1") -> Credentials:
    """Credentials: 2.2+ with `roles[]`, 2.1.1 flat."""
    base = {"token": F(Str(64), True), "url": F(Str(255), True)}
    if version >= "2.2":
        role = {
            "role": F(Str(10), True),
            "business_details": F(Obj(BUSINESS_DETAILS), True),
            "party_id": F(CiStr(3), True),
            "country_code": F(CiStr(2), True),
        }
        f = check(base | {"roles": F(ListOf(Obj(role), 1), True)}, data)
        first = f["roles"][0]
        return Credentials(
            f["token"],
            f["url"],
            first["country_code"],
            first["party_id"],
            [r["role"] for r in f["roles"]],
            first["business_details"]["name"],
        )
    f = check(
        base
        | {
            "business_details": F(Obj(BUSINESS_DETAILS), True),
            "party_id": F(CiStr(3), True),
            "country_code": F(CiStr(2), True),
        },
        data,
    )
    return Credentials(
        f["token"], f["url"], f["country_code"], f["party_id"], [], f["business_details"]["name"]
    )


def credentials_document(
    token: str, versions_url: str, country_code: str, party_id: str, name: str, version: str
) -> dict[str, Any]:
    """Our Credentials object for `version` (role EMSP; 2.3.0's role list has no PTP)."""
    business = {"name": name}
    if version < "2.2":
        return {
            "token": token,
            "url": versions_url,
            "business_details": business,
            "party_id": party_id,
            "country_code": country_code,
        }
    role = {
        "role": "EMSP",
        "business_details": business,
        "party_id": party_id,
        "country_code": country_code,
    }
    return {"token": token, "url": versions_url, "roles": [role]}


# --- 2.3.0 payments ------------------------------------------------------------------------------

TERMINAL = {
    "terminal_id": F(CiStr(36), True),
    "customer_reference": F(CiStr(36)),
    "party_id": F(CiStr(3)),
    "country_code": F(CiStr(2)),
    "address": F(Str(45)),
    "city": F(Str(45)),
    "postal_code": F(Str(10)),
    "country": F(Str(3)),
    "coordinates": F(Obj(GEO)),
    "invoice_base_url": F(Str(255)),
    "invoice_creator": F(enum("CPO", "PTP")),
    "reference": F(CiStr(36)),
    "location_ids": F(ListOf(CiStr(36))),
    "evse_uids": F(ListOf(CiStr(36))),
    "last_updated": F(DateTime, True),
}


def parse_terminal(data: Any, partial: bool = False) -> dict[str, Any]:
    return _checked(TERMINAL, data, partial)


def check_terminal_changes(data: Any) -> dict[str, Any]:
    """The fields a CPO sends to update or assign one of our Terminals (PUT/PATCH/activate):
    any subset, `last_updated` optional (the spec's own assignment example has none)."""
    return check(TERMINAL, data, partial=True)


CAPTURE_STATUSES = enum("SUCCESS", "PARTIAL_SUCCESS", "FAILED")


def parse_financial_advice(data: Any) -> dict[str, Any]:
    return check(
        {
            "id": F(CiStr(36), True),
            "authorization_reference": F(CiStr(36), True),
            "total_costs": F(price_parser("2.3.0"), True),
            "currency": F(Str(3), True),
            "eft_data": F(ListOf(CiStr(255), 1), True),
            "capture_status_code": F(CAPTURE_STATUSES, True),
            "capture_status_message": F(Str(255)),
            "last_updated": F(DateTime, True),
        },
        data,
    )
