"""Layered configuration: built-in defaults, `config/default.toml`, the file named by
`KIOSK_CONFIG`, then environment variables `KIOSK_<SECTION>_<KEY>`.

Every section is a frozen dataclass; the loader validates each value against the field's type,
so a typo or a wrong type stops start-up with one line naming the key, the value and what was
expected. Money is `Decimal`, never a float: a TOML float for an amount is refused.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = REPO_ROOT / "config" / "default.toml"
ENV_FILE = "KIOSK_CONFIG"
ENV_PREFIX = "KIOSK_"
MASK = "********"

Language = Literal["de", "en", "sv", "ja"]


class ConfigError(Exception):
    """A configuration value is missing, unknown or of the wrong type. One line, no traceback."""


def secret(default: str = "") -> Any:
    """A string field whose value is masked wherever the configuration is shown."""
    return field(default=default, metadata={"secret": True})


@dataclass(frozen=True)
class DatabaseConfig:
    # Empty means the embedded SQLite file `kiosk.sqlite3` in the instance folder.
    url: str = ""
    echo: bool = False


@dataclass(frozen=True)
class OperatorConfig:
    legal_name: str = "Demo Charging GmbH"
    address: list[str] = field(default_factory=lambda: ["Musterstraße 1", "10115 Berlin"])
    vat_id: str = "DE123456789"
    tax_number: str = ""
    # Japan: qualified invoice issuer registration number (T + 13 digits).
    registration_number: str = ""
    country_profile: Literal["DE", "SE", "EU", "JP"] = "DE"
    receipt_series_prefix: str = "K1"
    help_phone: str = ""
    timezone: str = "Europe/Berlin"


@dataclass(frozen=True)
class OperatorUiConfig:
    # The back office: an operator who is idle this long must log in again.
    session_idle_minutes: int = 30
    # Failed passwords in a row before the account is locked, and for how long.
    max_failed_logins: int = 5
    lockout_minutes: int = 15


@dataclass(frozen=True)
class KioskConfig:
    id: str
    name: str
    terminal_link: str
    default_language: Language = "de"
    evses: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KioskUiConfig:
    # Seconds without a touch (or a status change) before the screen returns to the start screen,
    # resets the language and forgets the previous driver. Not on the pay and starting screens,
    # which end by the terminal's timeouts and the plug-in window (docs/kiosk.md).
    idle_timeout_s: int = 60
    # How often the screen asks for status changes; below 1 s so a change shows within a second.
    poll_interval_ms: int = 500


@dataclass(frozen=True)
class TerminalConfig:
    password: str = secret("000000")
    # How the final amount is settled: Book Total 06 24 (the used amount) or
    # Partial Reversal 06 23 (the unused amount). Terminals support one or the other.
    capture_style: Literal["book_total", "partial_reversal"] = "book_total"
    # Release with Reversal 06 30 when the terminal refuses Pre-Authorisation Reversal 06 25.
    release_fallback_reversal: bool = False
    # TLV containers (permitted commands, our reference in E9); off for terminals without TLV.
    tlv: bool = True
    # "status_data": we build receipts from the 04 0F data; "print_lines": the terminal sends
    # its receipt text (06 D1 / 06 D3).
    receipts: Literal["status_data", "print_lines"] = "status_data"
    currency: str = "EUR"
    default_hold: Decimal = Decimal("50.00")
    maximum_hold: Decimal = Decimal("150.00")


@dataclass(frozen=True)
class ChargingConfig:
    """Timers and money rules of the transaction engine (fixed per transaction at its start)."""

    # CommandResult wait = the CommandResponse timeout (or the default) + this margin.
    command_result_margin_s: int = 30
    command_result_default_s: int = 60
    plugin_window_s: int = 300
    # Stop the session when the cost reaches this share of the hold.
    stop_at_hold_share: Decimal = Decimal("0.95")
    max_duration_s: int = 12 * 3600
    # Settle before the issuer drops the hold (pre-authorisations live for days, not weeks).
    hold_validity_s: int = 5 * 24 * 3600
    cdr_wait_s: int = 24 * 3600
    cdr_missing_policy: Literal["capture_session_total", "release", "attention"] = (
        "capture_session_total"
    )
    capture_policy: Literal["cpo", "ours", "lower"] = "cpo"
    cross_check_tolerance_minor: int = 1
    retry_delay_s: int = 60
    max_retries: int = 5
    # OCPI 2.3.0 payments module: send a FinancialAdviceConfirmation after each capture.
    financial_advice: bool = False
    # Worker: how long a terminal lease lasts without renewal, and how often the loops run.
    lease_s: int = 15
    poll_interval_ms: int = 200
    recovery_interval_s: int = 300


@dataclass(frozen=True)
class OcpiConfig:
    party_id: str = "KSK"
    country_code: str = "DE"
    versions_url: str = ""
    # Our own public base URL, under which the CPO reaches our OCPI endpoints.
    public_url: str = "http://127.0.0.1:8000/ocpi"
    token: str = secret()
    business_name: str = "EV Charging Kiosk"
    # How the CPO's `Authorization: Token` value is encoded: auto (Base64 for 2.2+, raw
    # accepted and tried as a fallback), base64, or raw (peers that do not encode).
    token_encoding: Literal["auto", "base64", "raw"] = "auto"
    connect_timeout_s: int = 5
    read_timeout_s: int = 30
    # Retries for idempotent GETs only; commands and pushes are never repeated.
    get_retries: int = 2
    # X-Limit: the most items one page of our list endpoints returns.
    page_limit: int = 100
    # Push each one-time token to the CPO before START_SESSION (CPOs that want to know it).
    push_tokens: bool = False


@dataclass(frozen=True)
class ReceiptsConfig:
    public_base_url: str = "http://127.0.0.1:8000/r/"
    link_lifetime_days: int = 90
    # Receipt page lookups allowed per client IP and minute (in-process, per web process).
    lookups_per_minute: int = 30


@dataclass(frozen=True)
class SecretsConfig:
    # A TOML file with the keys of this section; values there win over values here.
    file: str = ""
    secret_key: str = secret()
    card_hash_salt: str = secret()


@dataclass(frozen=True)
class LoggingConfig:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json: bool = False


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host (0: none).
    trusted_proxies: int = 0
    # Where the embedded database and generated secrets live; empty means `instance/` in the repo.
    instance_path: str = ""

    @property
    def instance(self) -> Path:
        return Path(self.instance_path) if self.instance_path else REPO_ROOT / "instance"


@dataclass(frozen=True)
class Config:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    operator: OperatorConfig = field(default_factory=OperatorConfig)
    operator_ui: OperatorUiConfig = field(default_factory=OperatorUiConfig)
    kiosks: list[KioskConfig] = field(default_factory=list)
    kiosk_ui: KioskUiConfig = field(default_factory=KioskUiConfig)
    terminal: TerminalConfig = field(default_factory=TerminalConfig)
    charging: ChargingConfig = field(default_factory=ChargingConfig)
    ocpi: OcpiConfig = field(default_factory=OcpiConfig)
    receipts: ReceiptsConfig = field(default_factory=ReceiptsConfig)
    secrets: SecretsConfig = field(default_factory=SecretsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    server: ServerConfig = field(default_factory=ServerConfig)

    def secret_values(self) -> list[str]:
        """Every non-empty secret value, so log filters can mask them."""
        values = []
        for section in dataclasses.fields(self):
            value = getattr(self, section.name)
            if dataclasses.is_dataclass(value):
                values += [
                    getattr(value, f.name)
                    for f in dataclasses.fields(value)
                    if f.metadata.get("secret") and getattr(value, f.name)
                ]
        return values


def load(env: typing.Mapping[str, str] | None = None, default_file: Path = DEFAULT_FILE) -> Config:
    """Build the effective configuration from every layer, validated."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    layers = [default_file] if default_file.exists() else []
    if env.get(ENV_FILE):
        layers.append(Path(env[ENV_FILE]))
    for path in layers:
        _merge(raw, _read_toml(path))
    _merge(raw, _from_env(env))
    secrets_file = raw.get("secrets", {}).get("file")
    if secrets_file:
        data = _read_toml(Path(secrets_file))
        _merge(raw, {"secrets": {k: v for k, v in data.items() if k != "file"}})
    return _check(_build(Config, raw, ""))


