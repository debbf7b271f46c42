"""API.md §4 topics: the JSON, the five types, filters and pagination, who may write, and the
students' rules (no ``answer`` key; exam-label topics absent from lists and 404 in detail).
Both stacks."""

from datetime import timedelta

import pytest

TOPIC_KEYS = {
    "id",
    "subject",
    "type",
    "score",
    "description",
    "answer",
    "label",
    "label_name",
    "user",
    "create_time",
    "update_time",
}


def topic_body(label_row, **overrides):
    body = {
        "subject": "Python中的列表推导式是什么",
        "type": 4,
        "score": 5,
        "description": "简答",
        "answer": "一种创建列表的简洁写法",
        "label": label_row.id,
    }
    body.update(overrides)
    return body


def test_teacher_creates_a_topic_owned_by_the_caller(client, teacher, superuser, make_label):
    label = make_label(teacher, "Python基础")
    response = client.as_user(teacher).post("/api/work/topics", json=topic_body(label, user=superuser.id, id=77))
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == TOPIC_KEYS
    assert body["user"] == teacher.id and body["id"] != 77
    assert body["label"] == label.id and body["label_name"] == "Python基础"
    assert body["subject"] == "Python中的列表推导式是什么" and body["type"] == 4 and body["score"] == 5.0
    assert body["answer"] == "一种创建列表的简洁写法" and body["description"] == "简答"
    assert body["create_time"].endswith("+08:00")
    assert client.as_user(teacher).get(f"/api/work/topics/{body['id']}").json() == body


def test_optional_fields_may_be_left_out(client, teacher, make_label):
    label = make_label(teacher)
    response = client.as_user(teacher).post("/api/work/topics", json={"subject": "1+1=2", "type": 2, "label": label.id})
    assert response.status_code == 201
    body = response.json()
    assert body["score"] is None and body["description"] is None and body["answer"] is None


@pytest.mark.parametrize("topic_type", [0, 1, 2, 3, 4])
def test_each_of_the_five_types_is_accepted(client, teacher, make_label, topic_type):
    label = make_label(teacher)
    response = client.as_user(teacher).post("/api/work/topics", json=topic_body(label, type=topic_type))
    assert response.status_code == 201 and response.json()["type"] == topic_type


@pytest.mark.parametrize("topic_type", [5, -1, "单选", None, True, 1.5])
def test_any_other_type_is_400(client, teacher, make_label, topic_type):
    label = make_label(teacher)
    response = client.as_user(teacher).post("/api/work/topics", json=topic_body(label, type=topic_type))
    assert response.status_code == 400
    assert "type" in response.json()["errors"]


@pytest.mark.parametrize(
    "field,value",
    [("subject", ""), ("subject", None), ("label", None), ("label", "x"), ("score", -1), ("score", "many")],
)
def test_invalid_fields_are_400_and_nothing_is_stored(client, teacher, make_label, field, value):
    label = make_label(teacher)
    api = client.as_user(teacher)
    response = api.post("/api/work/topics", json=topic_body(label, **{field: value}))
    assert response.status_code == 400 and field in response.json()["errors"]
    assert api.get("/api/work/topics").json()["count"] == 0


def test_longest_accepted_texts_are_stored_whole_and_longer_is_400(client, teacher, make_label):
    label = make_label(teacher)
    api = client.as_user(teacher)
    longest = topic_body(label, subject="题" * 5000, answer="答" * 16000, description="😀" * 16000)
    created = api.post("/api/work/topics", json=longest)
    assert created.status_code == 201, created.text[:200]
    stored = api.get(f"/api/work/topics/{created.json()['id']}").json()
    assert len(stored["answer"]) == 16000 and stored["description"] == "😀" * 16000
    for field, value in (("subject", "题" * 5001), ("answer", "答" * 16001)):
        response = api.post("/api/work/topics", json=topic_body(label, **{field: value}))
        assert response.status_code == 400 and field in response.json()["errors"]


def test_unknown_or_deleted_label_is_400(client, teacher, make_label):
    api = client.as_user(teacher)
    gone = make_label(teacher)
    api.delete(f"/api/work/labels/{gone.id}")
    for label_id in (999999, gone.id):
        response = api.post("/api/work/topics", json={"subject": "题目", "type": 0, "label": label_id})
        assert response.status_code == 400 and response.json()["errors"].keys() == {"label"}


def test_student_cannot_create_a_topic(client, teacher, student, make_label):
    label = make_label(teacher)
    response = client.as_user(student).post("/api/work/topics", json=topic_body(label))
    assert response.status_code == 403
    assert client.as_user(teacher).get("/api/work/topics").json()["count"] == 0


