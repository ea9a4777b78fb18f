"""Behind a reverse proxy (server.trusted_proxies = 1) the audit log records the client's
address from X-Forwarded-For, believing only the hop the proxy added."""

from __future__ import annotations

import dataclasses

import pytest
from operator_helpers import audit_entries, login

from kiosk_app.config import Config


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, server=dataclasses.replace(config.server, trusted_proxies=1))


@pytest.mark.parametrize(
    ("forwarded_for", "recorded"),
    [
        ("203.0.113.7", "203.0.113.7"),
        # a client's own forged entry comes first; the proxy appends the real peer
        ("10.9.9.9, 203.0.113.7", "203.0.113.7"),
    ],
)
def test_the_audit_log_records_the_address_the_proxy_saw(app, admin, forwarded_for, recorded):
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    assert login(client, admin.username).status_code == 302
    (entry,) = audit_entries(app, "login.success")
    assert entry.remote_addr == recorded
