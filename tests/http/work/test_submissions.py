"""Attempts and submissions (API.md §9): start, drafts, submit, grading, reveal, marks, privacy,
exactly once under concurrency."""

from datetime import timedelta

from homework_fixtures import (
    ALL_RIGHT,
    BANK,
    answers,
    count_rows,
    make_assignment,
    make_paper,
    now,
    set_deadline,
    set_window,
)


def test_start_answers_the_deadline_and_starting_twice_answers_the_same_attempt(client, student, homework):
    api = client.as_user(student)
    aid = homework["assignment"]["id"]
    first = api.post(f"/api/work/assignments/{aid}/start")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "in_progress" and first.json()["deadline"] == homework["assignment"]["end_time"]
    again = api.post(f"/api/work/assignments/{aid}/start")
    assert again.status_code == 200 and again.json()["started_at"] == first.json()["started_at"]


def test_an_exam_deadline_is_the_earlier_of_end_time_and_the_time_limit(client, teacher, student, bank, make_class):
    tapi = client.as_user(teacher)
    paper = make_paper(tapi, bank)
    exam = make_assignment(tapi, paper["id"], [make_class(student)], kind="exam", time_limit_minutes=20)
    started = client.as_user(student).post(f"/api/work/assignments/{exam['id']}/start").json()
    from datetime import datetime

    gap = datetime.fromisoformat(started["deadline"]) - datetime.fromisoformat(started["started_at"])
    assert timedelta(minutes=19, seconds=58) <= gap <= timedelta(minutes=20, seconds=1)


def test_a_draft_put_replaces_the_whole_draft(client, student, homework):
    api = client.as_user(student)
    aid, topics = homework["assignment"]["id"], homework["topics"]
    api.put(f"/api/work/assignments/{aid}/answers", json={"answers": answers(topics[:2], ["A", "B"])})
    second = api.put(f"/api/work/assignments/{aid}/answers", json={"answers": answers(topics[2:3], ["对"])})
    assert second.status_code == 200, second.text
    assert second.json()["answers"] == [{"topic": topics[2], "answer": "对"}]


def test_submit_merges_answers_over_the_draft_and_grades_at_once(client, student, homework):
    api = client.as_user(student)
    aid, topics = homework["assignment"]["id"], homework["topics"]
    api.put(f"/api/work/assignments/{aid}/answers", json={"answers": answers(topics[:3], ["B", "A", "对"])})
    response = api.post(f"/api/work/assignments/{aid}/submit", json={"answers": answers(topics[:1], ["c"])})
    assert response.status_code == 201, response.text
    body = response.json()
    scores = [item["score"] for item in body["items"]]
    # C right (2), A of AC half (1.5), 对 right (1), blanks unanswered 0, Q&A unanswered 0
    assert scores == [2.0, 1.5, 1.0, 0.0, 0.0]
    assert body["score"] == 4.5 and body["total_score"] == 15.0
    assert body["status"] == "graded"  # the unanswered Q&A needs no mark
    assert [i["correct"] for i in body["items"]] == [True, False, True, False, False]
    assert body["items"][0]["key"] == "C" and "answer" not in body["items"][0]["topic"]


def test_a_second_submit_is_409_and_records_nothing_more(client, student, homework):
    from studyhub.models.homework import Submission

    api = client.as_user(student)
    aid = homework["assignment"]["id"]
    assert api.post(f"/api/work/assignments/{aid}/submit", json={}).status_code == 201
    again = api.post(f"/api/work/assignments/{aid}/submit", json={})
    assert again.status_code == 409 and again.json()["code"] == "already_submitted"
    drafts = api.put(f"/api/work/assignments/{aid}/answers", json={"answers": []})
    assert drafts.status_code == 409
    assert count_rows(Submission) == 1


def test_outside_the_window_is_409_not_open_or_closed(client, student, homework):
    api = client.as_user(student)
    aid = homework["assignment"]["id"]
    set_window(aid, start=now() + timedelta(hours=1), end=now() + timedelta(hours=2))
    for call in ("start", "submit"):
        response = api.post(f"/api/work/assignments/{aid}/{call}", json={})
        assert response.status_code == 409 and response.json()["code"] == "assignment_not_open"
    assert api.get(f"/api/work/assignments/{aid}/paper").json()["code"] == "assignment_not_open"
    set_window(aid, start=now() - timedelta(hours=2), end=now() - timedelta(hours=1))
    response = api.post(f"/api/work/assignments/{aid}/start")
    assert response.status_code == 409 and response.json()["code"] == "assignment_closed"


