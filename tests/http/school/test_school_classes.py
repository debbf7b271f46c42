"""API.md §3: classes — who sees which, `last`, `memberDetail`, changes by teacher+ only."""

import pytest

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
CLASS_KEYS = {"id", "name", "slogan", "member", "memberDetail", "create_time", "update_time"}


@pytest.fixture
def make_class(client, superuser):
    """Create a class through the API as the superuser; returns its JSON."""
    admin = client.as_user(superuser)

    def factory(name="一班", member=(), slogan=None):
        body = {"name": name, "member": list(member)}
        if slogan is not None:
            body["slogan"] = slogan
        response = admin.post("/api/school/classes", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return factory


def test_teacher_creates_a_class_with_members(client, teacher, make_user):
    pupil = make_user("student")
    colleague = make_user("teacher")
    response = client.as_user(teacher).post(
        "/api/school/classes",
        json={"name": "Python 一班", "slogan": "好好学习，天天向上", "member": [pupil.id, colleague.id]},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == CLASS_KEYS
    assert body["name"] == "Python 一班" and body["slogan"] == "好好学习，天天向上"
    assert body["member"] == sorted([pupil.id, colleague.id])
    assert [u["id"] for u in body["memberDetail"]["teachers"]] == [colleague.id]
    assert [u["id"] for u in body["memberDetail"]["students"]] == [pupil.id]
    student_json = body["memberDetail"]["students"][0]
    assert set(student_json) == USER_KEYS and student_json["groups"] == [2]
    assert "password" not in response.text
    assert body["create_time"].endswith("+08:00")


def test_member_detail_counts_a_superuser_as_a_teacher(client, superuser, make_class):
    klass = make_class(member=[superuser.id])
    assert [u["id"] for u in klass["memberDetail"]["teachers"]] == [superuser.id]
    assert klass["memberDetail"]["students"] == []


def test_slogan_and_member_are_optional(client, teacher):
    response = client.as_user(teacher).post("/api/school/classes", json={"name": "二班"})
    assert response.status_code == 201
    body = response.json()
    assert body["slogan"] is None and body["member"] == []
    assert body["memberDetail"] == {"teachers": [], "students": []}


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "班" * 31}, "name"),
        ({"name": "一班", "member": "abc"}, "member"),
    ],
)
def test_invalid_class_bodies_are_400(client, teacher, body, field):
    response = client.as_user(teacher).post("/api/school/classes", json=body)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_unknown_member_is_400_and_nothing_is_created(client, teacher, student):
    api = client.as_user(teacher)
    response = api.post("/api/school/classes", json={"name": "一班", "member": [student.id, 987654]})
    assert response.status_code == 400
    assert "member" in response.json()["errors"]
    assert api.get("/api/school/classes").json()["count"] == 0


