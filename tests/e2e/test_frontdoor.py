"""The embedded front door (``local/frontdoor.py``), in process: unknown paths and methods in the
contract's JSON, HEAD, the body limit, media serving without path traversal, request ids; and
proof that routes.yaml and every function's Chalice app declare exactly the same routes.

The Nginx config generator is checked here as text; ``test_frontdoor_nginx.py`` runs it for real.
"""

from __future__ import annotations

import io
import os
import sys

import pytest

JSON_TYPE = "application/json; charset=utf-8"


def _routing():
    from studyhub.core.routing import load_routing

    return load_routing()


FUNCTIONS = sorted(_routing().functions)  # read at collection: a new function is tested at once


def assert_contract_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    assert body["code"] == code and isinstance(body["detail"], str) and body["detail"]
    return body


# --- routing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/nope",
        "/nope",
        "/api/users",
        "/api/users/nope",
        "/api/users/users/1/nope",
        "/api/nope/health",
    ],
)
def test_unknown_path_is_404_in_the_contracts_json(client, path):
    assert_contract_error(client.get(path), 404, "not_found")


def test_unknown_path_is_404_for_every_method(client):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert_contract_error(client.request(method, "/api/nope", json={}), 404, "not_found")


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/api/users/area")
    assert_contract_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"
    response = client.get("/api/users/login")
    assert_contract_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    response = client.request("PURGE", "/api/users/users")
    assert_contract_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"


def test_trailing_slash_is_tolerated(client):
    assert client.get("/api/users/area/").json() == client.get("/api/users/area").json()
    assert client.get("/users/area").status_code == 200  # the form Nginx forwards (/api stripped)


def test_head_answers_like_get_without_a_body(client):
    get = client.get("/api/users/area")
    head = client.request("HEAD", "/api/users/area")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"] == JSON_TYPE
    assert int(head.headers["content-length"]) == len(get.content) > 0  # the length GET would send
    assert_contract_error(client.get("/api/users/login"), 405, "method_not_allowed")
    assert client.request("HEAD", "/api/users/login").status_code == 405  # POST-only: no HEAD either


# --- body limit ----------------------------------------------------------------------------


@pytest.fixture
def body_limit(platform):
    """MAX_BODY_BYTES lowered to 4 KiB for one test (settings are read once per process)."""
    from studyhub.core import config

    saved = os.environ.get("MAX_BODY_BYTES")
    os.environ["MAX_BODY_BYTES"] = "4096"
    config.reset()
    yield 4096
    if saved is None:
        os.environ.pop("MAX_BODY_BYTES", None)
    else:
        os.environ["MAX_BODY_BYTES"] = saved
    config.reset()


def test_body_over_max_body_bytes_is_413(client, body_limit):
    big = b'{"username": "' + b"x" * body_limit + b'"}'
    response = client.post("/api/users/login", content=big, headers={"Content-Type": "application/json"})
    assert_contract_error(response, 413, "payload_too_large")
    assert response.headers["x-request-id"]
    # the same at an unknown path: the front door refuses before routing
    assert_contract_error(client.post("/api/nope", content=big), 413, "payload_too_large")


def test_body_at_the_limit_reaches_the_function(client, body_limit):
    body = b'{"username": "' + b"x" * (body_limit - 40) + b'"}'
    assert len(body) <= body_limit
    response = client.post("/api/users/login", content=body, headers={"Content-Type": "application/json"})
    assert_contract_error(response, 400, "captcha_required")  # the function answered


# --- media ---------------------------------------------------------------------------------


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_media_serves_stored_files(client):
    from studyhub.clients.storage import get_storage

    data = _png()
    storage = get_storage()
    key = storage.save(data, prefix="avatars", extension="png", content_type="image/png")
    url = storage.url(key)
    assert url == f"/api/media/{key}"
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    head = client.request("HEAD", url)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"] == "image/png"


@pytest.mark.parametrize("path", ["/api/media/avatars/missing.png", "/api/media/", "/api/media/avatars"])
def test_missing_media_is_404_json(client, path):
    assert_contract_error(client.get(path), 404, "not_found")


