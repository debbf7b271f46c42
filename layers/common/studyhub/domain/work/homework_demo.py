"""Demo homework for ``studyhub seed --demo`` (a ``DEMO_SEEDERS`` entry, after the topics and
classes): teacher1's paper of the demo bank, a homework (open for a week) and an exam (20
minutes, its window open for a day) for "Python 一班", and submissions of student1 and student2.

Idempotent: does nothing once teacher1 has a paper.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from studyhub.models.base import utcnow
from studyhub.models.homework import Assignment, Attempt, Paper, PaperItem, assignment_classes
from studyhub.models.school import Classes
from studyhub.models.users import User
from studyhub.models.work import Label, Topic

# what each demo student answers, by the topic's position in the paper (the demo bank's order)
ANSWERS = {
    "student1": ["用列表推导式在一行里构造列表", "C", "对", "后进先出", "A,C"],
    "student2": ["", "A", "错", "先进先出", "A"],
}


def seed_demo_homework(session: Session) -> int:
    from studyhub.domain.work.attempts import hand_in

    names = {"teacher1", *ANSWERS}
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    teacher, klass = users.get("teacher1"), session.scalar(select(Classes).where(Classes.name == "Python 一班"))
    if teacher is None or klass is None:
        return 0
    if session.scalar(select(func.count()).select_from(Paper).where(Paper.user_id == teacher.id)):
        return 0
    topics = list(
        session.scalars(
            select(Topic)
            .join(Label, Label.id == Topic.label_id)
            .where(Topic.user_id == teacher.id, Topic.is_delete.is_(False), Label.is_delete.is_(False))
            .order_by(Topic.id)
        )
    )
    if not topics:
        return 0
    paper = Paper(title="Python 基础小测", description="演示试卷：来自演示题库", user_id=teacher.id)
    session.add(paper)
    session.flush()
    session.add_all(
        PaperItem(paper_id=paper.id, topic_id=t.id, score=Decimal("2.0"), position=n) for n, t in enumerate(topics)
    )
    paper.total_score = Decimal("2.0") * len(topics)
    now = utcnow()
    homework = Assignment(
        paper_id=paper.id, title="第一周作业", kind="homework", start_time=now - timedelta(days=1),
        end_time=now + timedelta(days=7), reveal="after_submit", user_id=teacher.id,
    )  # fmt: skip
    exam = Assignment(
        paper_id=paper.id, title="随堂考试", kind="exam", start_time=now - timedelta(hours=1),
        end_time=now + timedelta(days=1), time_limit_minutes=20, reveal="after_end", user_id=teacher.id,
    )  # fmt: skip
    session.add_all([homework, exam])
    session.flush()
    session.execute(
        insert(assignment_classes),
        [{"assignment_id": a.id, "class_id": klass.id} for a in (homework, exam)],
    )
    rows = 3
    for name, values in ANSWERS.items():
        student = users.get(name)
        if student is None:
            continue
        answers: dict[str, str | None] = {str(t.id): v for t, v in zip(topics, values, strict=False)}
        attempt = Attempt(
            assignment_id=homework.id, student_id=student.id, started_at=now, deadline=homework.end_time,
            status="in_progress", draft=json.dumps(answers, ensure_ascii=False),
        )  # fmt: skip
        session.add(attempt)
        session.flush()
        hand_in(session, homework, attempt, answers, now)
        rows += 1
    return rows
