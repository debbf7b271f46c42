"""API.md §7: RATE_LIMIT_CAPTCHA, RATE_LIMIT_LOGIN, TRUSTED_PROXIES and IMAGE_MAX_PIXELS are parsed
once, bad values refused at startup naming the setting; §1: whom X-Forwarded-For names."""

from ipaddress import ip_network

import pytest


def load(tmp_path, **env):
    from studyhub.core.config import load_settings

    return load_settings({"STUDYHUB_VAR_DIR": str(tmp_path), "JWT_SECRET": "x" * 64, **env})


def test_defaults_are_the_contracts(tmp_path):
    settings = load(tmp_path)
    assert (settings.rate_limit_captcha.count, settings.rate_limit_captcha.window_seconds) == (30, 60)
    assert (settings.rate_limit_login.count, settings.rate_limit_login.window_seconds) == (20, 60)
    assert settings.trusted_proxies == (ip_network("127.0.0.1/32"), ip_network("::1/128"))
    assert settings.image_max_pixels == 16_000_000


@pytest.mark.parametrize("value,expected", [("5/second", (5, 1)), ("100/Minute", (100, 60)), (" 7 / hour ", (7, 3600))])
def test_a_rate_is_n_per_second_minute_or_hour(tmp_path, value, expected):
    limit = load(tmp_path, RATE_LIMIT_LOGIN=value).rate_limit_login
    assert (limit.count, limit.window_seconds) == expected


@pytest.mark.parametrize("value", ["lots", "30", "0/minute", "-1/minute", "30/day", "30/minute/x", "1.5/second"])
def test_a_bad_rate_is_refused_naming_the_setting(tmp_path, value):
    with pytest.raises(ValueError, match="RATE_LIMIT_CAPTCHA must look like 30/minute"):
        load(tmp_path, RATE_LIMIT_CAPTCHA=value)


def test_trusted_proxies_take_addresses_and_networks_or_nothing(tmp_path):
    assert load(tmp_path, TRUSTED_PROXIES="10.0.0.0/8, fd00::/8").trusted_proxies == (
        ip_network("10.0.0.0/8"),
        ip_network("fd00::/8"),
    )
    assert load(tmp_path, TRUSTED_PROXIES="").trusted_proxies == ()
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        load(tmp_path, TRUSTED_PROXIES="nginx")


def test_a_bad_image_max_pixels_is_refused(tmp_path):
    with pytest.raises(ValueError, match="IMAGE_MAX_PIXELS"):
        load(tmp_path, IMAGE_MAX_PIXELS="16M")


TRUSTED = (ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8"))


@pytest.mark.parametrize(
    "peer,forwarded_for,client",
    [
        ("203.0.113.7", None, "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # an untrusted peer's header is ignored
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "1.1.1.1, 198.51.100.1", "198.51.100.1"),  # the client's own hops don't count
        ("127.0.0.1", "198.51.100.1, 10.1.2.3", "198.51.100.1"),  # a chain of trusted proxies
        ("127.0.0.1", "10.1.2.3, 127.0.0.1", "10.1.2.3"),  # all trusted: the leftmost
        ("127.0.0.1", "not-an-ip, 198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "198.51.100.1, not-an-ip", "127.0.0.1"),  # garbage: the last proxy that vouched
        ("127.0.0.1", " [2001:db8::1] ", "2001:db8::1"),
        ("::ffff:127.0.0.1", "198.51.100.1", "198.51.100.1"),  # IPv4-mapped peer of a dual-stack socket
        ("", "198.51.100.1", "unknown"),
    ],
)
def test_the_client_is_the_last_hop_that_is_not_a_trusted_proxy(peer, forwarded_for, client):
    from studyhub.http.client_address import client_address

    assert client_address(peer, forwarded_for, TRUSTED) == client
