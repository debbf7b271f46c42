"""The mistake book and practice (API.md §9): wrong items join the book, a 1/3/7/14-day review
schedule, practice with due mistakes first and similar topics from the search index, never an
exam-label topic, falling back to the same label when the index is down."""

from datetime import timedelta

from homework_fixtures import ALL_RIGHT, answers, now


def submit(client, student, homework, values):
    aid, topics = homework["assignment"]["id"], homework["topics"]
    response = client.as_user(student).post(
        f"/api/work/assignments/{aid}/submit", json={"answers": answers(topics, values)}
    )
    assert response.status_code == 201, response.text
    return response.json()


def backdate_reviews(student, days):
    from sqlalchemy import update

    from studyhub.core.db import session_scope
    from studyhub.models.homework import Mistake

    with session_scope() as session:
        session.execute(
            update(Mistake).where(Mistake.student_id == student.id).values(next_review_at=now() - timedelta(days=days))
        )


def test_items_below_full_join_the_mistake_book(client, student, homework):
    submit(client, student, homework, ["B", "A", "对", "北京|1950", None])
    book = client.as_user(student).get("/api/work/mistakes").json()
    topics = homework["topics"]
    # B wrong, A half, 北京|1950 half, the unanswered Q&A 0: four mistakes; 对 was right
    assert sorted(m["topic"]["id"] for m in book["results"]) == sorted([topics[0], topics[1], topics[3], topics[4]])
    first = next(m for m in book["results"] if m["topic"]["id"] == topics[0])
    assert first["my_answer"] == "B" and first["wrong_count"] == 1 and first["topic"]["answer"] == "C"


def test_a_marked_question_below_full_joins_the_book_once(client, student, homework):
    sub = submit(client, student, homework, ALL_RIGHT)
    qa = homework["topics"][4]
    assert client.as_user(student).get("/api/work/mistakes").json()["count"] == 0
    for score in (2, 1):
        homework["teacher"].patch(f"/api/work/submissions/{sub['id']}", json={"marks": [{"topic": qa, "score": score}]})
    book = client.as_user(student).get("/api/work/mistakes").json()
    assert book["count"] == 1 and book["results"][0]["wrong_count"] == 1


def test_the_review_schedule_is_1_3_7_14_days_then_the_mistake_leaves(client, student, homework):
    submit(client, student, homework, ["B", "AC", "对", "北京|1949", None])
    api = client.as_user(student)
    topic = homework["topics"][0]

    def entry():
        return next((m for m in api.get("/api/work/mistakes").json()["results"] if m["topic"]["id"] == topic), None)

    from datetime import datetime

    assert datetime.fromisoformat(entry()["next_review_at"]) - now() > timedelta(hours=23)
    early = api.post(f"/api/work/practice/{topic}", json={"answer": "C"}).json()
    assert early == {"correct": True, "score_ratio": 1.0, "answer": "C"}
    assert datetime.fromisoformat(entry()["next_review_at"]) - now() < timedelta(days=1, minutes=1)  # not due: unmoved
    for days in (3, 7, 14):
        backdate_reviews(student, 0)
        api.post(f"/api/work/practice/{topic}", json={"answer": "C"})
        gap = datetime.fromisoformat(entry()["next_review_at"]) - now()
        assert timedelta(days=days) - timedelta(minutes=1) < gap <= timedelta(days=days)
    backdate_reviews(student, 0)
    api.post(f"/api/work/practice/{topic}", json={"answer": "C"})
    assert entry() is None


def test_a_wrong_practice_answer_adds_the_topic_and_restarts_a_due_one(client, student, homework):
    api = client.as_user(student)
    topic = homework["topics"][2]
    wrong = api.post(f"/api/work/practice/{topic}", json={"answer": "错"}).json()
    assert wrong == {"correct": False, "score_ratio": 0.0, "answer": "正确"}
    book = api.get("/api/work/mistakes").json()
    assert book["count"] == 1 and book["results"][0]["my_answer"] == "错"


