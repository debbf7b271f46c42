"""API.md §1 CORS, through the local front door on both stacks: one setting, ``CORS_ALLOW_ORIGINS``
(default: any ``http://localhost:<port>`` and ``http://127.0.0.1:<port>``); an allowed origin can
read every answer, errors and the front door's own answers included; a preflight gets the route's
methods; a disallowed origin gets no ``Access-Control-*`` header at all."""

from __future__ import annotations

import uuid

import pytest

DEV = "http://localhost:5173"
SCHOOL = "https://school.example.com"


@pytest.fixture
def cors_setting(monkeypatch):
    """``cors_setting("...")``: CORS_ALLOW_ORIGINS for this test only."""
    from studyhub.core import config

    def apply(value: str) -> None:
        monkeypatch.setenv("CORS_ALLOW_ORIGINS", value)
        config.reset()

    yield apply
    monkeypatch.delenv("CORS_ALLOW_ORIGINS", raising=False)
    config.reset()


def access_control(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def assert_readable_by(response, origin: str) -> None:
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-expose-headers"] == "X-Request-Id, Retry-After"
    assert "Origin" in [v.strip() for v in response.headers["vary"].split(",")]


def preflight(client, path: str, origin: str, method: str = "POST"):
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    return client.request("OPTIONS", path, headers=headers, token="")


def test_an_allowed_origin_reads_every_answer_errors_and_the_front_doors_own_included(client, student):
    answers = [
        client.get("/api/users/area", headers={"Origin": DEV}),  # 200
        client.get("/api/users/users", headers={"Origin": DEV}),  # 401 (no token)
        client.as_user(student).get("/api/users/users", headers={"Origin": DEV}),  # 403
        client.get("/api/users/area/1", headers={"Origin": DEV}),  # 404 from the function
        client.get("/api/nowhere/at/all", headers={"Origin": DEV}),  # 404 from the front door
        client.get("/api/media/none/missing.png", headers={"Origin": DEV}),  # the front door's media
        client.delete("/api/users/area", headers={"Origin": DEV}),  # 405
        client.as_user(student).post("/api/users/address", json={}, headers={"Origin": DEV}),  # 400
    ]
    assert [r.status_code for r in answers] == [200, 401, 403, 404, 404, 404, 405, 400]
    for response in answers:
        assert_readable_by(response, DEV)


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/users/users", "GET, POST"),
        ("/api/users/users/7/", "GET, PUT, PATCH, DELETE"),
        ("/api/shopping/orders/status", "PUT"),
        ("/api/", "GET"),
    ],
)
def test_a_preflight_answers_204_with_the_routes_methods_headers_and_max_age(client, path, methods):
    response = preflight(client, path, DEV)
    assert response.status_code == 204
    assert response.content == b""
    assert_readable_by(response, DEV)
    assert response.headers["access-control-allow-methods"] == methods
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-request-id"} <= allowed
    assert response.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in response.headers  # tokens never travel in cookies


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:8080", "http://localhost"])
def test_by_default_any_local_dev_server_is_allowed(client, origin):
    assert_readable_by(client.get("/api/users/area", headers={"Origin": origin}), origin)
    assert_readable_by(preflight(client, "/api/users/login", origin), origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost.evil.example",
        "http://localhost:5173.evil.example",
        "https://localhost:5173",  # not http
        "http://127.0.0.2:8080",
        "null",
    ],
)
def test_a_disallowed_origin_gets_no_access_control_header_at_all(client, origin):
    answers = [
        client.get("/api/users/area", headers={"Origin": origin}),
        client.get("/api/users/users", headers={"Origin": origin}),
        client.get("/api/nowhere", headers={"Origin": origin}),
        preflight(client, "/api/users/login", origin),
    ]
    for response in answers:
        assert access_control(response) == {}, response.headers
    assert answers[-1].status_code == 204  # the OPTIONS itself still answers, the browser blocks the call


def test_the_setting_replaces_the_default_with_its_list(client, cors_setting):
    cors_setting(f"{SCHOOL}, https://admin.example.com/")
    assert_readable_by(client.get("/api/users/area", headers={"Origin": SCHOOL}), SCHOOL)
    assert_readable_by(preflight(client, "/api/users/login", "https://admin.example.com"), "https://admin.example.com")
    assert access_control(client.get("/api/users/area", headers={"Origin": DEV})) == {}
    assert access_control(preflight(client, "/api/users/login", DEV)) == {}


def test_a_star_allows_every_origin(client, cors_setting):
    cors_setting("*")
    for origin in (SCHOOL, "http://anything.example:8081"):
        assert_readable_by(client.get("/api/users/users", headers={"Origin": origin}), origin)


def test_a_port_wildcard_allows_that_host_on_any_port_only(client, cors_setting):
    cors_setting("http://school.lan:*")
    assert_readable_by(
        client.get("/api/users/area", headers={"Origin": "http://school.lan:8081"}), "http://school.lan:8081"
    )
    assert access_control(client.get("/api/users/area", headers={"Origin": "http://school.lan.evil:80"})) == {}


@pytest.mark.parametrize("value", ["school.example.com", "https://school.example.com/app", "ftp://x", "http://a:b"])
def test_a_malformed_origin_setting_refuses_to_load(value):
    from studyhub.core.config import load_settings

    with pytest.raises(ValueError, match="CORS_ALLOW_ORIGINS"):
        load_settings({"CORS_ALLOW_ORIGINS": value, "JWT_SECRET": "x" * 64})


def test_without_an_origin_header_nothing_cors_is_added_but_vary_says_it_depends(client):
    response = client.get("/api/users/area")
    assert access_control(response) == {}
    assert response.headers["vary"] == "Origin"


def test_a_rate_limited_answer_exposes_retry_after_to_the_page(client, monkeypatch):
    from studyhub.core import config

    monkeypatch.setenv("RATE_LIMIT_CAPTCHA", "1/minute")
    config.reset()
    try:
        for _ in range(2):
            response = client.get(f"/api/users/image/verification/{uuid.uuid4()}", headers={"Origin": DEV})
    finally:
        monkeypatch.undo()
        config.reset()
    assert response.status_code == 429
    assert_readable_by(response, DEV)
    assert response.headers["retry-after"]
