"""The mistake book: every item scored below full counts there; a review schedule of 1, 3, 7 and
14 days (``stage`` 0..3) decides what is due, on read. A topic deleted later leaves the book."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.db import rows_matched
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller
from studyhub.domain.work.topics import label_names, serialize
from studyhub.models.homework import Mistake
from studyhub.models.work import Label, Topic

REVIEW_DAYS = (1, 3, 7, 14)


def _require_student(caller: Caller) -> None:
    if caller.is_teacher_or_superuser:
        raise errors.Forbidden("错题本仅学生可用")


def record_wrong(
    session: Session, student_id: int, topic_id: int, answer: str | None, at: datetime, *, reveal_at: datetime | None
) -> None:
    """Add the topic to the book, or count it again: its review starts over at 1 day."""
    mistake = session.scalar(
        select(Mistake).where(Mistake.student_id == student_id, Mistake.topic_id == topic_id).with_for_update()
    )
    if mistake is None:
        session.add(
            Mistake(
                student_id=student_id,
                topic_id=topic_id,
                my_answer=answer,
                wrong_count=1,
                last_wrong_at=at,
                stage=0,
                next_review_at=at + timedelta(days=REVIEW_DAYS[0]),
                reveal_at=reveal_at,
            )
        )
        session.flush()  # a concurrent insert hits the UNIQUE: the caller's transaction runs again
        return
    mistake.my_answer = answer
    mistake.wrong_count += 1
    mistake.last_wrong_at = at
    mistake.stage = 0
    mistake.next_review_at = at + timedelta(days=REVIEW_DAYS[0])
    if reveal_at is not None and (mistake.reveal_at is None or reveal_at < mistake.reveal_at):
        mistake.reveal_at = reveal_at
    session.flush()


def record_practice(
    session: Session, student_id: int, topic_id: int, correct: bool, answer: str | None, at: datetime
) -> None:
    """A practice answer: wrong adds or counts the topic (the key was just shown, so it is
    revealed); right on a due mistake moves it on (after 14 days it leaves the book). Before it is
    due the schedule doesn't move."""
    mistake = session.scalar(
        select(Mistake).where(Mistake.student_id == student_id, Mistake.topic_id == topic_id).with_for_update()
    )
    if mistake is None:
        if not correct:
            record_wrong(session, student_id, topic_id, answer, at, reveal_at=at)
        return
    if mistake.reveal_at is None or mistake.reveal_at > at:
        mistake.reveal_at = at
    due = mistake.next_review_at <= at
    if not correct:
        mistake.my_answer = answer
        mistake.wrong_count += 1
        mistake.last_wrong_at = at
        if due:
            mistake.stage = 0
            mistake.next_review_at = at + timedelta(days=REVIEW_DAYS[0])
    elif due:
        if mistake.stage >= len(REVIEW_DAYS) - 1:
            session.delete(mistake)
        else:
            mistake.stage += 1
            mistake.next_review_at = at + timedelta(days=REVIEW_DAYS[mistake.stage])
    session.flush()


def list_query(caller: Caller) -> Select[Mistake, Topic]:
    _require_student(caller)
    return (
        select(Mistake, Topic)
        .join(Topic, Topic.id == Mistake.topic_id)
        .join(Label, Label.id == Topic.label_id)
        .where(Mistake.student_id == caller.id, Topic.is_delete.is_(False), Label.is_delete.is_(False))
        .order_by(Mistake.last_wrong_at.desc(), Mistake.id.desc())
    )


def serialize_page(session: Session, rows: list[Any], at: datetime) -> list[dict[str, Any]]:
    """``topic`` with its key only once revealed (an exam topic included: it is the student's own)."""
    names = label_names(session, {topic.label_id for _, topic in rows})
    return [
        {
            "topic": serialize(
                topic,
                names.get(topic.label_id),
                with_answer=mistake.reveal_at is not None and mistake.reveal_at <= at,
            ),
            "my_answer": mistake.my_answer,
            "wrong_count": mistake.wrong_count,
            "last_wrong_at": isoformat(mistake.last_wrong_at),
            "next_review_at": isoformat(mistake.next_review_at),
        }
        for mistake, topic in rows
    ]


def remove(session: Session, caller: Caller, topic_id: int) -> None:
    _require_student(caller)
    if not rows_matched(session, delete(Mistake).where(Mistake.student_id == caller.id, Mistake.topic_id == topic_id)):
        raise errors.NotFound("错题不存在")


def page(
    session: Session, caller: Caller, at: datetime, *, offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    stmt = list_query(caller)
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = [(row[0], row[1]) for row in session.execute(stmt.offset(offset).limit(limit))] if count else []
    return count, serialize_page(session, rows, at)