def test_delete_removes_one_mistake(client, student, homework):
    submit(client, student, homework, ["B", "AC", "对", "北京|1949", None])
    api = client.as_user(student)
    topic = homework["topics"][0]
    assert api.delete(f"/api/work/mistakes/{topic}").status_code == 204
    assert api.delete(f"/api/work/mistakes/{topic}").status_code == 404
    assert api.get("/api/work/mistakes").json()["count"] == 1


def test_a_deleted_topic_leaves_the_book_and_practice(client, teacher, student, homework):
    submit(client, student, homework, ["B", "AC", "对", "北京|1949", None])
    backdate_reviews(student, 1)
    client.as_user(teacher).delete(f"/api/work/topics/{homework['topics'][0]}")
    api = client.as_user(student)
    assert [m["topic"]["id"] for m in api.get("/api/work/mistakes").json()["results"]] == [homework["topics"][4]]
    assert homework["topics"][0] not in [t["id"] for t in api.get("/api/work/practice").json()]


def test_practice_puts_due_mistakes_first_then_similar_topics_never_exam_ones(
    client, teacher, student, homework, search_index, index
):
    from conftest import store

    from studyhub.models.work import Label, Topic

    submit(client, student, homework, ["B", "AC", "对", "北京|1949", "x"])  # the first topic is wrong
    label = store(Label(name="数据类型", user_id=teacher.id))
    exam = store(Label(name="期末考试", user_id=teacher.id))
    similar = store(
        Topic(subject="元组是不可变类型吗", type=2, answer="对", score=1, label_id=label.id, user_id=teacher.id)
    )
    exam_one = store(
        Topic(subject="不可变类型有哪些", type=4, answer="tuple", score=1, label_id=exam.id, user_id=teacher.id)
    )
    unrelated = store(
        Topic(subject="HTTP 状态码 404 的含义", type=4, answer="未找到", label_id=label.id, user_id=teacher.id)
    )
    index(similar, exam_one, unrelated)
    api = client.as_user(student)
    picked = api.get("/api/work/practice").json()
    ids = [t["id"] for t in picked]
    assert similar.id in ids and exam_one.id not in ids and unrelated.id not in ids
    assert all("answer" not in t for t in picked) and all(t["reason"] == "similar" for t in picked)
    backdate_reviews(student, 1)
    picked = api.get("/api/work/practice?size=1").json()
    assert [t["reason"] for t in picked] == ["review"] and picked[0]["id"] == homework["topics"][0]


def test_practice_falls_back_to_the_same_label_when_the_index_is_down(client, teacher, student, homework, search_index):
    from conftest import store
    from work_fixtures import break_index, restore_index

    from studyhub.models.work import Topic

    submit(client, student, homework, ["B", "AC", "对", "北京|1949", "x"])
    from sqlalchemy import select

    from studyhub.core.db import session_scope

    with session_scope() as session:
        label_id = session.scalar(select(Topic.label_id).where(Topic.id == homework["topics"][0]))
    sibling = store(Topic(subject="字符串是不可变的吗", type=2, answer="对", label_id=label_id, user_id=teacher.id))
    from studyhub.clients.search import index_root
    from studyhub.core.config import get_settings

    root = index_root(get_settings().var_dir)
    break_index(root)
    try:
        response = client.as_user(student).get("/api/work/practice")
    finally:
        restore_index(root)
    assert response.status_code == 200, response.text
    assert sibling.id in [t["id"] for t in response.json()]


def test_practice_rules_for_size_and_roles(client, teacher, student, homework):
    api = client.as_user(student)
    assert api.get("/api/work/practice?size=0").status_code == 400
    assert api.get("/api/work/practice?size=500").status_code == 200
    assert client.as_user(teacher).get("/api/work/practice").status_code == 403
    assert client.as_user(teacher).get("/api/work/mistakes").status_code == 403
    assert api.post("/api/work/practice/999999", json={"answer": "A"}).status_code == 404
