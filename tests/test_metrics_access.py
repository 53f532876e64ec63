"""Who may read /metrics (issue 15): the app itself answers only client addresses in METRICS_ALLOW (by
default this machine and the private networks), as ProxyFix reports them, so reaching gunicorn directly
or forging X-Forwarded-For gets nothing."""
from __future__ import annotations

import pytest

import config
from mockup import create_app

from .conftest import app_with_tables


def status_from(app, address: str, **headers: str) -> int:
    return app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": address}, headers=headers).status_code


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "10.1.2.3", "172.20.0.5", "192.168.1.40",
                                     "fd12:3456::7", "::ffff:192.168.1.40"])
def test_this_machine_and_private_networks_may_read(app, address):
    assert status_from(app, address) == 200


@pytest.mark.parametrize("address", ["203.0.113.9", "172.32.0.1", "2001:db8::1", "::ffff:8.8.8.8", "not-an-address"])
def test_any_other_address_is_refused(app, address):
    assert status_from(app, address) == 403


def test_the_address_is_the_one_proxyfix_trusts(app_config):
    with app_with_tables({**app_config, "PROXY_COUNT": 1}) as app:
        # nginx on the LAN passes on an outside client: refused; a LAN client: answered.
        assert status_from(app, "10.0.0.2", **{"X-Forwarded-For": "203.0.113.9"}) == 403
        assert status_from(app, "10.0.0.2", **{"X-Forwarded-For": "192.168.1.40"}) == 200
        # An outsider cannot talk its way in by sending a private address of its own before nginx's.
        assert status_from(app, "10.0.0.2", **{"X-Forwarded-For": "192.168.1.40, 203.0.113.9"}) == 403


def test_metrics_allow_is_read_from_the_environment(app_config):
    allowed = config.from_env({"METRICS_ALLOW": "203.0.113.0/24, 2001:db8::5"})["METRICS_ALLOW"]
    with app_with_tables({**app_config, "METRICS_ALLOW": allowed}) as app:
        assert status_from(app, "203.0.113.9") == 200
        assert status_from(app, "2001:db8::5") == 200
        assert status_from(app, "127.0.0.1") == 403  # the list replaces the default, loopback included


def test_a_malformed_metrics_allow_stops_the_app_with_a_clear_message():
    with pytest.raises(config.ConfigError, match="METRICS_ALLOW must be comma-separated networks"):
        config.from_env({"METRICS_ALLOW": "10.0.0.0/8,intranet"})


def test_the_default_is_loopback_and_the_private_ranges(app_config):
    app = create_app(app_config)
    assert [str(network) for network in app.config["METRICS_ALLOW"]] == [
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