def _check(config: Config) -> Config:
    """Rules that span fields."""
    terminal = config.terminal
    if terminal.default_hold > terminal.maximum_hold:
        raise ConfigError(
            f"invalid value for terminal.default_hold: {str(terminal.default_hold)!r}; "
            f"expected at most terminal.maximum_hold ({terminal.maximum_hold})"
        )
    charging = config.charging
    if not Decimal(0) < charging.stop_at_hold_share <= Decimal(1):
        raise ConfigError(
            _bad("charging.stop_at_hold_share", str(charging.stop_at_hold_share), "0 < share ≤ 1")
        )
    if not (len(terminal.currency) == 3 and terminal.currency.isalpha()):
        raise ConfigError(_bad("terminal.currency", terminal.currency, "an ISO 4217 code"))
    for key in ("session_idle_minutes", "max_failed_logins", "lockout_minutes"):
        value = getattr(config.operator_ui, key)
        if value < 1:
            raise ConfigError(_bad(f"operator_ui.{key}", value, "an integer of at least 1"))
    ui = config.kiosk_ui
    if ui.idle_timeout_s < 1:
        raise ConfigError(_bad("kiosk_ui.idle_timeout_s", ui.idle_timeout_s, "at least 1"))
    if not 100 <= ui.poll_interval_ms <= 1000:
        raise ConfigError(
            _bad("kiosk_ui.poll_interval_ms", ui.poll_interval_ms, "between 100 and 1000")
        )
    if not 0 <= config.server.trusted_proxies <= 5:
        raise ConfigError(
            _bad("server.trusted_proxies", config.server.trusted_proxies, "between 0 and 5")
        )
    seen: set[str] = set()
    for i, kiosk in enumerate(config.kiosks):
        if kiosk.id in seen:
            raise ConfigError(f"invalid value for kiosks[{i}].id: {kiosk.id!r}; already used")
        seen.add(kiosk.id)
    return config


