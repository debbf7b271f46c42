"""The topics list and detail read Core rows (issue 15): the same bytes as the ORM rows' JSON
(``serialize_page`` over ``visible_topics``) for every role and filter, on both stacks."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest


@pytest.fixture
def bank(teacher, make_label, make_topic):
    python = make_label(teacher, "Python基础")
    exam = make_label(teacher, "期中考试")
    gone = make_label(teacher, "旧标签")
    topics = []
    for i in range(7):
        label = (python, exam, gone)[i % 3]
        topics.append(make_topic(teacher, label, f"题目 {i}", type=i % 5, answer=f"答案 {i}", age=timedelta(minutes=i)))
    from studyhub.core.db import session_scope
    from studyhub.models.work import Label

    with session_scope() as session:
        session.get(Label, gone.id).is_delete = True
    return {"python": python, "exam": exam, "gone": gone, "topics": topics}


def orm_page(user_id: int, query: dict) -> tuple[int, list[dict]]:
    """What the ORM path answered before: ``serialize_page`` over ``visible_topics`` rows."""
    from sqlalchemy import func, select

    from studyhub.core.db import session_scope
    from studyhub.domain.work.topics import serialize_page
    from studyhub.domain.work.visibility import visible_topics
    from studyhub.models.users import User
    from studyhub.models.work import Topic

    with session_scope() as session:
        caller = session.get(User, user_id)
        stmt = visible_topics(caller)
        if "label" in query:
            stmt = stmt.where(Topic.label_id == int(query["label"]))
        if "type" in query:
            stmt = stmt.where(Topic.type == int(query["type"]))
        count = session.scalar(select(func.count()).select_from(stmt.subquery()))
        stmt = stmt.order_by(Topic.update_time.desc(), Topic.id.desc()).limit(3)
        return count, serialize_page(session, caller, list(session.scalars(stmt)))


def orm_detail(user_id: int, topic_id: int) -> dict:
    from studyhub.core.db import session_scope
    from studyhub.domain.work.topics import serialize_one, visible_topic
    from studyhub.models.users import User

    with session_scope() as session:
        caller = session.get(User, user_id)
        return serialize_one(session, caller, visible_topic(session, caller, topic_id))


@pytest.mark.parametrize("role", ["student", "teacher", "superuser"])
def test_the_list_and_detail_answer_as_the_orm_rows_did(client, make_user, bank, role):
    user = make_user(role)
    api = client.as_user(user)
    for query in ({}, {"label": str(bank["python"].id)}, {"label": str(bank["exam"].id)}, {"type": "1"}):
        answer = api.get("/api/work/topics", params={**query, "size": "3"})
        assert answer.status_code == 200, answer.text
        count, results = orm_page(user.id, query)
        body = answer.json()
        assert body["count"] == count and body["results"] == results, query
        # byte for byte: the same keys in the same order, the same numbers and times
        assert json.dumps(body["results"], ensure_ascii=False) == json.dumps(results, ensure_ascii=False)
    sees_exam = role != "student"
    for topic in bank["topics"]:
        detail = api.get(f"/api/work/topics/{topic.id}")
        visible = topic.label_id == bank["python"].id or (sees_exam and topic.label_id == bank["exam"].id)
        if not visible:
            assert detail.status_code == 404 and detail.json()["code"] == "not_found"
            continue
        assert detail.status_code == 200
        expected = orm_detail(user.id, topic.id)
        assert json.dumps(detail.json(), ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)
        assert ("answer" in detail.json()) is sees_exam