def test_students_cannot_create_classes(client, student):
    response = client.as_user(student).post("/api/school/classes", json={"name": "一班"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("path", ["/api/school/classes", "/api/school/classes/1", "/api/school/classes/last"])
def test_anonymous_is_401(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_teacher_sees_every_class_newest_first_paginated(client, teacher, make_class):
    made = [make_class(name=f"班级{i}") for i in range(12)]
    body = client.as_user(teacher).get("/api/school/classes?size=5").json()
    assert body["count"] == 12
    assert [c["id"] for c in body["results"]] == [c["id"] for c in reversed(made)][:5]
    assert body["next"] == "/api/school/classes?size=5&page=2" and body["previous"] is None
    assert set(body["results"][0]) == CLASS_KEYS


def test_student_sees_only_the_classes_it_is_a_member_of(client, student, make_class):
    mine = make_class(name="我的班", member=[student.id])
    other = make_class(name="别的班")
    api = client.as_user(student)
    body = api.get("/api/school/classes").json()
    assert [c["id"] for c in body["results"]] == [mine["id"]] and body["count"] == 1
    assert api.get(f"/api/school/classes/{mine['id']}").json()["name"] == "我的班"
    hidden = api.get(f"/api/school/classes/{other['id']}")
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"


def test_last_is_the_most_recently_created_visible_class(client, teacher, student, make_class):
    first = make_class(name="一班", member=[student.id])
    second = make_class(name="二班")
    # an update makes "first" the most recently *updated*, not the most recently created
    assert (
        client.as_user(teacher).patch(f"/api/school/classes/{first['id']}", json={"slogan": "加油"}).status_code == 200
    )
    assert client.as_user(teacher).get("/api/school/classes/last").json()["id"] == second["id"]
    assert client.as_user(student).get("/api/school/classes/last").json()["id"] == first["id"]
    assert client.as_user(teacher).get("/api/school/classes/last/").json()["id"] == second["id"]


def test_last_is_404_when_no_class_is_visible(client, teacher, student, make_class):
    assert client.as_user(teacher).get("/api/school/classes/last").status_code == 404
    make_class(name="别的班")
    response = client.as_user(student).get("/api/school/classes/last")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize("class_id", ["987654", "abc"])
def test_unknown_class_is_404(client, teacher, class_id):
    assert client.as_user(teacher).get(f"/api/school/classes/{class_id}").status_code == 404


def test_teacher_puts_and_patches_a_class(client, teacher, make_user, make_class):
    pupil, other = make_user("student"), make_user("student")
    klass = make_class(name="一班", member=[pupil.id], slogan="旧口号")
    api = client.as_user(teacher)
    put = api.put(f"/api/school/classes/{klass['id']}", json={"name": "一班（新）", "member": [other.id]})
    assert put.status_code == 200, put.text
    assert put.json()["name"] == "一班（新）" and put.json()["member"] == [other.id]
    assert put.json()["slogan"] == "旧口号"  # not sent: unchanged, as DRF does
    assert put.json()["update_time"] >= klass["update_time"]
    patch = api.patch(f"/api/school/classes/{klass['id']}", json={"slogan": "新口号", "id": 999})
    assert patch.status_code == 200
    assert patch.json()["slogan"] == "新口号" and patch.json()["name"] == "一班（新）"
    assert patch.json()["id"] == klass["id"]
    assert api.get(f"/api/school/classes/{klass['id']}").json()["member"] == [other.id]


def test_put_without_name_is_400(client, teacher, make_class):
    klass = make_class()
    response = client.as_user(teacher).put(f"/api/school/classes/{klass['id']}", json={"slogan": "x"})
    assert response.status_code == 400 and "name" in response.json()["errors"]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_students_cannot_change_classes_even_their_own(client, student, make_class, method):
    klass = make_class(member=[student.id])
    kwargs = {} if method == "delete" else {"json": {"name": "改名"}}
    response = getattr(client.as_user(student), method)(f"/api/school/classes/{klass['id']}", **kwargs)
    assert response.status_code == 403
    assert client.as_user(student).get(f"/api/school/classes/{klass['id']}").json()["name"] == "一班"


def test_delete_is_soft_and_the_class_disappears(client, teacher, student, make_class):
    klass = make_class(member=[student.id])
    api = client.as_user(teacher)
    response = api.delete(f"/api/school/classes/{klass['id']}")
    assert response.status_code == 204 and response.content == b""
    assert api.get(f"/api/school/classes/{klass['id']}").status_code == 404
    assert api.get("/api/school/classes").json()["count"] == 0
    assert client.as_user(student).get("/api/school/classes/last").status_code == 404
    assert api.delete(f"/api/school/classes/{klass['id']}").status_code == 404
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.school import Classes

    with session_scope() as session:
        assert session.scalar(select(Classes.is_delete).where(Classes.id == klass["id"])) is True


def test_deactivated_members_are_not_listed(client, superuser, make_user, make_class):
    gone = make_user("student", is_active=False)
    here = make_user("student")
    klass = make_class(member=[here.id])
    from sqlalchemy import insert

    from studyhub.core.db import session_scope
    from studyhub.models.school import class_members

    with session_scope() as session:
        session.execute(insert(class_members).values(class_id=klass["id"], user_id=gone.id))
    body = client.as_user(superuser).get(f"/api/school/classes/{klass['id']}").json()
    assert body["member"] == [here.id]


def test_class_list_uses_a_fixed_number_of_queries(client, teacher, make_user, make_class):
    from sqlalchemy import event

    from studyhub.core.db import get_engine

    def count_queries():
        statements = []

        def listener(*args):
            statements.append(args[2])

        # the caller is read once, then kept by the process (http/auth.py): count the list's own
        assert client.as_user(teacher).get("/api/school/classes?size=1").status_code == 200
        event.listen(get_engine(), "before_cursor_execute", listener)
        try:
            assert client.as_user(teacher).get("/api/school/classes?size=100").status_code == 200
        finally:
            event.remove(get_engine(), "before_cursor_execute", listener)
        return len(statements)

    make_class(member=[make_user("student").id])
    few = count_queries()
    for _ in range(10):
        make_class(member=[make_user("student").id, make_user("teacher").id])
    assert count_queries() == few