def test_anonymous_cannot_read_topics(client):
    assert client.get("/api/work/topics").status_code == 401
    assert client.get("/api/work/topics/1").status_code == 401


def test_student_never_sees_the_answer_key(client, teacher, student, make_label, make_topic):
    topic = make_topic(teacher, make_label(teacher), answer="秘密答案")
    listed = client.as_user(student).get("/api/work/topics").json()["results"]
    assert len(listed) == 1 and "answer" not in listed[0]
    assert set(listed[0]) == TOPIC_KEYS - {"answer"}
    detail = client.as_user(student).get(f"/api/work/topics/{topic.id}")
    assert detail.status_code == 200 and "answer" not in detail.json()
    assert "秘密答案" not in detail.text
    assert client.as_user(teacher).get(f"/api/work/topics/{topic.id}").json()["answer"] == "秘密答案"


def test_user_without_a_role_is_held_to_the_students_rules(client, teacher, make_user, make_label, make_topic):
    topic = make_topic(teacher, make_label(teacher, "期末考试"))
    plain = client.as_user(make_user(None))
    assert plain.get(f"/api/work/topics/{topic.id}").status_code == 404
    assert plain.get("/api/work/topics").json()["count"] == 0


def test_student_cannot_see_exam_topics(client, teacher, student, make_label, make_topic):
    exam = make_label(teacher, "2026期末考试卷")
    practice = make_label(teacher, "课后练习")
    hidden = make_topic(teacher, exam, "考试题：什么是闭包")
    shown = make_topic(teacher, practice, "练习题：什么是闭包")
    api = client.as_user(student)
    listed = api.get("/api/work/topics").json()
    assert listed["count"] == 1 and [r["id"] for r in listed["results"]] == [shown.id]
    assert api.get(f"/api/work/topics/{hidden.id}").status_code == 404
    assert api.get("/api/work/topics", params={"label": exam.id}).json()["count"] == 0
    # and what a student can't see, it can't change either (404, not 403)
    assert api.patch(f"/api/work/topics/{hidden.id}", json={"subject": "x"}).status_code == 404
    teacher_view = client.as_user(teacher).get("/api/work/topics").json()
    assert teacher_view["count"] == 2


def test_renaming_a_label_to_an_exam_label_hides_its_topics_from_students(
    client, teacher, student, make_label, make_topic
):
    label = make_label(teacher, "第三章")
    topic = make_topic(teacher, label)
    assert client.as_user(student).get(f"/api/work/topics/{topic.id}").status_code == 200
    client.as_user(teacher).patch(f"/api/work/labels/{label.id}", json={"name": "第三章考试"})
    assert client.as_user(student).get(f"/api/work/topics/{topic.id}").status_code == 404
    assert client.as_user(teacher).get(f"/api/work/topics/{topic.id}").json()["label_name"] == "第三章考试"


def test_topics_are_paginated_newest_first(client, teacher, student, make_label, make_topic):
    label = make_label(teacher)
    topics = [make_topic(teacher, label, f"题目{i}", age=timedelta(minutes=30 - i)) for i in range(13)]
    api = client.as_user(student)
    first = api.get("/api/work/topics").json()
    assert first["count"] == 13 and first["next"] == "/api/work/topics?page=2" and first["previous"] is None
    assert [r["id"] for r in first["results"]] == [t.id for t in reversed(topics)][:10]
    second = api.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [t.id for t in reversed(topics)][10:]
    assert second["next"] is None and second["previous"] == "/api/work/topics"
    window = api.get("/api/work/topics", params={"limit": 2, "offset": 4, "type": 4}).json()
    assert [r["subject"] for r in window["results"]] == ["题目8", "题目7"]
    assert window["next"] == "/api/work/topics?limit=2&offset=6&type=4"


def test_topics_filter_by_label_and_type(client, teacher, make_label, make_topic):
    python = make_label(teacher, "Python")
    java = make_label(teacher, "Java")
    single = make_topic(teacher, python, "单选", type=0)
    fill = make_topic(teacher, python, "填空", type=3)
    make_topic(teacher, java, "Java 单选", type=0)
    api = client.as_user(teacher)
    by_label = api.get("/api/work/topics", params={"label": python.id}).json()
    assert {r["id"] for r in by_label["results"]} == {single.id, fill.id}
    both = api.get("/api/work/topics", params={"label": python.id, "type": 3}).json()
    assert [r["id"] for r in both["results"]] == [fill.id]
    assert api.get("/api/work/topics", params={"type": 0}).json()["count"] == 2


