"""The layered configuration: precedence, validation, secrets."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk_app import config as cfg
from kiosk_app.config import ConfigError

NO_FILE = Path("/nonexistent/default.toml")


def load(tmp_path: Path, default: str = "", override: str | None = None, **env: str) -> cfg.Config:
    default_file = tmp_path / "default.toml"
    default_file.write_text(default)
    if override is not None:
        override_file = tmp_path / "override.toml"
        override_file.write_text(override)
        env["KIOSK_CONFIG"] = str(override_file)
    return cfg.load(env=env, default_file=default_file)


def test_built_in_defaults_stand_alone():
    config = cfg.load(env={}, default_file=NO_FILE)
    assert config.terminal.default_hold == Decimal("50.00")
    assert config.database.url == ""
    assert config.kiosks == []


def test_each_layer_overrides_the_one_before(tmp_path):
    config = load(
        tmp_path,
        default='[terminal]\ndefault_hold = "30.00"\ncurrency = "SEK"\n[server]\nport = 9000\n',
        override='[terminal]\ndefault_hold = "40.00"\n',
        KIOSK_TERMINAL_DEFAULT_HOLD="45.50",
    )
    assert config.terminal.default_hold == Decimal("45.50")  # environment wins
    assert config.terminal.currency == "SEK"  # from the default file, untouched by others
    assert config.server.port == 9000


def test_environment_values_are_parsed_by_type(tmp_path):
    config = load(
        tmp_path,
        KIOSK_SERVER_PORT="8123",
        KIOSK_LOGGING_JSON="true",
        KIOSK_OPERATOR_ADDRESS="Street 1, 12345 Town",
    )
    assert config.server.port == 8123
    assert config.logging.json is True
    assert config.operator.address == ["Street 1", "12345 Town"]


def test_unrelated_kiosk_variables_are_ignored(tmp_path):
    config = load(tmp_path, KIOSK_TEST_DATABASE_URL="postgresql://x")
    assert config.database.url == ""


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[terminal]\ndefualt_hold = 1\n", "unknown key terminal.defualt_hold"),
        ("[nonsense]\nx = 1\n", "unknown key nonsense"),
        (
            '[server]\nport = "eighty"\n',
            "invalid value for server.port: 'eighty'; expected an integer",
        ),
        ("[terminal]\ndefault_hold = 12.5\n", "terminal.default_hold: 12.5; expected an amount"),
        ("[server]\ntrusted_proxies = 9\n", "server.trusted_proxies: 9; expected between 0 and 5"),
        ('[terminal]\ncapture_style = "both"\n', "expected one of book_total, partial_reversal"),
        ("[logging]\njson = 1\n", "invalid value for logging.json: 1; expected true or false"),
        ('[operator]\naddress = "one line"\n', "operator.address: 'one line'; expected a list"),
        ('[[kiosks]]\nname = "x"\nterminal_link = "sim://"\n', "missing required key kiosks[0].id"),
        ('[terminal]\ndefault_hold = "200"\n', "expected at most terminal.maximum_hold (150.00)"),
        ('[terminal]\ncurrency = "EURO"\n', "terminal.currency: 'EURO'; expected an ISO 4217 code"),
        ("[server\n", "is not valid TOML"),
    ],
)
def test_bad_values_name_the_key_and_the_expectation(tmp_path, toml, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(tmp_path, override=toml)


def test_bad_environment_value_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("invalid value for server.port: 'x'")):
        load(tmp_path, KIOSK_SERVER_PORT="x")


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("config file /nope.toml does not exist")):
        cfg.load(env={"KIOSK_CONFIG": "/nope.toml"}, default_file=NO_FILE)


def test_duplicate_kiosk_ids_are_refused(tmp_path):
    kiosk = '[[kiosks]]\nid = "a"\nname = "A"\nterminal_link = "sim://"\n'
    with pytest.raises(ConfigError, match=r"kiosks\[1\].id: 'a'; already used"):
        load(tmp_path, override=kiosk * 2)


def test_kiosks_are_read_from_files(tmp_path):
    config = load(
        tmp_path,
        override='[[kiosks]]\nid = "k1"\nname = "Park"\nterminal_link = "/dev/ttyUSB0"\n'
        'default_language = "sv"\nevses = ["DE*KSK*E1"]\n',
    )
    (kiosk,) = config.kiosks
    assert (kiosk.id, kiosk.default_language, kiosk.evses) == ("k1", "sv", ["DE*KSK*E1"])


def test_secrets_file_supplies_secrets_and_they_are_masked(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('secret_key = "s3cr3t-key-value"\ncard_hash_salt = "pepper"\n')
    config = load(tmp_path, KIOSK_SECRETS_FILE=str(secrets), KIOSK_TERMINAL_PASSWORD="123456")
    assert config.secrets.secret_key == "s3cr3t-key-value"
    shown = cfg.as_dict(config)
    assert shown["secrets"]["secret_key"] == cfg.MASK
    assert shown["terminal"]["password"] == cfg.MASK
    assert shown["secrets"]["file"] == str(secrets)
    assert set(config.secret_values()) == {"s3cr3t-key-value", "pepper", "123456"}


def test_shipped_files_are_valid(tmp_path):
    root = cfg.REPO_ROOT / "config"
    cfg.load(env={}, default_file=root / "default.toml")
    example = {"KIOSK_CONFIG": str(root / "example.production.toml"), "KIOSK_SECRETS_FILE": ""}
    config = cfg.load(env=example, default_file=root / "default.toml")
    assert config.database.url.startswith("postgresql")


def test_every_key_is_documented():
    documented = (cfg.REPO_ROOT / "docs" / "configuration.md").read_text()
    shown = cfg.as_dict(cfg.Config(kiosks=[cfg.KioskConfig(id="k", name="k", terminal_link="x")]))
    keys = [
        f"{section}[].{key}" if isinstance(values, list) else f"{section}.{key}"
        for section, values in shown.items()
        for key in (values[0] if isinstance(values, list) else values)
    ]
    assert [key for key in keys if f"`{key}`" not in documented] == []
