"""Daily practice: mistakes due for review first, then topics similar to the student's recent
mistakes, found through the search index on the subject text (a more-like-this query). Never an
exam-label topic, never one the student can't see, never a key. When the index can't be reached,
topics under the same labels as those mistakes stand in (practice never answers 503)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studyhub.clients.search import get_search
from studyhub.core import errors
from studyhub.domain.access import Caller
from studyhub.domain.work import mistakes
from studyhub.domain.work.grading import grade
from studyhub.domain.work.homework import now
from studyhub.domain.work.topics import label_names, serialize
from studyhub.domain.work.visibility import visible_topics
from studyhub.models.homework import Mistake
from studyhub.models.work import Topic

log = logging.getLogger("studyhub.work.practice")
DEFAULT_SIZE, MAX_SIZE = 10, 50
RECENT_MISTAKES = 5  # whose subjects seed the similar topics


def _require_student(caller: Caller) -> None:
    if caller.is_teacher_or_superuser:
        raise errors.Forbidden("练习仅学生可用")


def _similar_ids(session: Session, caller: Caller, recent: list[Topic], exclude: set[int], wanted: int) -> list[int]:
    text = "\n".join(t.subject for t in recent)
    try:
        # more than wanted: some may be invisible to this student or deleted since indexed
        return get_search().more_like_this(text, exclude_ids=sorted(exclude), limit=wanted * 3)
    except errors.Unavailable:
        log.warning("search unavailable: practice falls back to topics of the same labels")
        labels = sorted({t.label_id for t in recent})
        return list(
            session.scalars(
                visible_topics(caller)
                .with_only_columns(Topic.id)
                .where(Topic.label_id.in_(labels), Topic.id.not_in(exclude) if exclude else True)
                .order_by(Topic.update_time.desc(), Topic.id.desc())
                .limit(wanted)
            )
        )


def select_topics(session: Session, caller: Caller, size: int | None) -> list[dict[str, Any]]:
    _require_student(caller)
    size = min(size or DEFAULT_SIZE, MAX_SIZE)
    at = now()
    visible = visible_topics(caller)  # exam-label topics are out for a student
    due = list(
        session.scalars(
            visible.join(Mistake, Mistake.topic_id == Topic.id)
            .where(Mistake.student_id == caller.id, Mistake.next_review_at <= at)
            .order_by(Mistake.next_review_at, Mistake.id)
            .limit(size)
        )
    )
    chosen: list[tuple[Topic, str]] = [(t, "review") for t in due]
    if len(chosen) < size:
        recent = list(
            session.scalars(
                visible.join(Mistake, Mistake.topic_id == Topic.id)
                .where(Mistake.student_id == caller.id)
                .order_by(Mistake.last_wrong_at.desc(), Mistake.id.desc())
                .limit(RECENT_MISTAKES)
            )
        )
        if recent:
            in_book = set(session.scalars(select(Mistake.topic_id).where(Mistake.student_id == caller.id)))
            wanted = size - len(chosen)
            ids = _similar_ids(session, caller, recent, in_book, wanted)
            rows = {t.id: t for t in session.scalars(visible.where(Topic.id.in_(ids)))} if ids else {}
            similar = [rows[i] for i in ids if i in rows and i not in in_book][:wanted]
            chosen += [(t, "similar") for t in similar]
    names = label_names(session, {t.label_id for t, _ in chosen})
    return [{**serialize(t, names.get(t.label_id), with_answer=False), "reason": reason} for t, reason in chosen]


def answer(session: Session, caller: Caller, topic_id: int, given: str | None) -> dict[str, Any]:
    """Graded like a submission item (full score 1: the ratio); updates the review schedule.
    A question-and-answer topic can't be graded here: ``correct`` and the ratio are null."""
    _require_student(caller)
    topic = session.scalar(visible_topics(caller).where(Topic.id == topic_id))
    if topic is None:
        raise errors.NotFound("题目不存在")
    result = grade(topic.type, topic.answer, given, Decimal(1))
    if result.needs_mark:
        return {"correct": None, "score_ratio": None, "answer": topic.answer}
    correct = bool(result.correct)
    mistakes.record_practice(session, caller.id, topic.id, correct, given, now())
    return {"correct": correct, "score_ratio": float(result.score), "answer": topic.answer}
