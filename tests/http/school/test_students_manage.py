"""API.md §3: one student for teachers (`GET/PUT/PATCH/DELETE /school/students/{id}`): the
profile (email, first_name, age 1–120, sex 0/1), moving it to other classes, deactivating it; and
`age`/`sex` in registration and in the list."""

from __future__ import annotations

import pytest
from conftest import login, token_for

DETAIL_KEYS = {"id", "username", "email", "first_name", "age", "sex", "classes", "is_active"}


@pytest.fixture
def two_classes(client, teacher):
    api = client.as_user(teacher)
    return [api.post("/api/school/classes", json={"name": name}).json()["id"] for name in ("一班", "二班")]


@pytest.fixture
def pupil(client, teacher, two_classes):
    """A student registered into the first class with a profile."""
    body = {"username": "xiaohong", "email": "xh@example.com", "classes": two_classes[0], "first_name": "小红"}
    response = client.as_user(teacher).post("/api/school/students", json={**body, "age": 12, "sex": 0})
    assert response.status_code == 201, response.text
    return response.json()


def members(client, teacher, class_id):
    return client.as_user(teacher).get(f"/api/school/classes/{class_id}").json()["member"]


def test_registration_takes_age_and_sex_and_the_list_shows_them(client, teacher, pupil, two_classes):
    assert (pupil["age"], pupil["sex"], pupil["classes"]) == (12, 0, two_classes[0])
    (listed,) = client.as_user(teacher).get("/api/school/students").json()["results"]
    assert (listed["age"], listed["sex"], listed["classes"]) == (12, 0, [two_classes[0]])
    assert {"groups", "is_active", "date_joined"} <= set(listed)  # the User JSON is still there


def test_teacher_reads_one_student(client, teacher, pupil, two_classes):
    response = client.as_user(teacher).get(f"/api/school/students/{pupil['id']}")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": pupil["id"],
        "username": "xiaohong",
        "email": "xh@example.com",
        "first_name": "小红",
        "age": 12,
        "sex": 0,
        "classes": [two_classes[0]],
        "is_active": True,
    }


def test_patch_changes_what_is_sent_and_null_clears_age_and_sex(client, teacher, pupil):
    api = client.as_user(teacher)
    response = api.patch(f"/api/school/students/{pupil['id']}", json={"email": "new@example.com", "sex": None})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert (body["email"], body["first_name"], body["age"], body["sex"]) == ("new@example.com", "小红", 12, None)
    assert api.get(f"/api/school/students/{pupil['id']}").json() == body


def test_put_sets_the_profile_and_moves_the_student_to_another_class(client, teacher, pupil, two_classes):
    first, second = two_classes
    api = client.as_user(teacher)
    body = {"email": "xh2@example.com", "first_name": "小红红", "age": 13, "sex": 1, "classes": [second]}
    response = api.put(f"/api/school/students/{pupil['id']}", json={**body, "username": "renamed", "id": 9})
    assert response.status_code == 200, response.text
    assert response.json() == {**body, "id": pupil["id"], "username": "xiaohong", "is_active": True}
    assert members(client, teacher, first) == [] and members(client, teacher, second) == [pupil["id"]]
    listed = api.get(f"/api/school/students?classes={second}").json()["results"]
    assert [s["id"] for s in listed] == [pupil["id"]]


def test_classes_is_the_whole_membership_list(client, teacher, pupil, two_classes):
    first, second = two_classes
    api = client.as_user(teacher)
    both = api.patch(f"/api/school/students/{pupil['id']}", json={"classes": [second, first, second]})
    assert both.json()["classes"] == [first, second]
    assert api.patch(f"/api/school/students/{pupil['id']}", json={"classes": []}).json()["classes"] == []
    assert members(client, teacher, first) == [] and members(client, teacher, second) == []