def _wsgi_get(app, raw_path: str) -> tuple[str, dict[str, str], bytes]:
    """Call the front door with PATH_INFO exactly as given (an HTTP client would normalise ../)."""
    captured: dict = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = {k.lower(): v for k, v in headers}

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": raw_path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "HTTP_ACCEPT": "*/*",
    }
    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body


@pytest.mark.parametrize(
    "raw_path",
    [
        "/api/media/../private.txt",
        "/api/media/avatars/../../private.txt",
        "/api/media/%2e%2e/private.txt",
        "/api/media//etc/passwd",
        "/api/media/../../../../etc/passwd",
        "/media/../private.txt",
    ],
)
def test_media_paths_cannot_escape_the_media_folder(platform, raw_path):
    from local.frontdoor import FrontDoor
    from studyhub.core.config import get_settings

    media_root = get_settings().var_dir / "media"
    media_root.mkdir(parents=True, exist_ok=True)
    (media_root.parent / "private.txt").write_text("private-beside-media")
    status, headers, body = _wsgi_get(FrontDoor(["users"]), raw_path)
    assert status.startswith("404"), (status, body)
    assert headers["content-type"] == JSON_TYPE
    assert b"private-beside-media" not in body and b"root:" not in body


# --- request ids ---------------------------------------------------------------------------


def test_request_id_is_echoed(client):
    response = client.get("/api/users/area", headers={"X-Request-Id": "fd-test-123"})
    assert response.headers["x-request-id"] == "fd-test-123"
    own = client.get("/api/nope", headers={"X-Request-Id": "fd-test-404"})  # the front door's own answer
    assert own.status_code == 404 and own.headers["x-request-id"] == "fd-test-404"


def test_a_request_id_is_made_when_none_is_given(client):
    first = client.get("/api/users/health").headers["x-request-id"]
    second = client.get("/api/nope").headers["x-request-id"]
    assert first and second and first != second


# --- routes.yaml == every function's Chalice routes ---------------------------------------


@pytest.fixture
def private_var(tmp_path):
    """Loading an app sets up logging and settings: keep them off the repository's ./var."""
    from studyhub.core import config

    saved = {k: os.environ.get(k) for k in ("STUDYHUB_VAR_DIR", "LOG_FILE")}
    if not saved["STUDYHUB_VAR_DIR"]:
        os.environ["STUDYHUB_VAR_DIR"] = str(tmp_path / "var")
        os.environ["LOG_FILE"] = str(tmp_path / "var" / "logs" / "studyhub.log")
        config.reset()
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    config.reset()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_routes_yaml_and_the_chalice_app_declare_the_same_routes(name, private_var):
    from local.loader import load_app

    function = _routing().functions[name]
    listed = [(path, method) for path, methods in function.routes for method in methods]
    assert len(listed) == len(set(listed)), f"routes.yaml lists a route twice for {name}"
    app = load_app(name)
    declared = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert set(listed) == declared, (
        f"only in routes.yaml: {sorted(set(listed) - declared)}; only in the app: {sorted(declared - set(listed))}"
    )
    assert (f"{function.prefix}/health", "GET") in declared
    assert all(path.startswith(function.prefix + "/") for path, _ in declared), "a route outside the prefix"


def test_every_function_directory_is_in_routes_yaml():
    from studyhub.core.routing import FUNCTIONS_DIR

    on_disk = {p.parent.name for p in FUNCTIONS_DIR.glob("*/app.py")}
    assert on_disk <= set(_routing().functions), f"not in routes.yaml: {sorted(on_disk - set(_routing().functions))}"


def test_prefixes_do_not_overlap():
    prefixes = [fn.prefix for fn in _routing().functions.values()]
    assert len(prefixes) == len(set(prefixes))
    # one segment each; the one empty prefix is the root of /api (meta: discovery, OpenAPI, docs)
    assert all((p.startswith("/") and p.count("/") == 1) or p == "" for p in prefixes)


# --- the Nginx config, as text -------------------------------------------------------------


def _upstreams() -> dict[str, list[str]]:
    return {name: [f"127.0.0.1:{9000 + i}"] for i, name in enumerate(FUNCTIONS)}


def test_nginx_config_has_an_upstream_and_a_location_per_function(private_var):
    from local.nginx import render_config

    conf = render_config(_upstreams(), listen="8081")
    prefix = _routing().prefix
    for name, fn in _routing().functions.items():
        assert f"upstream studyhub_{name} {{\n    server 127.0.0.1:{9000 + FUNCTIONS.index(name)} " in conf
        assert f"location {prefix}{fn.prefix}/ {{" in conf
        assert f"proxy_pass http://studyhub_{name};" in conf
    assert "listen 8081;" in conf
    assert f"rewrite ^{prefix}(/.*)$ $1 break;" in conf


def test_nginx_body_limit_defaults_to_max_body_bytes(private_var):
    from local.nginx import render_config
    from studyhub.core.config import get_settings

    assert f"client_max_body_size {get_settings().max_body_bytes};" in render_config(_upstreams())
    assert "client_max_body_size 2m;" in render_config(_upstreams(), max_body="2m")


def test_nginx_config_refuses_a_function_without_upstream(private_var):
    from local.nginx import render_config

    upstreams = _upstreams()
    upstreams.pop("users")
    with pytest.raises(ValueError, match="users"):
        render_config(upstreams)


def test_nginx_config_command_takes_upstreams_per_function(private_var):
    from click.testing import CliRunner

    from studyhub.ops.cli import main

    result = CliRunner().invoke(
        main, ["nginx-config", "--listen", "8088", "--upstream", "users=10.0.0.1:8000,10.0.0.2:8000"]
    )
    assert result.exit_code == 0, result.output
    assert "server 10.0.0.1:8000 " in result.output and "server 10.0.0.2:8000 " in result.output
    assert "listen 8088;" in result.output
    assert "location /api/media/ {\n        limit_except GET" in result.output  # proxied to a function
    bad = CliRunner().invoke(main, ["nginx-config", "--upstream", "nope=10.0.0.1:8000"])
    assert bad.exit_code == 1 and "unknown function" in bad.output


def test_nginx_config_command_serves_media_from_disk_with_media_root(private_var, tmp_path):
    from click.testing import CliRunner

    from studyhub.ops.cli import main

    result = CliRunner().invoke(main, ["nginx-config", "--media-root", str(tmp_path / "media")])
    assert result.exit_code == 0, result.output
    assert f"alias {(tmp_path / 'media').resolve()}/;" in result.output
    assert "limit_except" not in result.output
