"""API.md §4 labels: everyone signed in reads them, teachers+ create them, only the owner or a
superuser changes or deletes them; deleting a label takes its topics with it. Both stacks."""

import pytest

LABEL_KEYS = {"id", "name", "user", "create_time", "update_time"}


def test_anonymous_cannot_list_labels(client):
    response = client.get("/api/work/labels")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_student_lists_labels_paginated_newest_first(client, teacher, student, make_label):
    for i in range(12):
        make_label(teacher, f"标签{i}")
    response = client.as_user(student).get("/api/work/labels")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 12 and len(body["results"]) == 10
    assert body["next"] == "/api/work/labels?page=2" and body["previous"] is None
    assert [r["name"] for r in body["results"]][:2] == ["标签11", "标签10"]
    assert set(body["results"][0]) == LABEL_KEYS
    second = client.as_user(student).get("/api/work/labels", params={"limit": 5, "offset": 10}).json()
    assert [r["name"] for r in second["results"]] == ["标签1", "标签0"]


def test_teacher_creates_a_label_owned_by_the_caller(client, teacher, superuser):
    response = client.as_user(teacher).post("/api/work/labels", json={"name": "  数据结构 ", "user": superuser.id})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == LABEL_KEYS
    assert body["name"] == "数据结构" and body["user"] == teacher.id  # ``user`` sent is ignored
    assert body["create_time"].endswith("+08:00")
    fetched = client.as_user(teacher).get(f"/api/work/labels/{body['id']}/")
    assert fetched.status_code == 200 and fetched.json() == body


def test_superuser_creates_a_label(client, superuser):
    assert client.as_user(superuser).post("/api/work/labels", json={"name": "算法"}).status_code == 201


def test_student_cannot_create_a_label(client, student):
    response = client.as_user(student).post("/api/work/labels", json={"name": "我的标签"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert client.as_user(student).get("/api/work/labels").json()["count"] == 0


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": 3}])
def test_label_name_is_required_and_bounded(client, teacher, body):
    response = client.as_user(teacher).post("/api/work/labels", json=body)
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_owner_renames_a_label_with_put_and_patch(client, teacher, make_label):
    label = make_label(teacher, "旧名字")
    put = client.as_user(teacher).put(f"/api/work/labels/{label.id}", json={"name": "新名字"})
    assert put.status_code == 200 and put.json()["name"] == "新名字"
    patch = client.as_user(teacher).patch(f"/api/work/labels/{label.id}", json={"name": "再改一次"})
    assert patch.status_code == 200 and patch.json()["name"] == "再改一次"
    assert patch.json()["update_time"] >= put.json()["update_time"]


def test_another_teacher_cannot_change_or_delete_a_label(client, teacher, make_user, make_label):
    label = make_label(teacher, "老师甲的标签")
    other = client.as_user(make_user("teacher"))
    assert other.put(f"/api/work/labels/{label.id}", json={"name": "抢过来"}).status_code == 403
    assert other.patch(f"/api/work/labels/{label.id}", json={"name": "抢过来"}).status_code == 403
    assert other.delete(f"/api/work/labels/{label.id}").status_code == 403
    assert client.as_user(teacher).get(f"/api/work/labels/{label.id}").json()["name"] == "老师甲的标签"


def test_student_cannot_change_a_label(client, teacher, student, make_label):
    label = make_label(teacher)
    assert client.as_user(student).patch(f"/api/work/labels/{label.id}", json={"name": "x"}).status_code == 403


def test_superuser_changes_and_deletes_anyones_label(client, teacher, superuser, make_label):
    label = make_label(teacher, "老师的标签")
    root = client.as_user(superuser)
    assert root.patch(f"/api/work/labels/{label.id}", json={"name": "管理员改的"}).json()["name"] == "管理员改的"
    assert root.delete(f"/api/work/labels/{label.id}").status_code == 204


def test_deleted_label_is_404_and_gone_from_the_list_with_its_topics(client, teacher, make_label, make_topic):
    label = make_label(teacher, "要删的")
    kept = make_label(teacher, "留着的")
    topic = make_topic(teacher, label, "跟着标签一起删除的题目")
    other = make_topic(teacher, kept, "留下的题目")
    api = client.as_user(teacher)
    response = api.delete(f"/api/work/labels/{label.id}")
    assert response.status_code == 204 and response.content == b""
    assert api.get(f"/api/work/labels/{label.id}").status_code == 404
    assert [r["id"] for r in api.get("/api/work/labels").json()["results"]] == [kept.id]
    assert api.get(f"/api/work/topics/{topic.id}").status_code == 404
    assert [r["id"] for r in api.get("/api/work/topics").json()["results"]] == [other.id]
    assert api.delete(f"/api/work/labels/{label.id}").status_code == 404


@pytest.mark.parametrize("label_id", ["999999", "abc", "0", "-1"])
def test_unknown_label_is_404(client, teacher, label_id):
    response = client.as_user(teacher).get(f"/api/work/labels/{label_id}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_label_list_takes_the_pagination_rules(client, teacher, make_label):
    make_label(teacher)
    api = client.as_user(teacher)
    assert api.get("/api/work/labels", params={"size": 0}).status_code == 400
    assert api.get("/api/work/labels", params={"limit": "x"}).status_code == 400
    assert api.get("/api/work/labels", params={"size": 1000}).json()["count"] == 1
