"""Arranging homework: a class of students, a small bank of topics (one of each type), a paper
and an assignment made through HTTP, and a way to move an assignment's clock (rows written
straight to the database; the behaviour under test goes through HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import store

NOW = datetime.now

# (type, subject, key, score)
BANK = [
    (0, "下列哪个是不可变类型？A. list B. dict C. tuple D. set", "C", 2.0),
    (1, "下列哪些是线性结构？A. 队列 B. 二叉树 C. 链表 D. 图", "AC", 3.0),
    (2, "判断：Python 的字典在 3.7 之后保持插入顺序。", "正确", 1.0),
    (3, "中华人民共和国的首都是____，成立于____年。", "北京/Beijing|1949", 4.0),
    (4, "请简述列表和元组的区别。", "列表可变，元组不可变。", 5.0),
]
TOTAL = 15.0


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def make_class(platform):
    """``make_class(*students, name=...)``: a class with these members."""
    from studyhub.core.db import session_scope
    from studyhub.models.school import Classes
    from studyhub.models.users import User

    def factory(*students, name: str = "一班"):
        with session_scope() as session:
            row = Classes(name=name, members=[session.get(User, s.id) for s in students])
            session.add(row)
            session.flush()
            return row.id

    return factory


@pytest.fixture
def bank(platform, teacher):
    """Five topics, one of each type, under a label of the teacher: ``[(id, key, score)]``."""
    from studyhub.models.work import Label, Topic

    label = store(Label(name="Python基础", user_id=teacher.id))
    out = []
    for kind, subject, key, score in BANK:
        topic = store(Topic(subject=subject, type=kind, answer=key, score=score, label_id=label.id, user_id=teacher.id))
        out.append(topic.id)
    return out


def make_paper(api, topic_ids, *, title="第一单元测验", scores=None):
    items = [
        {"topic": t} if scores is None else {"topic": t, "score": s}
        for t, s in zip(topic_ids, scores or [None] * len(topic_ids), strict=True)
    ]
    response = api.post("/api/work/papers", json={"title": title, "items": items})
    assert response.status_code == 201, response.text
    return response.json()


def make_assignment(api, paper_id, classes, *, kind="homework", start=None, end=None, **extra):
    start = start or now() - timedelta(minutes=5)
    end = end or now() + timedelta(hours=1)
    body = {
        "paper": paper_id,
        "kind": kind,
        "classes": classes,
        "start_time": start.isoformat(),
        "end_time": end.isoformat(),
        **extra,
    }
    response = api.post("/api/work/assignments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def set_window(assignment_id, *, start=None, end=None):
    """Move an assignment's window (and its open attempts' deadlines with the end)."""
    from sqlalchemy import update

    from studyhub.core.db import session_scope
    from studyhub.models.homework import Assignment, Attempt

    values = {}
    if start is not None:
        values["start_time"] = start
    if end is not None:
        values["end_time"] = end
    with session_scope() as session:
        session.execute(update(Assignment).where(Assignment.id == assignment_id).values(**values))
        if end is not None:
            session.execute(
                update(Attempt)
                .where(Attempt.assignment_id == assignment_id, Attempt.status == "in_progress")
                .values(deadline=end)
            )


def set_deadline(assignment_id, student_id, deadline):
    from sqlalchemy import update

    from studyhub.core.db import session_scope
    from studyhub.models.homework import Attempt

    with session_scope() as session:
        session.execute(
            update(Attempt)
            .where(Attempt.assignment_id == assignment_id, Attempt.student_id == student_id)
            .values(deadline=deadline)
        )


def count_rows(model, **where):
    from sqlalchemy import func, select

    from studyhub.core.db import session_scope

    with session_scope() as session:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return session.scalar(stmt)


ALL_RIGHT = ["C", "A,C", "对", "北京|1949", "列表可变而元组不可变"]


def answers(topic_ids, values):
    return [{"topic": t, "answer": v} for t, v in zip(topic_ids, values, strict=True)]


@pytest.fixture
def homework(client, teacher, student, bank, make_class):
    """An open homework of the five-topic paper for ``student``'s class: a dict of what was made."""
    class_id = make_class(student)
    tapi = client.as_user(teacher)
    paper = make_paper(tapi, bank)
    assignment = make_assignment(tapi, paper["id"], [class_id])
    return {"paper": paper, "assignment": assignment, "class": class_id, "topics": bank, "teacher": tapi}
