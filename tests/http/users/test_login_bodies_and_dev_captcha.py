"""A frontend's first hour (issue 12), on both stacks: the login takes JSON, a form and a
multipart form as DRF did, and ``studyhub captcha-answer UUID`` prints a live captcha's answer so a
developer or an end-to-end test can log in without reading the image."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from conftest import DEFAULT_PASSWORD, captcha_answer


def _fresh_captcha(client) -> str:
    key = str(uuid.uuid4())
    assert client.get(f"/api/users/image/verification/{key}").status_code == 200
    return key


def _studyhub(*args: str) -> subprocess.CompletedProcess:
    """The command line against this test's database and cache (the stack's environment)."""
    return subprocess.run(
        [sys.executable, "-m", "studyhub.ops.cli", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("encoding", ["json", "form", "multipart"])
def test_login_accepts_json_form_and_multipart_bodies(client, student, encoding):
    key = _fresh_captcha(client)
    fields = {"username": student.username, "password": DEFAULT_PASSWORD, "uuid": key, "verify": captcha_answer(key)}
    if encoding == "json":
        response = client.post("/api/users/login", json=fields)
    elif encoding == "form":
        response = client.post("/api/users/login", data=fields)
    else:  # what a browser's FormData sends: multipart/form-data, text parts only
        parts = {name: (None, value) for name, value in fields.items()}
        response = client.post("/api/users/login", files=parts)
        assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.status_code == 200, response.text
    assert response.json()["username"] == student.username


def test_a_multipart_login_is_checked_like_any_other(client, student):
    key = _fresh_captcha(client)
    parts = {"username": (None, student.username), "password": (None, "wrong-password-1"), "uuid": (None, key)}
    parts["verify"] = (None, captcha_answer(key))
    response = client.post("/api/users/login", files=parts)
    assert response.status_code == 400 and response.json()["code"] == "invalid_credentials"
    broken = client.post(
        "/api/users/login", content=b"--x\r\nbroken", headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert broken.status_code == 400 and broken.json()["code"] in ("parse_error", "captcha_required")


def test_captcha_answer_prints_the_plain_answer_and_leaves_the_captcha_usable(client, student):
    key = _fresh_captcha(client)
    printed = _studyhub("captcha-answer", key)
    assert printed.returncode == 0, printed.stderr
    answer = printed.stdout.strip()
    assert answer == captcha_answer(key)  # the text itself: not JSON-quoted (Redis stores "\"AbCd\"")
    assert len(answer) == 4 and answer.isalnum()
    response = client.post(
        "/api/users/login",
        json={"username": student.username, "password": DEFAULT_PASSWORD, "uuid": key.upper(), "verify": answer},
    )
    assert response.status_code == 200, response.text


def test_captcha_answer_of_a_used_or_unknown_captcha_fails_with_a_reason(client, student):
    key = _fresh_captcha(client)
    client.post(
        "/api/users/login", json={"username": student.username, "password": "x" * 9, "uuid": key, "verify": "?"}
    )
    for unknown in (key, str(uuid.uuid4())):  # used up by the attempt; never issued
        result = _studyhub("captcha-answer", unknown)
        assert result.returncode == 1
        assert "no live captcha" in result.stderr and result.stdout == ""
