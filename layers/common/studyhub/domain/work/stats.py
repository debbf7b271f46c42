"""An assignment's statistics, computed in the database: aggregates over its submissions, the
median from at most two rows, the distribution from ten conditional counts, per-item figures
from one GROUP BY. Nothing loads every submission into Python."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from studyhub.domain.access import Caller
from studyhub.domain.work.grading import round_score
from studyhub.domain.work.homework import assignment_students, owned_assignment, score_out
from studyhub.models.homework import PaperItem, Submission, SubmissionItem

BUCKETS = 10


def _rounded(value: Any) -> float | None:
    return None if value is None else score_out(round_score(Decimal(str(value))))


def _median(session: Session, assignment_id: int, count: int) -> float | None:
    if not count:
        return None
    middle = list(
        session.scalars(
            select(Submission.score)
            .where(Submission.assignment_id == assignment_id)
            .order_by(Submission.score)
            .offset((count - 1) // 2)
            .limit(2 if count % 2 == 0 else 1)
        )
    )
    return _rounded(sum((Decimal(str(v)) for v in middle), Decimal(0)) / len(middle))


def stats(session: Session, caller: Caller, assignment_id: int) -> dict[str, Any]:
    assignment = owned_assignment(session, caller, assignment_id)
    students = session.scalar(select(func.count()).select_from(assignment_students(assignment.id).subquery()))
    # bucket k holds ratios in [k/10, (k+1)/10); a full score is in the last one
    scaled = Submission.score * BUCKETS
    buckets = [
        func.coalesce(
            func.sum(
                case(
                    (
                        and_(scaled >= k * Submission.total_score, scaled < (k + 1) * Submission.total_score)
                        if k < BUCKETS - 1
                        else scaled >= k * Submission.total_score,
                        1,
                    ),
                    else_=0,
                )
            ),
            0,
        )
        for k in range(BUCKETS)
    ]
    row = session.execute(
        select(
            func.count(Submission.id),
            func.coalesce(func.sum(case((Submission.status == "graded", 1), else_=0)), 0),
            func.avg(Submission.score),
            func.max(Submission.score),
            func.min(Submission.score),
            *buckets,
        ).where(Submission.assignment_id == assignment.id)
    ).one()
    submitted = int(row[0])
    answered = func.sum(case((SubmissionItem.answer.is_not(None), 1), else_=0))
    full = func.sum(case((SubmissionItem.score >= SubmissionItem.full_score, 1), else_=0))
    per_item = {
        topic: (int(n_answered or 0), int(n_full or 0), mean)
        for topic, n_answered, n_full, mean in session.execute(
            select(SubmissionItem.topic_id, answered, full, func.avg(SubmissionItem.score))
            .join(Submission, Submission.id == SubmissionItem.submission_id)
            .where(Submission.assignment_id == assignment.id)
            .group_by(SubmissionItem.topic_id)
        )
    }
    topics = session.scalars(
        select(PaperItem.topic_id).where(PaperItem.paper_id == assignment.paper_id).order_by(PaperItem.position)
    )
    items = []
    for topic in topics:
        n_answered, n_full, mean = per_item.get(topic, (0, 0, None))
        items.append(
            {
                "topic": topic,
                "answered": n_answered,
                "correct_rate": round(n_full / submitted, 4) if submitted else 0.0,
                "mean_score": _rounded(mean),
            }
        )
    return {
        "students": int(students or 0),
        "submitted": submitted,
        "graded": int(row[1]),
        "mean": _rounded(row[2]),
        "median": _median(session, assignment.id, submitted),
        "max": _rounded(row[3]),
        "min": _rounded(row[4]),
        "distribution": [int(v) for v in row[5:]],
        "items": items,
    }
