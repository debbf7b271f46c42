"""API.md §2: users list/create/read/update/deactivate, password change; pagination shape."""

import pytest
from conftest import DEFAULT_PASSWORD, login

USER_KEYS = {
    "id",
    "username",
    "email",
    "first_name",
    "is_superuser",
    "is_active",
    "groups",
    "avatar",
    "date_joined",
    "last_login",
}


def test_students_cannot_list_users(client, student):
    response = client.as_user(student).get("/api/users/users")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_anonymous_cannot_list_users(client):
    response = client.get("/api/users/users")
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}


def test_teacher_lists_users_paginated_newest_first(client, teacher, make_user):
    made = [make_user("student") for _ in range(12)]
    response = client.as_user(teacher).get("/api/users/users?size=5")
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 13
    assert [u["id"] for u in body["results"]] == [u.id for u in reversed(made)][:5]
    assert set(body["results"][0]) == USER_KEYS
    assert body["previous"] is None
    assert body["next"] == "/api/users/users?size=5&page=2"
    last = client.as_user(teacher).get("/api/users/users?size=5&page=3").json()
    assert len(last["results"]) == 3 and last["next"] is None
    assert last["previous"] == "/api/users/users?size=5&page=2"


def test_limit_offset_pagination_keeps_other_parameters(client, teacher, make_user):
    for _ in range(4):
        make_user("student")
    body = client.as_user(teacher).get("/api/users/users?groups=2&limit=2&offset=1").json()
    assert body["count"] == 4 and len(body["results"]) == 2
    assert body["next"] == "/api/users/users?groups=2&limit=2&offset=3"
    assert body["previous"] == "/api/users/users?groups=2&limit=2"


@pytest.mark.parametrize("query", ["size=0", "size=-1", "size=abc", "page=0", "limit=0", "offset=-1", "limit=x"])
def test_bad_pagination_values_are_400(client, teacher, query):
    response = client.as_user(teacher).get(f"/api/users/users?{query}")
    assert response.status_code == 400 and response.json()["code"] == "invalid_pagination"


def test_size_above_100_is_served_as_100(client, teacher):
    body = client.as_user(teacher).get("/api/users/users?size=500").json()
    assert body["count"] == 1 and body["next"] is None


def test_filter_by_group_and_search(client, teacher, make_user):
    make_user("student", username="alice_cn")
    make_user("student", username="bob")
    make_user("teacher", username="alina")
    api = client.as_user(teacher)
    assert {u["username"] for u in api.get("/api/users/users?groups=2").json()["results"]} == {"alice_cn", "bob"}
    assert {u["username"] for u in api.get("/api/users/users?search=ali").json()["results"]} == {"alice_cn", "alina"}
    # LIKE wildcards in the search term are literal
    assert api.get("/api/users/users?search=%25").json()["count"] == 0
    assert api.get("/api/users/users?search=_cn").json()["count"] == 1