@pytest.mark.parametrize("params", [{"type": 5}, {"type": "x"}, {"type": -1}, {"label": "abc"}])
def test_bad_filters_are_400(client, teacher, params):
    response = client.as_user(teacher).get("/api/work/topics", params=params)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(params)


def test_owner_updates_a_topic_with_put(client, teacher, make_label, make_topic):
    label = make_label(teacher, "旧标签")
    new_label = make_label(teacher, "新标签")
    topic = make_topic(teacher, label, description="旧描述")
    response = client.as_user(teacher).put(
        f"/api/work/topics/{topic.id}", json={"subject": "改过的题目", "type": 1, "label": new_label.id, "answer": "AB"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject"] == "改过的题目" and body["type"] == 1 and body["answer"] == "AB"
    assert body["label"] == new_label.id and body["label_name"] == "新标签"
    assert body["description"] is None and body["score"] is None  # PUT replaces the whole topic


def test_put_needs_the_required_fields(client, teacher, make_label, make_topic):
    topic = make_topic(teacher, make_label(teacher))
    response = client.as_user(teacher).put(f"/api/work/topics/{topic.id}", json={"subject": "只有题干"})
    assert response.status_code == 400 and {"type", "label"} <= set(response.json()["errors"])


def test_owner_patches_one_field(client, teacher, make_label, make_topic):
    topic = make_topic(teacher, make_label(teacher), "原题干", answer="原答案")
    response = client.as_user(teacher).patch(f"/api/work/topics/{topic.id}", json={"score": 2.5})
    assert response.status_code == 200
    body = response.json()
    assert body["score"] == 2.5 and body["subject"] == "原题干" and body["answer"] == "原答案"


@pytest.mark.parametrize("body", [{"subject": None}, {"type": 9}, {"label": 999999}, {"subject": ""}])
def test_bad_patch_is_400_and_changes_nothing(client, teacher, make_label, make_topic, body):
    topic = make_topic(teacher, make_label(teacher), "原题干")
    api = client.as_user(teacher)
    response = api.patch(f"/api/work/topics/{topic.id}", json=body)
    assert response.status_code == 400
    assert api.get(f"/api/work/topics/{topic.id}").json()["subject"] == "原题干"


def test_another_teacher_cannot_change_or_delete_a_topic(client, teacher, make_user, make_label, make_topic):
    topic = make_topic(teacher, make_label(teacher), "老师甲的题")
    other = client.as_user(make_user("teacher"))
    assert other.get(f"/api/work/topics/{topic.id}").status_code == 200
    assert other.patch(f"/api/work/topics/{topic.id}", json={"subject": "改掉"}).status_code == 403
    assert (
        other.put(
            f"/api/work/topics/{topic.id}", json={"subject": "改掉", "type": 0, "label": topic.label_id}
        ).status_code
        == 403
    )
    assert other.delete(f"/api/work/topics/{topic.id}").status_code == 403
    assert client.as_user(teacher).get(f"/api/work/topics/{topic.id}").json()["subject"] == "老师甲的题"


def test_superuser_changes_and_deletes_anyones_topic(client, teacher, superuser, make_label, make_topic):
    topic = make_topic(teacher, make_label(teacher))
    root = client.as_user(superuser)
    assert root.patch(f"/api/work/topics/{topic.id}", json={"subject": "管理员改"}).json()["subject"] == "管理员改"
    assert root.delete(f"/api/work/topics/{topic.id}").status_code == 204


def test_deleted_topic_is_404_and_gone_from_lists(client, teacher, make_label, make_topic):
    label = make_label(teacher)
    topic = make_topic(teacher, label)
    api = client.as_user(teacher)
    assert api.delete(f"/api/work/topics/{topic.id}").status_code == 204
    assert api.get(f"/api/work/topics/{topic.id}").status_code == 404
    assert api.get("/api/work/topics").json()["count"] == 0
    assert api.patch(f"/api/work/topics/{topic.id}", json={"subject": "复活"}).status_code == 404
    assert api.delete(f"/api/work/topics/{topic.id}").status_code == 404


def test_chinese_and_markup_round_trip_unchanged(client, teacher, make_label):
    label = make_label(teacher)
    subject = "<b>粗体</b> & “引号” 'single' — 😀"
    created = client.as_user(teacher).post("/api/work/topics", json=topic_body(label, subject=subject)).json()
    assert client.as_user(teacher).get(f"/api/work/topics/{created['id']}").json()["subject"] == subject


def test_work_health_checks_the_search_index(client):
    response = client.get("/api/work/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "function": "work",
        "checks": {"database": "ok", "cache": "ok", "search": "ok"},
    }
