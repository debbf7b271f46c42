"""`studyhub serve` points Alipay's return at the console's /shop/paid unless told otherwise."""

from __future__ import annotations

from studyhub.ops.cli import _console_return_url


def test_default_is_the_console_page_on_the_served_address() -> None:
    env: dict[str, str] = {}
    _console_return_url("127.0.0.1", 8000, env)
    assert env["ALIPAY_RETURN_URL"] == "http://127.0.0.1:8000/shop/paid"


def test_every_interface_is_reached_on_loopback_and_ipv6_is_bracketed() -> None:
    env: dict[str, str] = {}
    _console_return_url("0.0.0.0", 8080, env)
    assert env["ALIPAY_RETURN_URL"] == "http://127.0.0.1:8080/shop/paid"
    env = {}
    _console_return_url("::1", 8000, env)
    assert env["ALIPAY_RETURN_URL"] == "http://[::1]:8000/shop/paid"


def test_public_base_url_wins_over_the_bound_address() -> None:
    env = {"PUBLIC_BASE_URL": "https://school.example.com/"}
    _console_return_url("0.0.0.0", 8000, env)
    assert env["ALIPAY_RETURN_URL"] == "https://school.example.com/shop/paid"


def test_a_configured_return_url_is_kept() -> None:
    env = {"ALIPAY_RETURN_URL": "https://shop.example.com/home/order/success"}
    _console_return_url("127.0.0.1", 8000, env)
    assert env["ALIPAY_RETURN_URL"] == "https://shop.example.com/home/order/success"
