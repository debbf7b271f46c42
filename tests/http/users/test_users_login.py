"""API.md §2: captcha and login, on both stacks."""

import uuid

import pytest
from conftest import DEFAULT_PASSWORD, captcha_answer, login


def test_captcha_is_a_png_that_a_browser_img_tag_loads(client):
    key = str(uuid.uuid4())
    # what Firefox sends for <img src>
    response = client.get(f"/api/users/image/verification/{key}/", headers={"Accept": "image/avif,image/webp,*/*"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(response.content)).size == (140, 40)
    answer = captcha_answer(key)
    assert isinstance(answer, str) and len(answer) == 4 and answer.isalnum()


def test_malformed_captcha_uuid_is_400(client):
    response = client.get("/api/users/image/verification/not-a-uuid", headers={"Accept": "*/*"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_uuid"


def test_login_returns_token_id_username_avatar_and_sets_last_login(client, student):
    response = login(client, student.username)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"token", "id", "username", "avatar"}
    assert body["id"] == student.id and body["username"] == student.username and body["avatar"] is None
    me = client.get(f"/api/users/users/{student.id}", token=body["token"]).json()
    assert me["last_login"] is not None


def test_login_trailing_slash_works_too(client, student):
    key = str(uuid.uuid4())
    client.get(f"/api/users/image/verification/{key}", headers={"Accept": "*/*"})
    response = client.post(
        "/api/users/login/",
        json={"username": student.username, "password": DEFAULT_PASSWORD, "uuid": key, "verify": captcha_answer(key)},
    )
    assert response.status_code == 200


def test_captcha_answer_is_case_insensitive(client, student):
    key = str(uuid.uuid4())
    client.get(f"/api/users/image/verification/{key}", headers={"Accept": "*/*"})
    answer = captcha_answer(key).swapcase()
    response = client.post(
        "/api/users/login",
        json={"username": student.username, "password": DEFAULT_PASSWORD, "uuid": key, "verify": answer},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("missing", ["uuid", "verify"])
def test_login_without_captcha_is_captcha_required(client, student, missing):
    body = {"username": student.username, "password": DEFAULT_PASSWORD, "uuid": str(uuid.uuid4()), "verify": "abcd"}
    del body[missing]
    response = client.post("/api/users/login", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "captcha_required"
    assert response.json()["detail"]


def test_unknown_captcha_is_expired(client, student):
    response = client.post(
        "/api/users/login",
        json={"username": student.username, "password": DEFAULT_PASSWORD, "uuid": str(uuid.uuid4()), "verify": "abcd"},
    )
    assert response.status_code == 400 and response.json()["code"] == "captcha_expired"


def test_wrong_captcha_is_invalid_and_the_captcha_is_single_use(client, student):
    key = str(uuid.uuid4())
    client.get(f"/api/users/image/verification/{key}", headers={"Accept": "*/*"})
    answer = captcha_answer(key)
    wrong = "0000" if answer != "0000" else "1111"
    body = {"username": student.username, "password": DEFAULT_PASSWORD, "uuid": key, "verify": wrong}
    first = client.post("/api/users/login", json=body)
    assert first.status_code == 400 and first.json()["code"] == "captcha_invalid"
    # the right answer no longer works: the captcha was deleted by the wrong attempt
    body["verify"] = answer
    second = client.post("/api/users/login", json=body)
    assert second.status_code == 400 and second.json()["code"] == "captcha_expired"


def test_captcha_is_deleted_after_a_successful_login_too(client, student):
    key = str(uuid.uuid4())
    client.get(f"/api/users/image/verification/{key}", headers={"Accept": "*/*"})
    body = {"username": student.username, "password": DEFAULT_PASSWORD, "uuid": key, "verify": captcha_answer(key)}
    assert client.post("/api/users/login", json=body).status_code == 200
    assert client.post("/api/users/login", json=body).json()["code"] == "captcha_expired"


def test_bad_password_and_unknown_user_and_inactive_user_answer_the_same(client, make_user):
    inactive = make_user("student", is_active=False)
    answers = [
        login(client, "nobody-here", DEFAULT_PASSWORD).json(),
        login(client, inactive.username, DEFAULT_PASSWORD).json(),
    ]
    active = make_user("student")
    answers.append(login(client, active.username, "wrong-password").json())
    assert all(a["code"] == "invalid_credentials" for a in answers)
    assert len({a["detail"] for a in answers}) == 1


def test_lockout_after_max_failures_even_with_the_right_password(client, student):
    for _ in range(5):
        response = login(client, student.username, "wrong-password")
        assert response.status_code == 400 and response.json()["code"] == "invalid_credentials"
    locked = login(client, student.username, DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    # the lockout is per username (case-insensitive), not global
    assert login(client, student.username.upper(), DEFAULT_PASSWORD).status_code == 429


def test_lockout_is_per_username(client, make_user):
    victim, other = make_user("student"), make_user("student")
    for _ in range(5):
        login(client, victim.username, "wrong-password")
    assert login(client, other.username).status_code == 200


def test_token_works_with_bearer_and_jwt_scheme(client, student):
    token = login(client, student.username).json()["token"]
    for scheme in ("Bearer", "JWT"):
        response = client.get(f"/api/users/users/{student.id}", headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200, scheme


@pytest.mark.embedded_only
def test_the_password_is_checked_outside_the_write_lock(client, student, monkeypatch, stack):
    """SQLite: every transaction takes the one write lock at its BEGIN IMMEDIATE. The slow hash
    (argon2, ~0.2 s) runs after the read's transaction ended, so a class logging in at once does
    not queue behind each other's hashes past the busy timeout (503 in the bench before)."""
    import sqlite3

    from studyhub.core.config import get_settings
    from studyhub.domain.users import login as rule

    path = get_settings().database_url.split("///", 1)[-1]
    real = rule.verify_password
    seen = []

    def verify_while_another_writer_begins(password, hashed):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if the login held it
            other.execute("ROLLBACK")
            seen.append("free")
        finally:
            other.close()
        return real(password, hashed)

    monkeypatch.setattr(rule, "verify_password", verify_while_another_writer_begins)
    answer = login(client, student.username)
    assert answer.status_code == 200, answer.text
    assert seen == ["free"]
