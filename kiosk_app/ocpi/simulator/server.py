"""The CPO simulator: a Flask app served by werkzeug in a thread, and the worker threads that
play a charging session (CommandResponse → CommandResult → Session PUT and PATCHes → CDR).

Scenario switches (`Scenario`, set in-process with `configure()` or over HTTP with
`POST /sim/control`) make it misbehave the way CPOs do in the field.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from flask import Flask, Response, request
from werkzeug.serving import make_server

from kiosk_app.ocpi import envelope, transport
from kiosk_app.ocpi.objects import Price
from kiosk_app.ocpi.simulator import ocmf
from kiosk_app.ocpi.simulator.park import Park, price

log = logging.getLogger(__name__)

VERSIONS = ("2.2.1", "2.3.0")


@dataclass
class Scenario:
    """What the simulated CPO does. Defaults: everything goes right."""

    command_response: str = "ACCEPTED"  # or REJECTED, NOT_SUPPORTED
    command_result: str | None = "ACCEPTED"  # or EVSE_OCCUPIED, FAILED…; None: never sent
    command_timeout_s: int = 30  # the CommandResponse `timeout`
    car_plugged_in: bool = True  # False: ACCEPTED, but no Session ever comes
    session_invalid: bool = False  # the Session ends INVALID, no CDR
    slow_s: float = 0.0  # delay before answering a command (real seconds)
    http_500: int = 0  # answer the next N command requests with HTTP 500
    duplicate_cdr: bool = False  # POST the CDR twice
    send_cdr: bool = True  # False: the Session completes, but no CDR ever comes
    credit_cdr: bool = False  # after the CDR, POST a credit CDR for it
    ticks: int = 3  # Session PATCHes with growing kWh before the car is full
    tick_minutes: int = 5  # simulated minutes per tick
    speed: float = 60.0  # simulated seconds per real second
    power_dimension: bool = False  # also report a POWER dimension (else only ENERGY)


@dataclass
class Registration:
    token_for_them: str  # the kiosk's token (B), which we present to it
    endpoints: dict[str, str]
    version: str


@dataclass
class Charge:
    session_id: str
    token: dict[str, Any]
    location_id: str
    evse_uid: str
    connector_id: str
    authorization_reference: str | None
    start: datetime
    stop_requested: threading.Event = dataclasses.field(default_factory=threading.Event)


class CpoSimulator:
    """A simulated CPO on http://host:port/ocpi. A runtime Service (name, start, stop)."""

    name = "cpo-simulator"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token_a: str | None = None,
        fixture: Path | None = None,
        scenario: Scenario | None = None,
        versions: tuple[str, ...] = VERSIONS,
    ) -> None:
        self.token_a = token_a or secrets.token_urlsafe(16)
        self.scenario = scenario or Scenario()
        self.versions = versions
        self.park = Park(fixture, datetime.now(UTC).replace(microsecond=0))
        self.registration: Registration | None = None
        self.token_c: str | None = None  # what the kiosk presents to us after the handshake
        self.charges: dict[str, Charge] = {}
        self.received: list[tuple[str, str, Any]] = []  # (method, path, body) of kiosk calls
        # The CDRs sent, by id: (OCPI version, document, total cost), for later credit CDRs.
        self.cdrs: dict[str, tuple[str, dict[str, Any], Price]] = {}
        self.pushes: list[tuple[str, str, int, Any]] = []  # (method, url, http, envelope)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.http = requests.Session()
        self.app = self._build_app()
        self._server = make_server(host, port, self.app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}/ocpi"
        self._serving: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._serving = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._serving.start()

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self.http.close()

    def __enter__(self) -> CpoSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def versions_url(self) -> str:
        return f"{self.url}/versions"

    def configure(self, **switches: Any) -> None:
        """Change scenario switches, e.g. `configure(command_result=None)`."""
        with self._lock:
            for key, value in switches.items():
                if not hasattr(self.scenario, key):
                    raise ValueError(f"unknown scenario switch {key!r}")
                setattr(self.scenario, key, value)

    def _sleep(self, simulated_s: float) -> bool:
        """Sleep for simulated seconds; False when the simulator is stopping."""
        return not self._stop.wait(simulated_s / max(self.scenario.speed, 0.001))

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    # --- HTTP: our side of OCPI ------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("cpo_simulator")
        sim = self

        def answer(
            data: Any = None,
            status: int = 1000,
            msg: str | None = None,
            http: int = 200,
            headers: dict[str, str] | None = None,
        ) -> Response:
            response = Response(
                json.dumps(envelope.build(data, status, msg)), http, mimetype="application/json"
            )
            for name in ("X-Request-ID", "X-Correlation-ID"):
                response.headers[name] = request.headers.get(name) or transport.new_request_id()
            response.headers.update(headers or {})
            return response

        def token_ok(allow_a: bool) -> bool:
            tokens = {
                c.token for c in transport.token_candidates(request.headers.get("Authorization"))
            }
            return (sim.token_c in tokens) or (allow_a and sim.token_a in tokens)

        def base(version: str) -> str:
            return f"{sim.url}/cpo/{version}"

        @app.before_request
        def _auth() -> Response | None:
            if request.path.startswith("/sim/"):
                return None
            open_paths = request.path.endswith(("/versions", "/details", "/credentials"))
            if not token_ok(allow_a=open_paths):
                return answer(None, 2000, "unknown token", http=401)
            with sim._lock:
                body = request.get_json(silent=True)
                sim.received.append((request.method, request.path, body))
            return None

        @app.get("/ocpi/versions")
        def versions() -> Response:
            return answer([{"version": v, "url": f"{sim.url}/{v}/details"} for v in sim.versions])

        @app.get("/ocpi/<version>/details")
        def details(version: str) -> Response:
            if version not in sim.versions:
                return answer(None, 3002, "unsupported version", http=404)
            modules = [
                ("locations", "SENDER"),
                ("tariffs", "SENDER"),
                ("sessions", "SENDER"),
                ("cdrs", "SENDER"),
                ("commands", "RECEIVER"),
                ("tokens", "RECEIVER"),
            ]
            if version == "2.3.0":
                modules.append(("payments", "RECEIVER"))
            endpoints = [
                {
                    "identifier": "credentials",
                    "role": "RECEIVER",
                    "url": f"{sim.url}/{version}/credentials",
                }
            ]
            endpoints += [
                {"identifier": m, "role": r, "url": f"{base(version)}/{m}"} for m, r in modules
            ]
            return answer({"version": version, "endpoints": endpoints})

        @app.route("/ocpi/<version>/credentials", methods=["GET", "POST", "PUT", "DELETE"])
        def credentials(version: str) -> Response:
            if request.method == "GET":
                return answer(sim._credentials(sim.token_c or sim.token_a, version))
            if request.method == "DELETE":
                sim.registration, sim.token_c = None, None
                return answer()
            data = request.get_json(silent=True) or {}
            try:
                sim._connect_back(data["url"], data["token"])
            except Exception as exc:
                return answer(None, 3001, f"cannot reach your versions: {exc}")
            sim.token_c = secrets.token_urlsafe(24)
            return answer(sim._credentials(sim.token_c, version))

        @app.get("/ocpi/cpo/<version>/locations")
        def locations(version: str) -> Response:
            with sim._lock:
                items = [json.loads(json.dumps(sim.park.location))]
            return sim._page(answer, items)

        @app.get("/ocpi/cpo/<version>/locations/<location_id>")
        def location(version: str, location_id: str) -> Response:
            if location_id.upper() != sim.park.location["id"].upper():
                return answer(None, 2003, "unknown location", http=404)
            return answer(sim.park.location)

        @app.get("/ocpi/cpo/<version>/tariffs")
        def tariffs(version: str) -> Response:
            return sim._page(answer, list(sim.park.tariffs.values()))

        @app.put("/ocpi/cpo/<version>/tokens/<cc>/<pid>/<uid>")
        def token_push(version: str, cc: str, pid: str, uid: str) -> Response:
            return answer()

        @app.post("/ocpi/cpo/<version>/payments/financial-advice-confirmations")
        def fac(version: str) -> Response:
            return answer()

        @app.post("/ocpi/cpo/<version>/commands/<command>")
        def commands(version: str, command: str) -> Response:
            scenario = sim.scenario
            with sim._lock:
                if scenario.http_500 > 0:
                    scenario.http_500 -= 1
                    return Response("Internal Server Error", 500)
            if scenario.slow_s:
                time.sleep(scenario.slow_s)
            data = request.get_json(silent=True) or {}
            result, timeout = scenario.command_response, scenario.command_timeout_s
            if command == "START_SESSION" and result == "ACCEPTED":
                sim._spawn(sim._play_start, version, data, scenario.command_result)
            elif command == "STOP_SESSION":
                charge = sim.charges.get(str(data.get("session_id", "")).upper())
                if charge is None:
                    result = "UNKNOWN_SESSION"
                elif result == "ACCEPTED":
                    sim._spawn(sim._play_stop, version, data, charge)
            elif command not in ("START_SESSION", "STOP_SESSION"):
                result = "NOT_SUPPORTED"
            return answer({"result": result, "timeout": timeout})

        @app.post("/sim/control")
        def control() -> Response:
            try:
                sim.configure(**(request.get_json(silent=True) or {}))
            except (TypeError, ValueError) as exc:
                return Response(json.dumps({"error": str(exc)}), 400, mimetype="application/json")
            return Response(
                json.dumps(dataclasses.asdict(sim.scenario)), 200, mimetype="application/json"
            )

        @app.get("/sim/state")
        def state() -> Response:
            return Response(
                json.dumps(
                    {
                        "scenario": dataclasses.asdict(sim.scenario),
                        "charges": sorted(sim.charges),
                        "registered": sim.registration is not None,
                    }
                ),
                200,
                mimetype="application/json",
            )

        return app

    def _page(self, answer: Any, items: list[Any]) -> Response:
        offset = int(request.args.get("offset", 0))
        limit = min(int(request.args.get("limit", 1)), 1)  # one per page: exercises pagination
        date_from = request.args.get("date_from")
        if date_from:
            items = [i for i in items if i["last_updated"] >= date_from]
        page = transport.Page(offset, limit, len(items))
        return answer(items[offset : offset + limit], headers=page.headers(request.url, 1))

    def _credentials(self, token: str, version: str) -> dict[str, Any]:
        return {
            "token": token,
            "url": self.versions_url,
            "roles": [
                {
                    "role": "CPO",
                    "party_id": self.park.party_id,
                    "country_code": self.park.country_code,
                    "business_details": {"name": self.park.business_name},
                }
            ],
        }

    # --- HTTP: calls to the kiosk ----------------------------------------------------------------

    def _headers(self, token: str, version: str | None) -> dict[str, str]:
        return transport.request_headers(token=token, version=version, encoding="auto")

    def _connect_back(self, versions_url: str, token: str) -> None:
        """The kiosk registers with us: fetch its versions and endpoints with its token B."""
        offered = requests.get(versions_url, headers=self._headers(token, "2.2.1"), timeout=10)
        listed = {v["version"]: v["url"] for v in offered.json()["data"]}
        version = max(set(listed) & set(self.versions))
        details = requests.get(listed[version], headers=self._headers(token, version), timeout=10)
        endpoints = {e["identifier"]: e["url"] for e in details.json()["data"]["endpoints"]}
        self.registration = Registration(token, endpoints, version)

    def register_with(self, versions_url: str, token_a: str) -> str:
        """We (the CPO) register with the kiosk using the token A it issued; returns version."""
        self._connect_back(versions_url, token_a)
        reg = self.registration
        assert reg is not None
        self.token_c = secrets.token_urlsafe(24)  # what the kiosk will use toward us
        response = requests.post(
            reg.endpoints["credentials"],
            json=self._credentials(self.token_c, reg.version),
            headers=self._headers(token_a, reg.version),
            timeout=10,
        )
        data = envelope.parse(response.content)
        if not data.ok:
            raise RuntimeError(f"registration refused: {data.status_code} {data.status_message}")
        reg.token_for_them = data.data["token"]
        return reg.version

    def _push(self, method: str, url: str, body: Any) -> int:
        reg = self.registration
        if reg is None:
            return 0
        try:
            response = self.http.request(
                method,
                url,
                json=body,
                timeout=10,
                headers=self._headers(reg.token_for_them, reg.version),
            )
        except requests.RequestException as exc:
            log.warning("simulator push %s %s failed: %s", method, url, exc)
            with self._lock:
                self.pushes.append((method, url, 0, None))
            return 0
        try:
            answer: Any = response.json()
        except ValueError:
            answer = response.text
        with self._lock:
            self.pushes.append((method, url, response.status_code, answer))
        return response.status_code

    def _module(self, name: str) -> str:
        assert self.registration is not None
        return self.registration.endpoints[name].rstrip("/")

    def _stamp(self) -> str:
        return envelope.format_datetime(datetime.now(UTC))

    # --- playing a session -----------------------------------------------------------------------

    def _play_start(self, version: str, command: dict[str, Any], result: str | None) -> None:
        if not self._sleep(2):
            return
        if result is not None:
            self._push("POST", command["response_url"], {"result": result})
        if result != "ACCEPTED" or not self.scenario.car_plugged_in:
            return
        evse = self.park.evses.get(str(command.get("evse_uid", "")).upper())
        if evse is None:
            return
        charge = Charge(
            session_id=f"S-{uuid.uuid4().hex[:12].upper()}",
            token=command.get("token", {}),
            location_id=command.get("location_id", ""),
            evse_uid=evse.uid,
            connector_id=command.get("connector_id") or evse.connector_id,
            authorization_reference=command.get("authorization_reference"),
            start=datetime.now(UTC).replace(microsecond=0),
        )
        with self._lock:
            self.charges[charge.session_id] = charge
        self._charge(version, charge, evse)

    def _play_stop(self, version: str, command: dict[str, Any], charge: Charge) -> None:
        if self._sleep(1) and self.scenario.command_result is not None:
            self._push("POST", command["response_url"], {"result": "ACCEPTED"})
        charge.stop_requested.set()

    def _session_doc(
        self,
        version: str,
        charge: Charge,
        status: str,
        kwh: Decimal,
        cost: Any,
        end: datetime | None,
    ) -> dict[str, Any]:
        doc = {
            "country_code": self.park.country_code,
            "party_id": self.park.party_id,
            "id": charge.session_id,
            "start_date_time": envelope.format_datetime(charge.start),
            "kwh": float(kwh),
            "cdr_token": self._cdr_token(charge),
            "auth_method": "COMMAND",
            "location_id": charge.location_id,
            "evse_uid": charge.evse_uid,
            "connector_id": charge.connector_id,
            "meter_id": ocmf.METER_SERIAL,
            "currency": "EUR",
            "charging_periods": [],
            "status": status,
            "last_updated": self._stamp(),
        }
        if charge.authorization_reference:
            doc["authorization_reference"] = charge.authorization_reference
        if cost is not None:
            doc["total_cost"] = Price(cost.excl, cost.incl).to_json(version)
        if end is not None:
            doc["end_date_time"] = envelope.format_datetime(end)
        return doc

    def _cdr_token(self, charge: Charge) -> dict[str, Any]:
        token = charge.token
        return {
            "country_code": token.get("country_code", ""),
            "party_id": token.get("party_id", ""),
            "uid": token.get("uid", ""),
            "type": token.get("type", "AD_HOC_USER"),
            "contract_id": token.get("contract_id", token.get("uid", "")),
        }

    def _charge(self, version: str, charge: Charge, evse: Any) -> None:
        sessions = self._module("sessions")
        url = f"{sessions}/{self.park.country_code}/{self.park.party_id}/{charge.session_id}"
        tariff = self.park.tariffs[evse.tariff_id]
        self._set_status(version, charge, "CHARGING")
        self._push(
            "PUT", url, self._session_doc(version, charge, "PENDING", Decimal(0), None, None)
        )
        if self.scenario.session_invalid:
            self._sleep(60)
            patch = {"status": "INVALID", "last_updated": self._stamp()}
            self._push("PATCH", url, patch)
            self._set_status(version, charge, "AVAILABLE")
            return
        kwh = Decimal(0)
        periods = []
        for tick in range(self.scenario.ticks):
            if not self._sleep(self.scenario.tick_minutes * 60) or charge.stop_requested.is_set():
                break
            step = (evse.power_kw * Decimal(self.scenario.tick_minutes) / 60).quantize(
                Decimal("0.001")
            )
            kwh += step
            hours = Decimal(self.scenario.tick_minutes * (tick + 1)) / 60
            cost = price(tariff, kwh, hours)
            dimensions = [{"type": "ENERGY", "volume": float(step)}]
            if self.scenario.power_dimension:
                dimensions.append({"type": "POWER", "volume": float(evse.power_kw)})
            period = {
                "start_date_time": envelope.format_datetime(
                    charge.start + timedelta(minutes=self.scenario.tick_minutes * tick)
                ),
                "dimensions": dimensions,
                "tariff_id": tariff["id"],
            }
            periods.append(period)
            patch = {
                "status": "ACTIVE",
                "kwh": float(kwh),
                "charging_periods": [period],
                "total_cost": Price(cost.excl, cost.incl).to_json(version),
                "last_updated": self._stamp(),
            }
            self._push("PATCH", url, patch)
        if not charge.stop_requested.is_set():
            # The car is full; the driver comes back and the kiosk stops the session.
            charge.stop_requested.wait(timeout=5 * 60 / max(self.scenario.speed, 0.001))
        if self._stop.is_set():
            return
        end = datetime.now(UTC).replace(microsecond=0)
        hours = Decimal(self.scenario.tick_minutes * len(periods)) / 60
        cost = price(tariff, kwh, hours)
        done = {
            "status": "COMPLETED",
            "end_date_time": envelope.format_datetime(end),
            "last_updated": self._stamp(),
        }
        self._push("PATCH", url, done)
        self._set_status(version, charge, "AVAILABLE")
        if not self.scenario.send_cdr:
            return
        cdr = self._cdr(version, charge, evse, tariff, kwh, hours, cost, periods, end)
        with self._lock:
            self.cdrs[cdr["id"]] = (version, cdr, Price(cost.excl, cost.incl))
        cdrs = self._module("cdrs")
        self._push("POST", cdrs, cdr)
        if self.scenario.duplicate_cdr:
            self._push("POST", cdrs, cdr)
        if self.scenario.credit_cdr:
            self.credit(cdr["id"])

    def credit(self, cdr_id: str, share: Decimal = Decimal(1), suffix: str = "C") -> str:
        """POST a credit CDR giving back `share` of the CDR `cdr_id` sent earlier (a CPO's
        correction, at any time after the CDR); the credit CDR's id."""
        with self._lock:
            version, cdr, cost = self.cdrs[cdr_id]
        places = Decimal("0.0001")  # OCPI's four decimals
        excl = (cost.excl_vat * share).quantize(places)
        incl = None if cost.incl_vat is None else (cost.incl_vat * share).quantize(places)
        credit = cdr | {
            "id": f"{cdr_id}-{suffix}",
            "credit": True,
            "credit_reference_id": cdr_id,
            "total_cost": Price(-excl, None if incl is None else -incl).to_json(version),
            "last_updated": self._stamp(),
        }
        self._push("POST", self._module("cdrs"), credit)
        return credit["id"]

    def _set_status(self, version: str, charge: Charge, status: str) -> None:
        stamp = self._stamp()
        with self._lock:
            self.park.set_status(charge.evse_uid, status, stamp)
        if "locations" in (self.registration.endpoints if self.registration else {}):
            loc = self._module("locations")
            url = (
                f"{loc}/{self.park.country_code}/{self.park.party_id}/"
                f"{charge.location_id}/{charge.evse_uid}"
            )
            self._push("PATCH", url, {"status": status, "last_updated": stamp})

    def _cdr(
        self,
        version: str,
        charge: Charge,
        evse: Any,
        tariff: dict[str, Any],
        kwh: Decimal,
        hours: Decimal,
        cost: Any,
        periods: list[dict[str, Any]],
        end: datetime,
    ) -> dict[str, Any]:
        loc = self.park.location
        values = []
        meter_start = Decimal("1234.567")
        for nature, context, moment, reading, page in (
            ("Start", "B", charge.start, meter_start, 1),
            ("End", "E", end, meter_start + kwh, 2),
        ):
            plain, full = ocmf.record(
                evse_id=evse.evse_id,
                token_uid=charge.token.get("uid", ""),
                context=context,
                moment=moment,
                meter_kwh=reading,
                pagination=page,
                current_type=evse.connector["power_type"],
            )
            values.append(
                {
                    "nature": nature,
                    "plain_data": plain,
                    "signed_data": base64.b64encode(full.encode()).decode(),
                }
            )
        cdr = {
            "country_code": self.park.country_code,
            "party_id": self.park.party_id,
            "id": f"CDR-{charge.session_id}",
            "start_date_time": envelope.format_datetime(charge.start),
            "end_date_time": envelope.format_datetime(end),
            "session_id": charge.session_id,
            "cdr_token": self._cdr_token(charge),
            "auth_method": "COMMAND",
            "cdr_location": {
                "id": loc["id"],
                "name": loc.get("name"),
                "address": loc["address"],
                "city": loc["city"],
                "postal_code": loc.get("postal_code"),
                "country": loc["country"],
                "coordinates": loc["coordinates"],
                "evse_uid": evse.uid,
                "evse_id": evse.evse_id,
                "connector_id": charge.connector_id,
                "connector_standard": evse.connector["standard"],
                "connector_format": evse.connector["format"],
                "connector_power_type": evse.connector["power_type"],
            },
            "meter_id": ocmf.METER_SERIAL,
            "currency": "EUR",
            "tariffs": [tariff],
            "charging_periods": periods
            or [
                {
                    "start_date_time": envelope.format_datetime(charge.start),
                    "dimensions": [{"type": "ENERGY", "volume": 0}],
                }
            ],
            "signed_data": {
                "encoding_method": "OCMF",
                "encoding_method_version": 1,
                "public_key": ocmf.PUBLIC_KEY_HEX,
                "signed_values": values,
            },
            "total_cost": Price(cost.excl, cost.incl).to_json(version),
            "total_fixed_cost": Price(cost.fixed, cost.fixed).to_json(version),
            "total_energy": float(kwh),
            "total_energy_cost": Price(cost.energy, cost.energy).to_json(version),
            "total_time": float(hours.quantize(Decimal("0.0001"))),
            "last_updated": self._stamp(),
        }
        if charge.authorization_reference:
            cdr["authorization_reference"] = charge.authorization_reference
        return cdr