def test_classes_must_be_live_classes_and_a_bad_list_changes_nothing(client, teacher, pupil, two_classes):
    first, second = two_classes
    api = client.as_user(teacher)
    assert api.delete(f"/api/school/classes/{second}").status_code == 204
    for classes in ([second], [first, 987654], ["x"], [0], None):
        response = api.patch(f"/api/school/students/{pupil['id']}", json={"email": "z@example.com", "classes": classes})
        assert response.status_code == 400 and "classes" in response.json()["errors"], (classes, response.text)
    detail = api.get(f"/api/school/students/{pupil['id']}").json()
    assert detail["classes"] == [first] and detail["email"] == "xh@example.com"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"age": 0}, "age"),
        ({"age": 121}, "age"),
        ({"age": 12.5}, "age"),
        ({"age": True}, "age"),
        ({"age": "twelve"}, "age"),
        ({"sex": 2}, "sex"),
        ({"sex": -1}, "sex"),
        ({"sex": True}, "sex"),
        ({"sex": "男"}, "sex"),
        ({"email": "not-an-email"}, "email"),
        ({"email": None}, "email"),
        ({"first_name": "名" * 151}, "first_name"),
        ({"first_name": None}, "first_name"),
    ],
)
def test_invalid_changes_are_400_and_change_nothing(client, teacher, pupil, change, field):
    api = client.as_user(teacher)
    response = api.patch(f"/api/school/students/{pupil['id']}", json=change)
    assert response.status_code == 400, response.text
    assert field in response.json()["errors"]
    detail = api.get(f"/api/school/students/{pupil['id']}").json()
    assert (detail["age"], detail["sex"], detail["email"], detail["first_name"]) == (12, 0, "xh@example.com", "小红")


def test_put_needs_the_email_and_the_classes(client, teacher, pupil):
    response = client.as_user(teacher).put(f"/api/school/students/{pupil['id']}", json={"first_name": "x"})
    assert response.status_code == 400 and {"email", "classes"} <= set(response.json()["errors"])


@pytest.mark.parametrize("change", [{"age": 1}, {"age": 120}, {"sex": 1}, {"age": None}])
def test_age_and_sex_bounds_are_accepted(client, teacher, pupil, change):
    response = client.as_user(teacher).patch(f"/api/school/students/{pupil['id']}", json=change)
    assert response.status_code == 200 and response.json()[next(iter(change))] == next(iter(change.values()))


def test_registering_with_a_bad_age_or_sex_is_400(client, teacher, two_classes):
    api = client.as_user(teacher)
    base = {"username": "s1", "email": "s1@example.com", "classes": two_classes[0]}
    for extra, field in (({"age": 0}, "age"), ({"sex": 3}, "sex")):
        response = api.post("/api/school/students", json={**base, **extra})
        assert response.status_code == 400 and field in response.json()["errors"]
    assert api.get("/api/school/students").json()["count"] == 0


def test_delete_deactivates_the_student_for_good(client, teacher, superuser, pupil):
    api = client.as_user(teacher)
    assert api.delete(f"/api/school/students/{pupil['id']}").status_code == 204
    for method in ("get", "patch", "delete"):
        assert getattr(api, method)(f"/api/school/students/{pupil['id']}").status_code == 404
    assert api.get("/api/school/students").json()["count"] == 0
    assert api.get(f"/api/users/users/{pupil['id']}").status_code == 404
    # a superuser still sees it (API.md §2 "Deactivated users"), inactive
    seen = client.as_user(superuser).get(f"/api/school/students/{pupil['id']}")
    assert seen.status_code == 200 and seen.json()["is_active"] is False


def test_a_deactivated_student_can_no_longer_log_in_or_use_its_token(client, teacher, make_user):
    pupil = make_user("student", username="leaver")
    token = token_for(pupil)
    assert client.get("/api/school/classes", token=token).status_code == 200
    assert client.as_user(teacher).delete(f"/api/school/students/{pupil.id}").status_code == 204
    assert client.get("/api/school/classes", token=token).status_code == 401
    assert login(client, "leaver").json()["code"] == "invalid_credentials"


def test_an_id_that_is_not_a_student_is_404(client, teacher, superuser, make_user):
    api = client.as_user(teacher)
    other_teacher, plain = make_user("teacher"), make_user(None)
    for user_id in (other_teacher.id, superuser.id, plain.id, teacher.id, 987654):
        assert api.get(f"/api/school/students/{user_id}").status_code == 404
        assert api.delete(f"/api/school/students/{user_id}").status_code == 404
        assert api.patch(f"/api/school/students/{user_id}", json={"email": "x@example.com"}).status_code == 404
    assert api.get("/api/school/students/abc").status_code == 404
    assert api.get(f"/api/users/users/{other_teacher.id}").json()["is_active"] is True


def test_students_and_anonymous_callers_cannot_manage_students(client, student, pupil):
    api = client.as_user(student)
    assert api.get(f"/api/school/students/{pupil['id']}").status_code == 403
    assert api.patch(f"/api/school/students/{pupil['id']}", json={"age": 9}).status_code == 403
    assert api.delete(f"/api/school/students/{pupil['id']}").status_code == 403
    assert client.get(f"/api/school/students/{pupil['id']}").status_code == 401
    assert api.get(f"/api/school/students/{student.id}").status_code == 403  # not even itself
