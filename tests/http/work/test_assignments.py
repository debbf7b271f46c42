"""Assignments (API.md §9): who reads them, the window and time limit, and the paper as a
student answers it (exam-label topics visible there, inside an open exam, and nowhere else)."""

from datetime import timedelta

from homework_fixtures import make_assignment, make_paper, now, set_window


def test_students_see_only_assignments_of_their_classes(client, teacher, student, make_user, bank, make_class):
    api = client.as_user(teacher)
    paper = make_paper(api, bank)
    mine = make_assignment(api, paper["id"], [make_class(student)])
    outsider = make_user("student")
    theirs = make_assignment(api, paper["id"], [make_class(outsider, name="二班")])
    listing = client.as_user(student).get("/api/work/assignments").json()
    assert [a["id"] for a in listing["results"]] == [mine["id"]]
    assert client.as_user(student).get(f"/api/work/assignments/{theirs['id']}").status_code == 404
    assert client.as_user(student).post(f"/api/work/assignments/{theirs['id']}/start").status_code == 404
    assert client.as_user(make_user("teacher")).get("/api/work/assignments").json()["count"] == 2


def test_an_assignment_answers_its_contract_fields(client, teacher, student, bank, make_class):
    api = client.as_user(teacher)
    paper = make_paper(api, bank)
    exam = make_assignment(api, paper["id"], [make_class(student)], kind="exam", time_limit_minutes=20)
    assert set(exam) == {
        "id", "paper", "title", "kind", "classes", "start_time", "end_time",
        "time_limit_minutes", "reveal", "user", "create_time",
    }  # fmt: skip
    assert exam["title"] == paper["title"] and exam["reveal"] == "after_end" and exam["time_limit_minutes"] == 20


def test_window_and_time_limit_rules_are_400(client, teacher, student, bank, make_class):
    api = client.as_user(teacher)
    paper = make_paper(api, bank)
    cls = make_class(student)
    base = {"paper": paper["id"], "classes": [cls], "kind": "homework"}
    start, end = now(), now() + timedelta(hours=1)
    cases = [
        {**base, "start_time": end.isoformat(), "end_time": start.isoformat()},
        {**base, "start_time": start.isoformat(), "end_time": end.isoformat(), "time_limit_minutes": 20},
        {**base, "start_time": start.isoformat(), "end_time": end.isoformat(), "classes": [999999]},
        {**base, "start_time": start.isoformat(), "end_time": end.isoformat(), "kind": "quiz"},
        {**base, "start_time": start.isoformat(), "end_time": end.isoformat(), "paper": 999999},
    ]
    for body in cases:
        assert api.post("/api/work/assignments", json=body).status_code == 400, body


def test_only_the_owner_or_a_superuser_changes_an_assignment(
    client, teacher, student, make_user, superuser, bank, make_class
):
    api = client.as_user(teacher)
    work = make_assignment(api, make_paper(api, bank)["id"], [make_class(student)])
    assert (
        client.as_user(make_user("teacher"))
        .patch(f"/api/work/assignments/{work['id']}", json={"title": "x"})
        .status_code
        == 403
    )
    assert client.as_user(student).patch(f"/api/work/assignments/{work['id']}", json={"title": "x"}).status_code == 403
    assert (
        client.as_user(superuser).patch(f"/api/work/assignments/{work['id']}", json={"title": "改"}).json()["title"]
        == "改"
    )


def test_student_sees_exam_topics_inside_an_open_exam_and_nowhere_else(client, teacher, student, make_class):
    from conftest import store

    from studyhub.models.work import Label, Topic

    label = store(Label(name="期末考试", user_id=teacher.id))
    topic = store(
        Topic(subject="考试题：栈的特点", type=0, answer="A", score=2.0, label_id=label.id, user_id=teacher.id)
    )
    api = client.as_user(teacher)
    exam = make_assignment(api, make_paper(api, [topic.id])["id"], [make_class(student)], kind="exam")
    sapi = client.as_user(student)
    paper = sapi.get(f"/api/work/assignments/{exam['id']}/paper")
    assert paper.status_code == 200, paper.text
    item = paper.json()["items"][0]
    assert item["topic"]["subject"] == "考试题：栈的特点" and "answer" not in item["topic"]
    assert sapi.get(f"/api/work/topics/{topic.id}").status_code == 404
    set_window(exam["id"], end=now() - timedelta(seconds=1))
    closed = sapi.get(f"/api/work/assignments/{exam['id']}/paper")
    assert closed.status_code == 409 and closed.json()["code"] == "assignment_closed"


def test_teachers_read_the_paper_with_keys_at_any_time(client, teacher, student, bank, make_class):
    api = client.as_user(teacher)
    work = make_assignment(api, make_paper(api, bank)["id"], [make_class(student)])
    set_window(work["id"], start=now() + timedelta(days=1), end=now() + timedelta(days=2))
    paper = api.get(f"/api/work/assignments/{work['id']}/paper").json()
    assert paper["items"][0]["topic"]["answer"] == "C" and paper["total_score"] == 15.0


def test_teachers_cannot_start_an_attempt(client, teacher, student, bank, make_class):
    api = client.as_user(teacher)
    work = make_assignment(api, make_paper(api, bank)["id"], [make_class(student)])
    assert api.post(f"/api/work/assignments/{work['id']}/start").status_code == 403
