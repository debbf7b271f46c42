"""The embedded front door serves the console's build at ``/`` (issue 16), in process: a browser's
page loads and deep links get ``index.html`` (no-cache), hashed assets are immutable and
gzip-encoded when asked, API paths (with and without ``/api``) stay the API's and a non-browser
client keeps the JSON 404; a missing build is a helpful page, not a crash."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from local.console import CONSOLE_DIST, ConsoleFiles, api_segments
from studyhub.core.routing import load_routing

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def assets() -> list[str]:
    """What index.html loads (the build ships with the project: test_console_build.py checks it)."""
    index = (CONSOLE_DIST / "index.html").read_text("utf-8")
    return re.findall(r'(?:src|href)="(/assets/[^"]+)"', index)


@pytest.mark.parametrize("path", ["/", "/login", "/profile", "/student/assignments/3", "/index.html"])
def test_a_browser_gets_the_console_page(client, path):
    response = client.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"  # a new deployment shows at once
    assert response.content == (CONSOLE_DIST / "index.html").read_bytes()
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_assets_are_immutable_typed_and_gzipped(client):
    found = assets()
    assert any(a.endswith(".js") for a in found) and any(a.endswith(".css") for a in found), found
    for path in found:
        plain = client.get(path, headers={"Accept": "*/*", "Accept-Encoding": "identity"})
        assert plain.status_code == 200, path
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        kind = "text/javascript" if path.endswith(".js") else "text/css"
        assert plain.headers["content-type"].startswith(kind)
        assert plain.content == (CONSOLE_DIST / path.lstrip("/")).read_bytes()
        zipped = client.get(path, headers={"Accept": "*/*", "Accept-Encoding": "gzip, br"})
        # httpx decodes it: the same bytes, sent compressed
        assert zipped.headers["content-encoding"] == "gzip" and zipped.content == plain.content


@pytest.mark.parametrize(
    "path", ["/assets/missing.js", "/assets/", "/assets//index.html", "/assets/%2e%2e/index.html", "/assets/a\\b.js"]
)
def test_a_missing_or_escaping_asset_is_the_json_404(client, path):
    response = client.get(path, headers=HTML)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/nope", "/api/", "/nope", "/"])
def test_api_paths_and_non_browsers_keep_the_json_answers(client, path):
    response = client.get(path, headers=HTML if path.startswith("/api/") else {"Accept": "application/json"})
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    if path == "/api/" or path == "/":
        assert response.json()["name"] == "StudyHub"  # discovery, as before the console
    else:
        assert response.status_code == 404


def test_api_paths_without_the_prefix_stay_the_apis_for_a_browser_too(client):
    response = client.get("/users/area", headers=HTML)
    assert response.status_code == 200 and isinstance(response.json(), list)
    assert client.get("/health", headers=HTML).json()["status"] in ("ok", "error")


def test_only_get_and_head_reach_the_console(client):
    response = client.post("/login", headers=HTML, json={})
    assert response.status_code in (404, 405)
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_head_of_the_page_has_no_body(client):
    response = client.request("HEAD", "/profile", headers=HTML)
    assert response.status_code == 200 and response.content == b""


@pytest.mark.parametrize("name", ["../index.html", "x/../../index.html", "./index.js", "a\x00.js", ""])
def test_an_asset_name_cannot_leave_the_assets_folder(name):
    assert ConsoleFiles._inside(name, CONSOLE_DIST / "assets") is None


def test_a_missing_build_answers_how_to_build_it(tmp_path: Path):
    files = ConsoleFiles(tmp_path / "dist", api_segments(load_routing()))
    assert files.owns("GET", "/", "text/html")
    page = files.serve("/")
    assert page is not None and page.status == 404
    assert b"npm ci" in page.body and b"/api/docs" in page.body
    assert files.serve("/assets/index.js") is None


def test_gzip_copies_follow_a_rebuild(tmp_path: Path):
    (tmp_path / "index.html").write_text("<p>one</p>")
    files = ConsoleFiles(tmp_path, frozenset())
    first = files.serve("/", "gzip")
    assert first is not None and gzip.decompress(first.body) == b"<p>one</p>"
    (tmp_path / "index.html").write_text("<p>two, longer</p>")
    second = files.serve("/", "gzip")
    assert second is not None and gzip.decompress(second.body) == b"<p>two, longer</p>"
