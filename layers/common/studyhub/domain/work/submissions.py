"""Submissions: read by their student, the owner teacher and superusers (everyone else 404);
marked by the owner teacher or a superuser; the roster of an assignment's students.

A mark and a re-grade never double count: marks on one submission are serialised by a lock on
its row, and its score, pending count and status are recomputed from the items in one UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller
from studyhub.domain.work import mistakes
from studyhub.domain.work.homework import (
    assignment_students,
    now,
    owned_assignment,
    paper_topic,
    reveal_time,
    reveals,
    score_out,
)
from studyhub.models.homework import Assignment, Attempt, Submission, SubmissionItem
from studyhub.models.users import User
from studyhub.models.work import Topic

from .schemas import MarkIn


def serialize(session: Session, submission: Submission, caller: Caller, at: datetime) -> dict[str, Any]:
    assignment = session.get(Assignment, submission.assignment_id)
    assert assignment is not None
    teacher = caller.id != submission.student_id
    shown = teacher or reveals(assignment, at)
    rows = session.execute(
        select(SubmissionItem, Topic)
        .join(Topic, Topic.id == SubmissionItem.topic_id)
        .where(SubmissionItem.submission_id == submission.id)
        .order_by(SubmissionItem.position)
    ).all()
    items = []
    for item, topic in rows:
        body: dict[str, Any] = {
            "topic": paper_topic(topic, with_answer=teacher),
            "full_score": score_out(item.full_score),
            "answer": item.answer,
            "score": score_out(item.score),
            "comment": item.comment,
        }
        if shown:
            body["correct"] = item.correct
            body["key"] = topic.answer
        items.append(body)
    return {
        "id": submission.id,
        "assignment": submission.assignment_id,
        "student": submission.student_id,
        "status": submission.status,
        "score": score_out(submission.score),
        "total_score": score_out(submission.total_score),
        "submitted_at": isoformat(submission.submitted_at),
        "items": items,
    }


def _readable(session: Session, caller: Caller, submission_id: int, *, lock: bool = False) -> Submission:
    stmt = select(Submission).where(Submission.id == submission_id)
    submission = session.scalar(stmt.with_for_update() if lock else stmt)
    if submission is None:
        raise errors.NotFound("提交不存在")
    if caller.id == submission.student_id or caller.is_superuser:
        return submission
    assignment = session.get(Assignment, submission.assignment_id)
    if assignment is None or not caller.is_teacher_or_superuser or assignment.user_id != caller.id:
        raise errors.NotFound("提交不存在")
    return submission


def read(session: Session, caller: Caller, submission_id: int) -> dict[str, Any]:
    return serialize(session, _readable(session, caller, submission_id), caller, now())


def mark(session: Session, caller: Caller, submission_id: int, marks: list[MarkIn]) -> dict[str, Any]:
    submission = _readable(session, caller, submission_id, lock=True)
    if caller.id == submission.student_id:
        raise errors.Forbidden("只有老师可以批改")
    items = {
        i.topic_id: i
        for i in session.scalars(select(SubmissionItem).where(SubmissionItem.submission_id == submission.id))
    }
    seen: set[int] = set()
    for given in marks:
        item = items.get(given.topic)
        if item is None or not item.needs_mark:
            raise errors.Invalid.field("marks", f"题目 {given.topic} 不需要批改。", code="not_markable")
        if given.topic in seen:
            raise errors.Invalid.field("marks", f"题目 {given.topic} 重复。", code="invalid_marks")
        seen.add(given.topic)
        if given.score > item.full_score:
            raise errors.Invalid.field(
                "marks", f"题目 {given.topic} 的得分不能超过 {item.full_score}。", code="invalid_score"
            )
        item.score = given.score
        item.correct = given.score == item.full_score
        item.marked = True
        if given.comment is not None:
            item.comment = given.comment
    session.flush()
    at = now()
    _recompute(session, submission.id)
    assignment = session.get(Assignment, submission.assignment_id)
    assert assignment is not None
    for item in items.values():  # a mark below full joins the mistake book, once per item
        if item.marked and item.score < item.full_score and not item.in_mistakes:
            item.in_mistakes = True
            mistakes.record_wrong(
                session, submission.student_id, item.topic_id, item.answer, at, reveal_at=reveal_time(assignment, at)
            )
    session.flush()
    session.refresh(submission)
    return serialize(session, submission, caller, at)


def _recompute(session: Session, submission_id: int) -> None:
    """Score, pending and status from the items, in the database: idempotent, never a sum of deltas."""
    items = select(SubmissionItem).where(SubmissionItem.submission_id == submission_id).subquery()
    total = select(func.coalesce(func.sum(items.c.score), 0)).scalar_subquery()
    pending = (
        select(func.count())
        .select_from(items)
        .where(and_(items.c.needs_mark.is_(True), items.c.marked.is_(False)))
        .scalar_subquery()
    )
    session.execute(
        update(Submission)
        .where(Submission.id == submission_id)
        .values(
            score=total,
            pending=pending,
            status=case((pending == 0, "graded"), else_="submitted"),
            update_time=now(),
        )
        .execution_options(synchronize_session=False)
    )


def roster(
    session: Session, caller: Caller, assignment_id: int, *, offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """Every student of the assignment's classes with where its work stands (by student id)."""
    assignment = owned_assignment(session, caller, assignment_id)
    students = assignment_students(assignment.id).subquery()
    count = session.scalar(select(func.count()).select_from(students)) or 0
    rows = session.execute(
        select(
            User.id,
            User.username,
            Attempt.status,
            Submission.id,
            Submission.status,
            Submission.score,
            Submission.submitted_at,
        )
        .join(students, students.c.user_id == User.id)
        .outerjoin(Attempt, and_(Attempt.assignment_id == assignment.id, Attempt.student_id == User.id))
        .outerjoin(Submission, and_(Submission.assignment_id == assignment.id, Submission.student_id == User.id))
        .order_by(User.id)
        .offset(offset)
        .limit(limit)
    ).all()
    results = []
    for user_id, username, attempt_status, submission_id, submission_status, score, submitted_at in rows:
        status = submission_status or ("in_progress" if attempt_status else "not_started")
        results.append(
            {
                "student": user_id,
                "username": username,
                "status": status,
                "score": score_out(score),
                "submission": submission_id,
                "submitted_at": isoformat(submitted_at),
            }
        )
    return count, results