def as_dict(config: Config, mask_secrets: bool = True) -> dict[str, Any]:
    """The configuration as plain data, secrets masked, for `kiosk config show`."""

    def convert(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            return {
                f.name: MASK
                if mask_secrets and f.metadata.get("secret") and getattr(obj, f.name)
                else convert(getattr(obj, f.name))
                for f in dataclasses.fields(obj)
            }
        if isinstance(obj, list):
            return [convert(item) for item in obj]
        if isinstance(obj, Decimal):
            return str(obj)
        return obj

    return convert(config)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _merge(into: dict[str, Any], layer: dict[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _from_env(env: typing.Mapping[str, str]) -> dict[str, Any]:
    """`KIOSK_TERMINAL_DEFAULT_HOLD=30.00` → {"terminal": {"default_hold": "30.00"}}.

    Values stay strings here; `_build` converts them by the field's type. Lists are
    comma-separated; the `kiosks` list can only be set in a file.
    """
    sections = {f.name: f for f in dataclasses.fields(Config)}
    out: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_FILE:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        # The longest match wins: OPERATOR_UI_... belongs to operator_ui, not to operator.
        section = max((s for s in sections if rest.startswith(s + "_")), key=len, default=None)
        if section is None or section == "kiosks":
            continue  # other KIOSK_* variables (e.g. KIOSK_TEST_DATABASE_URL) are not ours
        out.setdefault(section, {})[rest[len(section) + 1 :]] = _EnvString(value)
    return out


class _EnvString(str):
    """A value that came from the environment, to be parsed by the field's type."""


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a table, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            raise ConfigError(
                f"unknown key {_join(where, key)}; known keys: {', '.join(sorted(known))}"
            )
    values = {}
    for name, f in known.items():
        key = _join(where, name)
        if name in data:
            values[name] = _convert(hints[name], data[name], key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"missing required key {key}")
    return cls(**values)


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    from_env = isinstance(value, _EnvString)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(_bad(key, value, "one of " + ", ".join(map(str, choices))))
        return str(value)
    if origin is list:
        (item_type,) = typing.get_args(tp)
        if from_env:
            value = [_EnvString(v.strip()) for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(_bad(key, value, "a list"))
        return [_convert(item_type, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unsupported config type {tp}")  # keep the schema simple
    if tp is bool:
        if from_env and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        if isinstance(value, bool):
            return value
        raise ConfigError(_bad(key, value, "true or false"))
    if tp is int:
        if from_env and value.strip().lstrip("-").isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(_bad(key, value, "an integer"))
    if tp is Decimal:
        return _decimal(value, key)
    if tp is str:
        if isinstance(value, str):
            return str(value)
        raise ConfigError(_bad(key, value, "a string"))
    raise TypeError(f"unsupported config type {tp}")


def _decimal(value: Any, key: str) -> Decimal:
    expected = 'an amount as a string like "50.00" (floats are not accepted for money)'
    if isinstance(value, bool | float):
        raise ConfigError(_bad(key, value, expected))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ConfigError(_bad(key, value, expected)) from None
        if amount.is_finite() and amount >= 0:
            return amount
    raise ConfigError(_bad(key, value, expected))


def _bad(key: str, value: Any, expected: str) -> str:
    return f"invalid value for {key}: {value!r}; expected {expected}"


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
