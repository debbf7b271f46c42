"""API.md §1 Rate limits: captcha images and login attempts per client address, on both stacks
(the embedded cache and Redis). The client is the socket's peer, or, when that peer is a trusted
proxy, the last X-Forwarded-For hop that isn't one."""

import uuid

import pytest
from conftest import DEFAULT_PASSWORD, captcha_answer

CLIENT = "203.0.113.7"  # TEST-NET addresses: never a trusted proxy
OTHER_CLIENT = "198.51.100.23"


@pytest.fixture
def strict_limits(platform, monkeypatch):
    """The contract's defaults (the test stack sets generous ones: tests log in a lot)."""
    from studyhub.core import config

    monkeypatch.setenv("RATE_LIMIT_CAPTCHA", "30/minute")
    monkeypatch.setenv("RATE_LIMIT_LOGIN", "20/minute")
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1,::1")
    config.reset()
    yield
    monkeypatch.undo()
    config.reset()


def captcha(client, headers=None):
    return client.get(
        f"/api/users/image/verification/{uuid.uuid4()}", headers={"Accept": "image/png", **(headers or {})}
    )


def attempt_login(client, username, password="wrong-password-1", headers=None):
    return client.post(
        "/api/users/login",
        json={"username": username, "password": password, "uuid": str(uuid.uuid4()), "verify": "abcd"},
        headers=headers,
    )


def assert_rate_limited(response):
    assert response.status_code == 429, response.text
    assert response.json() == {"detail": response.json()["detail"], "code": "rate_limited"}
    assert 1 <= int(response.headers["retry-after"]) <= 60


def test_the_31st_captcha_in_a_minute_is_429_with_retry_after(client, strict_limits):
    peer = client.from_address(CLIENT)
    for _ in range(30):
        assert captcha(peer).status_code == 200
    assert_rate_limited(captcha(peer))
    assert captcha(client.from_address(OTHER_CLIENT)).status_code == 200  # per client, not global


def test_a_rate_limited_captcha_is_not_stored(client, strict_limits):
    peer = client.from_address(CLIENT)
    for _ in range(30):
        captcha(peer)
    key = str(uuid.uuid4())
    assert peer.get(f"/api/users/image/verification/{key}", headers={"Accept": "image/png"}).status_code == 429
    assert captcha_answer(key) is None


def test_spraying_21_usernames_from_one_address_is_429(client, strict_limits):
    peer = client.from_address(CLIENT)
    for n in range(20):
        response = attempt_login(peer, f"victim{n}")
        assert response.status_code == 400, response.text  # wrong captcha, counted all the same
    assert_rate_limited(attempt_login(peer, "victim20"))


def test_the_right_password_is_refused_too_once_the_address_is_over_the_limit(client, student, strict_limits):
    peer = client.from_address(CLIENT)
    for n in range(20):
        attempt_login(peer, f"someone{n}")
    key = str(uuid.uuid4())
    assert client.get(f"/api/users/image/verification/{key}", headers={"Accept": "image/png"}).status_code == 200
    body = {"username": student.username, "password": DEFAULT_PASSWORD, "uuid": key, "verify": captcha_answer(key)}
    assert_rate_limited(peer.post("/api/users/login", json=body))
    assert client.from_address(OTHER_CLIENT).post("/api/users/login", json=body).status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited_not_the_proxy(client, strict_limits):
    proxy = client.from_address("127.0.0.1")  # the local Nginx
    first = {"X-Forwarded-For": CLIENT}
    second = {"X-Forwarded-For": f"{OTHER_CLIENT}, 127.0.0.1"}  # a chain of trusted proxies
    for _ in range(30):
        assert captcha(proxy, first).status_code == 200
    assert_rate_limited(captcha(proxy, first))
    assert captcha(proxy, second).status_code == 200  # the proxy itself is not the one limited
    assert captcha(proxy).status_code == 200


def test_a_client_cannot_pick_its_address_by_prepending_hops_behind_a_trusted_proxy(client, strict_limits):
    proxy = client.from_address("127.0.0.1")
    for n in range(30):
        # what Nginx sends when the client wrote its own X-Forwarded-For: "<forged>, <real peer>"
        assert captcha(proxy, {"X-Forwarded-For": f"10.0.0.{n}, {CLIENT}"}).status_code == 200
    assert_rate_limited(captcha(proxy, {"X-Forwarded-For": f"10.1.1.1, {CLIENT}"}))


def test_an_untrusted_peers_forwarded_for_is_ignored(client, strict_limits):
    peer = client.from_address(CLIENT)
    for n in range(30):
        assert captcha(peer, {"X-Forwarded-For": f"10.0.0.{n}"}).status_code == 200
    assert_rate_limited(captcha(peer, {"X-Forwarded-For": "10.9.9.9"}))


def test_login_and_captcha_limits_are_counted_apart(client, strict_limits):
    peer = client.from_address(CLIENT)
    for n in range(20):
        attempt_login(peer, f"user{n}")
    assert captcha(peer).status_code == 200