def test_superuser_creates_user_with_groups(client, superuser):
    response = client.as_user(superuser).post(
        "/api/users/users",
        json={
            "username": "新老师",
            "password": "a-strong-pass",
            "email": "t@example.com",
            "groups": [1],
            "is_superuser": False,
            "id": 999,
            "password_hash": "x",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["username"] == "新老师" and body["groups"] == [1] and body["id"] != 999
    assert "password" not in body and set(body) == USER_KEYS
    assert login(client, "新老师", "a-strong-pass").status_code == 200


def test_password_is_stored_with_a_slow_salted_hash(client, superuser):
    client.as_user(superuser).post("/api/users/users", json={"username": "u1", "password": "a-strong-pass"})
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.users import User

    with session_scope() as session:
        stored = session.scalar(select(User.password).where(User.username == "u1"))
    assert stored.startswith("$argon2id$") and "a-strong-pass" not in stored


def test_only_superuser_creates_users(client, teacher):
    response = client.as_user(teacher).post("/api/users/users", json={"username": "x", "password": "a-strong-pass"})
    assert response.status_code == 403


def test_create_user_validation(client, superuser):
    api = client.as_user(superuser)
    response = api.post("/api/users/users", json={"username": "", "password": "short", "groups": [99]})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "username" in errors and "password" in errors
    taken = api.post("/api/users/users", json={"username": superuser.username, "password": "a-strong-pass"})
    assert taken.status_code == 400 and "username" in taken.json()["errors"]
    bad_group = api.post("/api/users/users", json={"username": "zz", "password": "a-strong-pass", "groups": [99]})
    assert bad_group.status_code == 400 and "groups" in bad_group.json()["errors"]


def test_malformed_json_is_400_and_wrong_media_type_is_415(client, superuser):
    api = client.as_user(superuser)
    bad = api.post("/api/users/users", content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["code"] == "parse_error"
    xml = api.post("/api/users/users", content=b"<a/>", headers={"Content-Type": "application/xml"})
    assert xml.status_code == 415 and xml.json()["code"] == "unsupported_media_type"


def test_read_self_or_as_teacher_but_students_cannot_read_others(client, student, teacher, make_user):
    other = make_user("student")
    assert client.as_user(student).get(f"/api/users/users/{student.id}").status_code == 200
    assert client.as_user(teacher).get(f"/api/users/users/{other.id}").status_code == 200
    assert client.as_user(student).get(f"/api/users/users/{other.id}").status_code == 404
    assert client.as_user(teacher).get("/api/users/users/999999").status_code == 404
    assert client.as_user(teacher).get("/api/users/users/abc").status_code == 404


def test_self_update_changes_email_and_name_but_not_roles(client, student):
    response = client.as_user(student).patch(
        f"/api/users/users/{student.id}",
        json={
            "email": "new@example.com",
            "first_name": "小明",
            "is_superuser": True,
            "groups": [1],
            "is_active": False,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "new@example.com" and body["first_name"] == "小明"
    assert body["is_superuser"] is False and body["groups"] == [2] and body["is_active"] is True


def test_superuser_updates_roles(client, superuser, student):
    response = client.as_user(superuser).put(
        f"/api/users/users/{student.id}", json={"groups": [1, 2], "is_superuser": True}
    )
    assert response.status_code == 200
    assert response.json()["groups"] == [1, 2] and response.json()["is_superuser"] is True


def test_teacher_cannot_update_others(client, teacher, student):
    response = client.as_user(teacher).patch(f"/api/users/users/{student.id}", json={"email": "x@example.com"})
    assert response.status_code == 403


def test_update_validation(client, student):
    response = client.as_user(student).patch(f"/api/users/users/{student.id}", json={"email": "not-an-email"})
    assert response.status_code == 400 and "email" in response.json()["errors"]


def test_superuser_deactivates_user_who_then_cannot_log_in(client, superuser, teacher, student):
    api = client.as_user(superuser)
    assert api.delete(f"/api/users/users/{student.id}").status_code == 204
    assert api.get(f"/api/users/users/{student.id}").json()["is_active"] is False  # superusers still read it
    assert client.as_user(teacher).get(f"/api/users/users/{student.id}").status_code == 404
    assert student.id not in [u["id"] for u in api.get("/api/users/users").json()["results"]]
    assert login(client, student.username).json()["code"] == "invalid_credentials"


def test_only_superuser_deactivates(client, teacher, student):
    assert client.as_user(teacher).delete(f"/api/users/users/{student.id}").status_code == 403


def test_change_password(client, student):
    api = client.as_user(student)
    wrong = api.put(
        f"/api/users/users/{student.id}/password", json={"old_password": "nope-nope", "new_password": "brand-new-pass"}
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"
    ok = api.put(
        f"/api/users/users/{student.id}/password",
        json={"old_password": DEFAULT_PASSWORD, "new_password": "brand-new-pass"},
    )
    assert ok.status_code == 204 and ok.content == b""
    assert login(client, student.username, "brand-new-pass").status_code == 200
    assert login(client, student.username, DEFAULT_PASSWORD).status_code == 400


def test_password_change_is_self_only_below_superuser(client, teacher, student):
    response = client.as_user(teacher).put(
        f"/api/users/users/{student.id}/password",
        json={"old_password": DEFAULT_PASSWORD, "new_password": "brand-new-pass"},
    )
    assert response.status_code == 403


def test_new_password_too_short_is_400(client, student):
    response = client.as_user(student).put(
        f"/api/users/users/{student.id}/password", json={"old_password": DEFAULT_PASSWORD, "new_password": "short"}
    )
    assert response.status_code == 400 and "new_password" in response.json()["errors"]
