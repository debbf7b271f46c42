"""Homework on the embedded stack (SQLite + the embedded index), through the domain rules the
routes call, each in its own transaction as a request runs it:

- **submit**: 60 students each submit and get auto-graded a paper of 100 items (all five
  types; 20 question-and-answer items wait for a mark): p50/p99 in milliseconds;
- **stats**: ``GET /work/assignments/{id}/stats`` over those 60 × 100: p50/p99;
- **practice**: ``GET /work/practice`` (size 10) for a student with 5 mistakes and 3 due, on a bank
  of 100,000 topics in the embedded index (more-like-this on the mistakes' subjects): p50/p99.

    python bench/homework.py [--topics 100000] [--students 60] [--items 100]

Writes ``bench/results/homework.json``. Not a test: it takes a few minutes and runs when asked.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "homework.json"
sys.path.insert(0, str(ROOT / "bench"))

from search import EN_WORDS, ZH_WORDS  # noqa: E402 - the search bench's vocabulary

KEYS = {0: "C", 1: "ACD", 2: "对", 3: "北京/Beijing|1949", 4: "略"}
ANSWERS = {0: ["C", "B"], 1: ["ACD", "AC", "AB"], 2: ["对", "错"], 3: ["北京|1949", "上海|1949"], 4: ["答案", ""]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 2)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def subject(rng: random.Random) -> str:
    words = rng.sample(ZH_WORDS, 3) + rng.sample(EN_WORDS, 1)
    return f"关于{words[0]}和{words[1]}的问题：{words[2]} {words[3]} 是什么？"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", type=int, default=100_000)
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--items", type=int, default=100)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="studyhub-bench-homework-"))
    os.environ.update(
        {
            "STUDYHUB_VAR_DIR": str(base / "var"),
            "DATABASE_URL": f"sqlite:///{base / 'db.sqlite3'}",
            "JWT_SECRET": "bench-" * 12,
        }
    )
    for key in ("REDIS_URL", "CELERY_BROKER_URL", "ELASTICSEARCH_URL"):
        os.environ.pop(key, None)
    from sqlalchemy import insert, select

    from studyhub.core.db import run_in_transaction, session_scope
    from studyhub.domain.work import attempts, practice, stats
    from studyhub.domain.work.schemas import AnswerIn
    from studyhub.domain.work.search_sync import rebuild
    from studyhub.migrations.runner import upgrade
    from studyhub.models.base import utcnow
    from studyhub.models.homework import Assignment, Mistake, Paper, PaperItem, assignment_classes
    from studyhub.models.school import Classes, class_members
    from studyhub.models.users import STUDENT_GROUP_ID, TEACHER_GROUP_ID, Group, User
    from studyhub.models.work import Label, Topic

    upgrade()
    rng = random.Random(14)
    with session_scope() as session:
        session.merge(Group(id=TEACHER_GROUP_ID, name="老师"))
        session.merge(Group(id=STUDENT_GROUP_ID, name="学生"))
    with session_scope() as session:
        teacher = User(
            username="teacher", password="x", email="t@example.com", groups=[session.get(Group, TEACHER_GROUP_ID)]
        )
        students = [
            User(
                username=f"s{i}", password="x", email=f"s{i}@example.com", groups=[session.get(Group, STUDENT_GROUP_ID)]
            )
            for i in range(args.students)
        ]
        session.add_all([teacher, *students])
        session.flush()
        labels = [Label(name=f"标签{i}", user_id=teacher.id) for i in range(60)]
        session.add_all(labels)
        session.flush()
        label_ids, teacher_id = [label.id for label in labels], teacher.id
        student_ids = [s.id for s in students]
    started = time.perf_counter()
    batch = 5000
    for start in range(0, args.topics, batch):
        with session_scope() as session:
            rows = []
            for n in range(start, min(args.topics, start + batch)):
                kind = n % 5
                rows.append(
                    {
                        "subject": subject(rng), "type": kind, "score": 2.0, "answer": KEYS[kind],
                        "label_id": label_ids[n % 60], "user_id": teacher_id, "is_delete": False,
                        "create_time": utcnow(), "update_time": utcnow(),
                    }
                )  # fmt: skip
            session.execute(insert(Topic), rows)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    rebuild()
    index_s = time.perf_counter() - started
    with session_scope() as session:
        topics = list(session.execute(select(Topic.id, Topic.type).order_by(Topic.id).limit(args.items)))
        paper = Paper(title="bench", user_id=teacher_id, total_score=Decimal(2 * args.items))
        session.add(paper)
        session.flush()
        session.add_all(
            PaperItem(paper_id=paper.id, topic_id=t, score=Decimal(2), position=n) for n, (t, _) in enumerate(topics)
        )
        klass = Classes(name="bench")
        session.add(klass)
        session.flush()
        session.execute(insert(class_members), [{"class_id": klass.id, "user_id": s} for s in student_ids])
        now = utcnow()
        work = Assignment(
            paper_id=paper.id, title="bench", kind="homework", start_time=now - timedelta(hours=1),
            end_time=now + timedelta(days=1), reveal="after_submit", user_id=teacher_id,
        )  # fmt: skip
        session.add(work)
        session.flush()
        session.execute(insert(assignment_classes), [{"assignment_id": work.id, "class_id": klass.id}])
        assignment_id = work.id

    def load_user(session, user_id):
        user = session.get(User, user_id)
        _ = user.groups
        return user

    submit_ms = []
    for student_id in student_ids:
        answers = [AnswerIn(topic=t, answer=rng.choice(ANSWERS[kind])) for t, kind in topics]
        submit_ms.append(
            timed(
                lambda s=student_id, a=answers: run_in_transaction(
                    lambda session: attempts.submit(session, load_user(session, s), assignment_id, a)
                )
            )
        )
    stats_ms = []
    for _ in range(30):
        stats_ms.append(
            timed(
                lambda: run_in_transaction(
                    lambda session: stats.stats(session, load_user(session, teacher_id), assignment_id)
                )
            )
        )
    # a student with 5 mistakes, 3 of them due: the first student's wrong items are its book
    learner = student_ids[0]
    with session_scope() as session:
        book = list(session.scalars(select(Mistake).where(Mistake.student_id == learner).limit(5)))
        for mistake in session.scalars(select(Mistake).where(Mistake.student_id == learner)):
            if mistake not in book:
                session.delete(mistake)
        for mistake in book[:3]:
            mistake.next_review_at = utcnow() - timedelta(hours=1)
    practice_ms, picked = [], 0
    for _ in range(50):

        def run() -> None:
            nonlocal picked
            picked = len(
                run_in_transaction(lambda session: practice.select_topics(session, load_user(session, learner), 10))
            )

        practice_ms.append(timed(run))
    result = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "data": {"topics": args.topics, "students": args.students, "items": args.items, "load_s": round(load_s, 1), "index_s": round(index_s, 1)},
        "submit_and_grade_ms": {"p50": percentile(submit_ms, 0.5), "p99": percentile(submit_ms, 0.99), "n": len(submit_ms)},
        "stats_ms": {"p50": percentile(stats_ms, 0.5), "p99": percentile(stats_ms, 0.99), "n": len(stats_ms)},
        "practice_ms": {"p50": percentile(practice_ms, 0.5), "p99": percentile(practice_ms, 0.99), "n": len(practice_ms), "topics_returned": picked},
    }  # fmt: skip
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
