"""A CPO built on the open-source `extrawest-ocpi` library (py_ocpi), for interoperability
tests. Runs in its own virtualenv (.venv-extrawest): `python extrawest_peer.py PORT TOKEN_A
EXAMPLES_DIR`. The library supplies the OCPI routers; this file supplies storage (a Crud over
dicts seeded with official OCPI examples) and the token lists (an Authenticator).

Like a real CPO, a START_SESSION it accepts creates a Session carrying the command's token
and authorization_reference, which the kiosk can pull from the sessions endpoint.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

PORT, TOKEN_A, EXAMPLES = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
os.environ.update(
    OCPI_HOST=f"127.0.0.1:{PORT}",
    PROTOCOL="http",
    COUNTRY_CODE="BE",
    PARTY_ID="BEC",
    COMMAND_AWAIT_TIME="1",
    ENVIRONMENT="production",
)

import uvicorn  # noqa: E402
from py_ocpi import get_application  # noqa: E402
from py_ocpi.core.authentication.authenticator import Authenticator  # noqa: E402
from py_ocpi.core.crud import Crud  # noqa: E402
from py_ocpi.core.enums import Action, ModuleID, RoleEnum  # noqa: E402
from py_ocpi.modules.versions.enums import VersionNumber  # noqa: E402

LOCATION = json.loads((EXAMPLES / "location_example.json").read_text())
TARIFFS = [
    json.loads((EXAMPLES / name).read_text())
    for name in ("tariff_1_simple_2hour.json", "tariff_8_simple_025kwh.json")
]
STATE: dict = {"token_c": [], "client_token": None, "sessions": {}}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PeerAuthenticator(Authenticator):
    @classmethod
    async def get_valid_token_c(cls) -> list:
        return list(STATE["token_c"])

    @classmethod
    async def get_valid_token_a(cls) -> list:
        return [TOKEN_A]


class PeerCrud(Crud):
    @classmethod
    async def get(cls, module, role, id, *args, **kwargs):
        if module == ModuleID.locations:
            return LOCATION if str(id).upper() == LOCATION["id"].upper() else None
        if module == ModuleID.commands:
            return {"result": "ACCEPTED"}  # the charger started/stopped at once
        if module == ModuleID.credentials_and_registration:
            return cls._credentials(kwargs.get("auth_token") or "")
        if module == ModuleID.sessions:
            return STATE["sessions"].get(str(id).upper())
        return None

    @classmethod
    async def list(cls, module, role, filters, *args, **kwargs):
        items = {
            ModuleID.locations: [LOCATION],
            ModuleID.tariffs: TARIFFS,
            ModuleID.sessions: list(STATE["sessions"].values()),
        }.get(module, [])
        offset, limit = filters.get("offset", 0), filters.get("limit", 50)
        page = items[offset : offset + limit]
        return page, len(items), offset + limit >= len(items)

    @classmethod
    async def create(cls, module, role, data, *args, **kwargs):
        if module == ModuleID.credentials_and_registration:
            STATE["client_token"] = data["credentials"]["token"]
            token_c = secrets.token_urlsafe(24)
            STATE["token_c"].append(token_c)
            return cls._credentials(token_c)
        return data

    @classmethod
    async def update(cls, module, role, data, id, *args, **kwargs):
        return await cls.create(module, role, data, *args, **kwargs)

    @classmethod
    async def delete(cls, module, role, id, *args, **kwargs):
        return None

    @classmethod
    async def do(cls, module, role, action, *args, data=None, **kwargs):
        if action == Action.get_client_token:
            return STATE["client_token"]
        if action == Action.send_command:
            command = args[0] if args else data
            if kwargs.get("command") == "START_SESSION":
                cls._start(command)
            return {"result": "ACCEPTED", "timeout": 30}
        return None

    @classmethod
    def _start(cls, command: dict) -> None:
        token = command["token"]
        session_id = f"EXW-{len(STATE['sessions']) + 1}"
        evse = LOCATION["evses"][0]
        STATE["sessions"][session_id.upper()] = {
            "country_code": "BE",
            "party_id": "BEC",
            "id": session_id,
            "start_date_time": _now(),
            "kwh": 0,
            "auth_method": "COMMAND",
            "cdr_token": {
                k: token[k] for k in ("country_code", "party_id", "uid", "type", "contract_id")
            },
            "authorization_reference": command.get("authorization_reference"),
            "location_id": command["location_id"],
            "evse_uid": command.get("evse_uid") or evse["uid"],
            "connector_id": command.get("connector_id") or evse["connectors"][0]["id"],
            "currency": "EUR",
            "status": "PENDING",
            "last_updated": _now(),
        }

    @staticmethod
    def _credentials(token: str) -> dict:
        return {
            "token": token,
            "url": f"http://127.0.0.1:{PORT}/ocpi/versions",
            "roles": [
                {
                    "role": "CPO",
                    "party_id": "BEC",
                    "country_code": "BE",
                    "business_details": {"name": "extrawest test CPO"},
                }
            ],
        }


app = get_application(
    version_numbers=[VersionNumber.v_2_2_1],
    roles=[RoleEnum.cpo],
    crud=PeerCrud,
    modules=[
        ModuleID.credentials_and_registration,
        ModuleID.locations,
        ModuleID.tariffs,
        ModuleID.sessions,
        ModuleID.commands,
    ],
    authenticator=PeerAuthenticator,
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