def test_submit_after_the_deadline_is_409_but_the_30_second_grace_counts(client, student, make_user, homework):
    api = client.as_user(student)
    aid = homework["assignment"]["id"]
    api.post(f"/api/work/assignments/{aid}/start")
    set_deadline(aid, student.id, now() - timedelta(seconds=20))
    late_draft = api.put(f"/api/work/assignments/{aid}/answers", json={"answers": []})
    assert late_draft.status_code == 409 and late_draft.json()["code"] == "assignment_closed"
    assert api.post(f"/api/work/assignments/{aid}/submit", json={}).status_code == 201  # inside the grace


def test_submit_past_the_grace_is_409_assignment_closed(client, student, homework):
    api = client.as_user(student)
    aid = homework["assignment"]["id"]
    api.post(f"/api/work/assignments/{aid}/start")
    set_deadline(aid, student.id, now() - timedelta(seconds=40))
    late = api.post(f"/api/work/assignments/{aid}/submit", json={})
    assert late.status_code == 409 and late.json()["code"] == "assignment_closed"


def test_answers_to_topics_outside_the_paper_are_400(client, student, homework):
    api = client.as_user(student)
    aid = homework["assignment"]["id"]
    response = api.put(f"/api/work/assignments/{aid}/answers", json={"answers": [{"topic": 999999, "answer": "A"}]})
    assert response.status_code == 400 and response.json()["code"] == "invalid_answers"


def test_reveal_after_end_hides_key_and_correct_until_the_end(client, teacher, student, bank, make_class):
    tapi = client.as_user(teacher)
    paper = make_paper(tapi, bank)
    exam = make_assignment(tapi, paper["id"], [make_class(student)], kind="exam", reveal="after_end")
    api = client.as_user(student)
    sub = api.post(f"/api/work/assignments/{exam['id']}/submit", json={"answers": answers(bank, ALL_RIGHT)}).json()
    assert all("key" not in i and "correct" not in i for i in sub["items"])
    assert sub["score"] == 10.0  # the score shows; the Q&A waits for its mark
    set_window(exam["id"], end=now() - timedelta(seconds=1))
    after = api.get(f"/api/work/submissions/{sub['id']}").json()
    assert [i["key"] for i in after["items"]] == [key for _, _, key, _ in BANK]


def test_reveal_never_keeps_keys_from_the_student_but_not_the_teacher(client, teacher, student, bank, make_class):
    tapi = client.as_user(teacher)
    paper = make_paper(tapi, bank)
    work = make_assignment(tapi, paper["id"], [make_class(student)], reveal="never")
    sub = client.as_user(student).post(f"/api/work/assignments/{work['id']}/submit", json={}).json()
    assert all("key" not in i for i in sub["items"])
    teacher_view = tapi.get(f"/api/work/submissions/{sub['id']}").json()
    assert teacher_view["items"][0]["key"] == "C" and teacher_view["items"][0]["topic"]["answer"] == "C"


def test_teacher_marks_question_and_answer_items_and_the_submission_is_graded(client, student, homework):
    api = client.as_user(student)
    aid, topics = homework["assignment"]["id"], homework["topics"]
    sub = api.post(f"/api/work/assignments/{aid}/submit", json={"answers": answers(topics, ALL_RIGHT)}).json()
    assert sub["status"] == "submitted" and sub["score"] == 10.0 and sub["items"][4]["correct"] is None
    tapi = homework["teacher"]
    too_high = tapi.patch(f"/api/work/submissions/{sub['id']}", json={"marks": [{"topic": topics[4], "score": 5.5}]})
    assert too_high.status_code == 400
    auto = tapi.patch(f"/api/work/submissions/{sub['id']}", json={"marks": [{"topic": topics[0], "score": 1}]})
    assert auto.status_code == 400 and auto.json()["code"] == "not_markable"
    marked = tapi.patch(
        f"/api/work/submissions/{sub['id']}",
        json={"marks": [{"topic": topics[4], "score": 3.5, "comment": "不够完整"}]},
    )
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "graded" and marked.json()["score"] == 13.5
    assert marked.json()["items"][4]["comment"] == "不够完整" and marked.json()["items"][4]["correct"] is False
    # marking again replaces the mark: never counted twice
    again = tapi.patch(f"/api/work/submissions/{sub['id']}", json={"marks": [{"topic": topics[4], "score": 5}]})
    assert again.json()["score"] == 15.0 and again.json()["items"][4]["correct"] is True


