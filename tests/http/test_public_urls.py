"""API.md §1 Absolute URLs, on both stacks: with ``PUBLIC_BASE_URL`` set, ``next``/``previous`` and
every media URL (avatars, commodity images) are absolute URLs on it, as DRF gives; unset, they stay
absolute paths under ``/api``."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest

BASE = "https://school.example.com"


@pytest.fixture
def public_base_url(monkeypatch):
    from studyhub.core import config

    monkeypatch.setenv("PUBLIC_BASE_URL", BASE + "/")  # a trailing slash is tolerated
    config.reset()
    yield BASE
    monkeypatch.delenv("PUBLIC_BASE_URL")
    config.reset()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def _pages(client, superuser, make_user) -> tuple[dict, dict]:
    for _ in range(3):
        make_user("student")
    admin = client.as_user(superuser)
    first = admin.get("/api/users/users?size=2&search=student").json()
    second = admin.get("/api/users/users?page=2&size=2&search=student").json()
    return first, second


def test_without_the_setting_links_are_absolute_paths_under_api(client, superuser, make_user):
    first, second = _pages(client, superuser, make_user)
    assert first["next"] == "/api/users/users?size=2&search=student&page=2"
    assert second["previous"] == "/api/users/users?size=2&search=student"


def test_with_the_setting_next_and_previous_are_urls_on_it(client, superuser, make_user, public_base_url):
    first, second = _pages(client, superuser, make_user)
    assert first["next"] == f"{BASE}/api/users/users?size=2&search=student&page=2"
    assert second["previous"] == f"{BASE}/api/users/users?size=2&search=student"
    admin = client.as_user(superuser)
    by_offset = admin.get("/api/users/users?limit=1&offset=1&search=student").json()
    assert by_offset["next"] == f"{BASE}/api/users/users?limit=1&offset=2&search=student"
    assert by_offset["previous"] == f"{BASE}/api/users/users?limit=1&search=student"
    # the link is the page it names once the host is the front door
    assert admin.get(urlsplit(first["next"])._replace(scheme="", netloc="").geturl()).json() == second


def test_with_the_setting_avatar_urls_are_urls_on_it_and_serve_the_file(client, student, public_base_url):
    me = client.as_user(student)
    image = _png()
    uploaded = me.post(f"/api/users/users/{student.id}/avatar", files={"file": ("a.png", image, "image/png")})
    url = uploaded.json()["data"]
    assert url.startswith(f"{BASE}/api/media/") and url.endswith(".png")
    assert me.get(f"/api/users/users/{student.id}").json()["avatar"] == url
    assert client.get(urlsplit(url).path).content == image


def test_without_the_setting_avatar_urls_are_paths(client, student):
    me = client.as_user(student)
    uploaded = me.post(f"/api/users/users/{student.id}/avatar", files={"file": ("a.png", _png(), "image/png")})
    url = uploaded.json()["data"]
    assert url.startswith("/api/media/")


def test_with_the_setting_a_commodity_image_on_this_site_is_a_url_on_it(client, superuser, public_base_url):
    admin = client.as_user(superuser)
    local = admin.post(
        "/api/shopping/commodities", json={"name": "本子", "price": "3.00", "image": "/api/media/c/1.png"}
    )
    assert local.status_code == 201, local.text
    assert local.json()["image"] == f"{BASE}/api/media/c/1.png"
    elsewhere = admin.post(
        "/api/shopping/commodities", json={"name": "笔", "price": "2.00", "image": "https://cdn.example.net/2.png"}
    )
    assert elsewhere.json()["image"] == "https://cdn.example.net/2.png"  # already a URL: as given
    listed = {row["name"]: row["image"] for row in admin.get("/api/shopping/commodities").json()["results"]}
    assert listed == {"本子": f"{BASE}/api/media/c/1.png", "笔": "https://cdn.example.net/2.png"}


@pytest.mark.parametrize("value", ["school.example.com", "https://school.example.com/?x=1", "ftp://school"])
def test_a_malformed_public_base_url_refuses_to_load(value):
    from studyhub.core.config import load_settings

    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        load_settings({"PUBLIC_BASE_URL": value, "JWT_SECRET": "x" * 64})
