"""API.md §1 Headers, through the local front door on both stacks: every answer carries
``X-Content-Type-Options: nosniff`` and ``X-Request-Id``; answers to authenticated requests carry
``Cache-Control: no-store``; a ``401`` says ``WWW-Authenticate: Bearer``."""

from __future__ import annotations

import io
import uuid

import pytest
from conftest import login


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(out, format="PNG")
    return out.getvalue()


def _every_kind_of_answer(client, user) -> list:
    """A view's 200, its errors, the front door's own 404, a media file, a PNG, a preflight."""
    me = client.as_user(user)
    avatar = me.post(f"/api/users/users/{user.id}/avatar", files={"file": ("a.png", _png(), "image/png")})
    assert avatar.status_code == 200, avatar.text
    return [
        client.get("/api/users/area"),
        client.get(f"/api/users/image/verification/{uuid.uuid4()}"),
        client.get("/api/users/users"),
        client.post("/api/users/login", content=b"{", headers={"Content-Type": "application/json"}),
        client.get("/api/no/such/path"),
        client.delete("/api/users/area"),
        client.get(avatar.json()["data"]),
        client.request("OPTIONS", "/api/users/login"),
        me.get(f"/api/users/users/{user.id}"),
    ]


def test_every_answer_carries_nosniff_and_a_request_id(client, student):
    answers = _every_kind_of_answer(client, student)
    assert [r.status_code for r in answers] == [200, 200, 401, 400, 404, 405, 200, 204, 200]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url
        assert response.headers["x-request-id"], response.request.url


def test_the_request_id_sent_is_the_one_echoed_on_the_front_doors_own_answers_too(client):
    for path in ("/api/users/area", "/api/no/such/path", "/api/media/x/missing.png"):
        assert client.get(path, headers={"X-Request-Id": "frontend-42"}).headers["x-request-id"] == "frontend-42"


@pytest.mark.parametrize(
    "path", ["/api/users/area", "/api/users/users", "/api/no/such/path", "/api/media/x/missing.png"]
)
def test_an_authenticated_request_is_never_stored_by_a_cache(client, student, path):
    response = client.as_user(student).get(path)
    assert response.headers["cache-control"] == "no-store"


def test_an_authenticated_request_for_a_media_file_is_no_store_an_anonymous_one_cacheable(client, student):
    me = client.as_user(student)
    uploaded = me.post(f"/api/users/users/{student.id}/avatar", files={"file": ("a.png", _png(), "image/png")})
    url = uploaded.json()["data"]
    assert me.get(url).headers["cache-control"] == "no-store"
    assert "max-age" in client.get(url).headers["cache-control"]


def test_an_anonymous_public_answer_is_not_marked_no_store(client):
    assert "cache-control" not in client.get("/api/users/area").headers


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer a b"], ids=["none", "bad", "basic", "3"]
)
def test_a_401_says_which_scheme_to_use(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/api/users/users", headers=headers, token="")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] in ("not_authenticated", "token_invalid")


def test_a_wrong_password_is_a_400_not_a_401_challenge(client, student):
    response = login(client, student.username, "wrong-password-1")
    assert response.status_code == 400 and "www-authenticate" not in response.headers
