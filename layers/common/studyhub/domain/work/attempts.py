"""A student's attempt: start, drafts, the final submit, and the closing job's submit.

Exactly once: one attempt per (assignment, student) (UNIQUE; a racing start runs again and finds
it), and it leaves ``in_progress`` by one conditional UPDATE: whoever changes the row (a tab, the
other tab, the closing job) records the one submission (itself UNIQUE); the others see 0 rows.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.db import rows_matched
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller
from studyhub.domain.work import mistakes
from studyhub.domain.work.assignments import deadline_of
from studyhub.domain.work.grading import grade
from studyhub.domain.work.homework import GRACE_SECONDS, check_open, items_of, now, reveal_time, student_assignment
from studyhub.models.homework import Assignment, Attempt, Paper, Submission, SubmissionItem

from .schemas import AnswerIn

log = logging.getLogger("studyhub.work.homework")
GRACE = timedelta(seconds=GRACE_SECONDS)


def _find(session: Session, assignment_id: int, student_id: int) -> Attempt | None:
    return session.scalar(
        select(Attempt).where(Attempt.assignment_id == assignment_id, Attempt.student_id == student_id)
    )


def _submission_id(session: Session, assignment_id: int, student_id: int) -> int | None:
    return session.scalar(
        select(Submission.id).where(Submission.assignment_id == assignment_id, Submission.student_id == student_id)
    )


def serialize(session: Session, attempt: Attempt) -> dict[str, Any]:
    draft = json.loads(attempt.draft or "{}")
    return {
        "started_at": isoformat(attempt.started_at),
        "deadline": isoformat(attempt.deadline),
        "status": attempt.status,
        "answers": [{"topic": int(k), "answer": v} for k, v in draft.items()],
        "submission": _submission_id(session, attempt.assignment_id, attempt.student_id),
    }


def _get_or_start(session: Session, assignment: Assignment, student: Caller, at: datetime) -> tuple[Attempt, bool]:
    attempt = _find(session, assignment.id, student.id)
    if attempt is not None:
        return attempt, False
    check_open(assignment, at)
    attempt = Attempt(
        assignment_id=assignment.id,
        student_id=student.id,
        started_at=at,
        deadline=deadline_of(assignment, at),
        status="in_progress",
        draft="{}",
    )
    session.add(attempt)
    session.flush()  # a concurrent start hits the UNIQUE here: the route runs again and finds it
    return attempt, True


def start(session: Session, caller: Caller, assignment_id: int) -> tuple[dict[str, Any], bool]:
    """``(attempt, created)``; starting again answers the same attempt."""
    assignment = student_assignment(session, caller, assignment_id)
    attempt, created = _get_or_start(session, assignment, caller, now())
    return serialize(session, attempt), created


def _answers_map(session: Session, assignment: Assignment, answers: list[AnswerIn]) -> dict[str, str | None]:
    topics = {t.id for _, t in items_of(session, [assignment.paper_id])[assignment.paper_id]}
    out: dict[str, str | None] = {}
    for answer in answers:
        if answer.topic not in topics:
            raise errors.Invalid.field("answers", f"题目 {answer.topic} 不在试卷中。", code="invalid_answers")
        if str(answer.topic) in out:
            raise errors.Invalid.field("answers", f"题目 {answer.topic} 重复。", code="invalid_answers")
        out[str(answer.topic)] = answer.answer
    return out


def _open_attempt(
    session: Session, caller: Caller, assignment_id: int, *, grace: timedelta
) -> tuple[Assignment, Attempt]:
    assignment = student_assignment(session, caller, assignment_id)
    at = now()
    attempt, _ = _get_or_start(session, assignment, caller, at)
    if attempt.status != "in_progress":
        raise errors.Conflict("已经提交过了", code="already_submitted")
    if at > attempt.deadline + grace:
        raise errors.Conflict("已过截止时间", code="assignment_closed")
    return assignment, attempt


def save_draft(session: Session, caller: Caller, assignment_id: int, answers: list[AnswerIn]) -> dict[str, Any]:
    """Replaces the whole draft (before the deadline; starts the attempt if needed)."""
    assignment, attempt = _open_attempt(session, caller, assignment_id, grace=timedelta(0))
    draft = json.dumps(_answers_map(session, assignment, answers), ensure_ascii=False)
    changed = rows_matched(
        session,
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == "in_progress")
        .values(draft=draft, update_time=now())
        .execution_options(synchronize_session=False),
    )
    if not changed:
        raise errors.Conflict("已经提交过了", code="already_submitted")
    session.refresh(attempt)
    return serialize(session, attempt)


def submit(session: Session, caller: Caller, assignment_id: int, answers: list[AnswerIn] | None) -> int:
    """The final submit: ``answers`` override the draft topic by topic. Returns the submission id."""
    assignment, attempt = _open_attempt(session, caller, assignment_id, grace=GRACE)
    merged = json.loads(attempt.draft or "{}")
    merged.update(_answers_map(session, assignment, answers or []))
    submission = hand_in(session, assignment, attempt, merged, now())
    if submission is None:
        raise errors.Conflict("已经提交过了", code="already_submitted")
    return submission.id


def hand_in(
    session: Session, assignment: Assignment, attempt: Attempt, answers: dict[str, str | None], at: datetime
) -> Submission | None:
    """Claim the attempt (one conditional UPDATE) and record its graded submission; ``None`` when
    someone else claimed it first."""
    claimed = rows_matched(
        session,
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == "in_progress")
        .values(status="submitted", draft=json.dumps(answers, ensure_ascii=False), update_time=now())
        .execution_options(synchronize_session=False),
    )
    if not claimed:
        return None
    paper = session.get(Paper, assignment.paper_id)
    assert paper is not None
    submission = Submission(
        assignment_id=assignment.id,
        student_id=attempt.student_id,
        status="submitted",
        total_score=paper.total_score,
        submitted_at=at,
    )
    session.add(submission)
    session.flush()
    items, pending, wrong = [], 0, []
    total = Decimal("0.0")
    for position, (paper_item, topic) in enumerate(items_of(session, [paper.id])[paper.id]):
        answer = answers.get(str(topic.id))
        result = grade(topic.type, topic.answer, answer, paper_item.score)
        counted = not result.needs_mark and result.score < paper_item.score
        items.append(
            SubmissionItem(
                submission_id=submission.id,
                topic_id=topic.id,
                position=position,
                answer=answer if answer and answer.strip() else None,
                full_score=paper_item.score,
                score=result.score,
                correct=result.correct,
                needs_mark=result.needs_mark,
                marked=False,
                in_mistakes=counted,
            )
        )
        total += result.score
        pending += int(result.needs_mark)
        if counted:
            wrong.append((topic.id, answer))
    session.add_all(items)
    submission.score = total
    submission.pending = pending
    submission.status = "submitted" if pending else "graded"
    session.flush()
    reveal_at = reveal_time(assignment, at)
    for topic_id, answer in wrong:
        mistakes.record_wrong(session, attempt.student_id, topic_id, answer, at, reveal_at=reveal_at)
    return submission


# --- the closing job --------------------------------------------------------------------------

CLOSE_BATCH = 200


def overdue_attempts(at: datetime, *, limit: int = CLOSE_BATCH) -> list[int]:
    """Attempts still open past their deadline and the grace (the student's own late submit wins
    during the grace)."""
    from studyhub.core.db import session_scope

    with session_scope() as session:
        return list(
            session.scalars(
                select(Attempt.id)
                .where(Attempt.status == "in_progress", Attempt.deadline < at - GRACE)
                .order_by(Attempt.deadline, Attempt.id)
                .limit(limit)
            )
        )


def close_attempt(attempt_id: int) -> bool:
    """Submit one overdue attempt's draft (its own transaction); false if already handed in."""
    from sqlalchemy.exc import IntegrityError

    from studyhub.core.db import run_in_transaction

    def work(session: Session) -> bool:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None or attempt.status != "in_progress":
            return False
        assignment = session.get(Assignment, attempt.assignment_id)
        assert assignment is not None
        # handed in at its deadline: that is when the draft stopped changing
        return hand_in(session, assignment, attempt, json.loads(attempt.draft or "{}"), attempt.deadline) is not None

    try:
        return run_in_transaction(work)
    except IntegrityError:  # a racing submit inserted a row this one wanted: look again
        return run_in_transaction(work)


def close_overdue(at: datetime | None = None) -> int:
    """The closing job's body: every overdue draft submitted, once. Idempotent."""
    at = at or now()
    closed = 0
    while True:
        ids = overdue_attempts(at)
        if not ids:
            return closed
        for attempt_id in ids:
            try:
                closed += int(close_attempt(attempt_id))
            except Exception:  # noqa: BLE001 - one bad attempt must not block the others
                log.exception("could not close attempt %s", attempt_id)
                return closed