def test_concurrent_marks_never_double_count(client, student, homework):
    from shopping_fixtures import bearer, concurrently

    api = client.as_user(student)
    aid, topics = homework["assignment"]["id"], homework["topics"]
    sub = api.post(f"/api/work/assignments/{aid}/submit", json={"answers": answers(topics, ALL_RIGHT)}).json()
    token = homework["teacher"].token
    results = concurrently(
        [
            lambda http, s=s: http.patch(
                f"/api/work/submissions/{sub['id']}",
                json={"marks": [{"topic": topics[4], "score": s}]},
                headers=bearer(token),
            )
            for s in (1, 2, 3, 4)
        ]
    )
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    final = api.get(f"/api/work/submissions/{sub['id']}").json()
    assert final["score"] == 10.0 + final["items"][4]["score"]


def test_submissions_are_private_404_to_other_students_and_teachers(client, student, make_user, homework):
    api = client.as_user(student)
    aid = homework["assignment"]["id"]
    sub = api.post(f"/api/work/assignments/{aid}/submit", json={}).json()
    other_student, other_teacher = make_user("student"), make_user("teacher")
    for user in (other_student, other_teacher):
        other = client.as_user(user)
        assert other.get(f"/api/work/submissions/{sub['id']}").status_code == 404
        assert (
            other.patch(f"/api/work/submissions/{sub['id']}", json={"marks": [{"topic": 1, "score": 0}]}).status_code
            == 404
        )
        assert other.get(f"/api/work/assignments/{aid}/submissions").status_code == 404
    assert api.get(f"/api/work/submissions/{sub['id']}").status_code == 200
    assert (
        api.patch(f"/api/work/submissions/{sub['id']}", json={"marks": [{"topic": 1, "score": 0}]}).status_code == 403
    )


def test_the_roster_lists_every_student_of_the_classes_with_its_status(client, student, make_user, homework):
    from sqlalchemy import insert

    from studyhub.core.db import session_scope
    from studyhub.models.school import class_members

    idle, busy = make_user("student"), make_user("student")
    with session_scope() as session:
        session.execute(insert(class_members), [{"class_id": homework["class"], "user_id": u.id} for u in (idle, busy)])
    aid = homework["assignment"]["id"]
    client.as_user(student).post(f"/api/work/assignments/{aid}/submit", json={})
    client.as_user(busy).post(f"/api/work/assignments/{aid}/start")
    page = homework["teacher"].get(f"/api/work/assignments/{aid}/submissions").json()
    assert page["count"] == 3
    assert {r["student"]: r["status"] for r in page["results"]} == {
        student.id: "graded",
        idle.id: "not_started",
        busy.id: "in_progress",
    }


def test_deleting_the_assignment_keeps_the_submission_readable_to_its_student(client, student, homework):
    api = client.as_user(student)
    aid = homework["assignment"]["id"]
    sub = api.post(f"/api/work/assignments/{aid}/submit", json={}).json()
    assert homework["teacher"].delete(f"/api/work/assignments/{aid}").status_code == 204
    assert api.get(f"/api/work/assignments/{aid}").status_code == 404
    assert api.get(f"/api/work/submissions/{sub['id']}").status_code == 200


def test_a_double_submit_from_two_tabs_records_one_submission(client, student, homework):
    from conftest import token_for
    from shopping_fixtures import bearer, concurrently

    from studyhub.models.homework import Submission

    aid, token = homework["assignment"]["id"], token_for(student)
    results = concurrently(
        [
            lambda http: http.post(f"/api/work/assignments/{aid}/submit", json={}, headers=bearer(token))
            for _ in range(4)
        ]
    )
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409], [r.text for r in results]
    assert count_rows(Submission) == 1


def test_a_submit_racing_the_closing_job_records_one_submission(client, student, homework):
    import threading

    from conftest import token_for
    from shopping_fixtures import bearer, concurrently

    from studyhub.domain.work.attempts import close_attempt
    from studyhub.models.homework import Attempt, Submission

    api = client.as_user(student)
    aid = homework["assignment"]["id"]
    api.post(f"/api/work/assignments/{aid}/start")
    from sqlalchemy import select

    from studyhub.core.db import session_scope

    with session_scope() as session:
        attempt_id = session.scalar(select(Attempt.id).where(Attempt.assignment_id == aid))
    token, closed = token_for(student), []
    barrier = threading.Barrier(2)

    def job():
        barrier.wait()
        closed.append(close_attempt(attempt_id))

    thread = threading.Thread(target=job)
    thread.start()
    results = concurrently(
        [
            lambda http: (
                barrier.wait(),
                http.post(f"/api/work/assignments/{aid}/submit", json={}, headers=bearer(token)),
            )[1]
        ]
    )
    thread.join(60)
    assert [r.status_code for r in results] in ([201], [409])
    assert (results[0].status_code == 201) != closed[0]  # exactly one of them handed it in
    assert count_rows(Submission) == 1
