"""Demo labels and topics for ``studyhub seed --demo`` (a ``DEMO_SEEDERS`` entry).

Idempotent: does nothing once the demo teachers have labels. Needs the demo users that
``seed_demo`` creates first (teacher1, teacher2). The topics are put in the search index right
after the seed commits (directly, so they are searchable even before a worker runs).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studyhub.core.db import on_commit
from studyhub.models.users import User
from studyhub.models.work import Label, Topic

LABELS = [("teacher1", "Python基础"), ("teacher1", "数据结构"), ("teacher2", "期末考试")]
# (label index, author, type, subject, answer)
TOPICS = [
    (
        0,
        "teacher1",
        4,
        "Python中的列表推导式是什么",
        "用一行表达式从可迭代对象构造新列表，如 [x * x for x in range(10)]。",
    ),
    (0, "teacher1", 0, "下列哪个是不可变类型？A. list B. dict C. tuple D. set", "C"),
    (0, "teacher1", 2, "判断：Python 的字典在 3.7 之后保持插入顺序。", "正确"),
    (1, "teacher1", 3, "栈是一种____的线性表。", "后进先出"),
    (1, "teacher1", 1, "下列哪些是线性结构？A. 队列 B. 二叉树 C. 链表 D. 图", "AC"),
    (2, "teacher2", 4, "请简述列表和元组的区别。", "列表可变，元组不可变。"),
    (2, "teacher2", 0, "一个老师真帅，这句话的主语是？A. 一个 B. 老师 C. 真 D. 帅", "B"),
]


def seed_demo_topics(session: Session) -> int:
    names = {author for author, _ in LABELS}
    users = {u.username: u.id for u in session.scalars(select(User).where(User.username.in_(names)))}
    if set(users) != names:
        return 0
    if session.scalar(select(func.count()).select_from(Label).where(Label.user_id.in_(users.values()))):
        return 0
    labels = [Label(name=name, user_id=users[author]) for author, name in LABELS]
    session.add_all(labels)
    session.flush()
    topics = [
        Topic(subject=subject, type=kind, score=2.0, answer=answer, label_id=labels[i].id, user_id=users[author])
        for i, author, kind, subject, answer in TOPICS
    ]
    session.add_all(topics)
    session.flush()
    ids = [t.id for t in topics]

    def index() -> None:
        from studyhub.domain.work.search_sync import sync_topics

        sync_topics(ids)

    on_commit(session, index)
    return len(labels) + len(topics)
