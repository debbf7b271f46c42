"""Assignments: a paper given to classes as homework or an exam, with a time window, an optional
time limit (exams) and when answers are revealed. Teachers+ read every one, students those of
their classes; the owner or a superuser changes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, insert, select
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.times import isoformat, local_zone
from studyhub.domain.access import Caller, require_owner_or_superuser, require_teacher
from studyhub.domain.work.homework import (
    check_open,
    items_of,
    member_of_assignment,
    now,
    readable_assignment,
    score_out,
    serialize_items,
)
from studyhub.models.homework import Assignment, Attempt, Paper, assignment_classes
from studyhub.models.school import Classes

from .schemas import AssignmentIn, AssignmentPatch

DEFAULT_REVEAL = {"homework": "after_submit", "exam": "after_end"}


def class_ids(session: Session, assignment_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in assignment_ids}
    if assignment_ids:
        rows = session.execute(
            select(assignment_classes.c.assignment_id, assignment_classes.c.class_id)
            .where(assignment_classes.c.assignment_id.in_(assignment_ids))
            .order_by(assignment_classes.c.class_id)
        )
        for assignment_id, class_id in rows:
            out[assignment_id].append(class_id)
    return out


def serialize_page(session: Session, assignments: list[Assignment]) -> list[dict[str, Any]]:
    classes = class_ids(session, [a.id for a in assignments])
    return [
        {
            "id": a.id,
            "paper": a.paper_id,
            "title": a.title,
            "kind": a.kind,
            "classes": classes[a.id],
            "start_time": isoformat(a.start_time),
            "end_time": isoformat(a.end_time),
            "time_limit_minutes": a.time_limit_minutes,
            "reveal": a.reveal,
            "user": a.user_id,
            "create_time": isoformat(a.create_time),
        }
        for a in assignments
    ]


def list_query(caller: Caller, *, kind: str | None = None) -> Select[Assignment]:
    stmt = select(Assignment).where(Assignment.is_delete.is_(False))
    if not caller.is_teacher_or_superuser:
        stmt = stmt.where(member_of_assignment(caller.id, Assignment.id))
    if kind is not None:
        stmt = stmt.where(Assignment.kind == kind)
    return stmt.order_by(Assignment.update_time.desc(), Assignment.id.desc())


def _aware(value: datetime) -> datetime:
    """A time sent without an offset is in ``TIME_ZONE``."""
    return value if value.tzinfo is not None else value.replace(tzinfo=local_zone())


def _live_paper(session: Session, paper_id: int) -> Paper:
    paper = session.get(Paper, paper_id)
    if paper is None or paper.is_delete:
        raise errors.Invalid.field("paper", "试卷不存在。", code="invalid_paper")
    return paper


def _live_classes(session: Session, ids: list[int]) -> list[int]:
    wanted = sorted(set(ids))
    found = set(session.scalars(select(Classes.id).where(Classes.id.in_(wanted), Classes.is_delete.is_(False))))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise errors.Invalid.field("classes", f"班级 {missing[0]} 不存在。", code="invalid_classes")
    return wanted


def _check_times(assignment: Assignment) -> None:
    if assignment.end_time <= assignment.start_time:
        raise errors.Invalid.field("end_time", "结束时间必须晚于开始时间。", code="invalid_window")
    if assignment.kind != "exam" and assignment.time_limit_minutes is not None:
        raise errors.Invalid.field("time_limit_minutes", "只有考试可以限时。", code="invalid_time_limit")


def _set_classes(session: Session, assignment: Assignment, ids: list[int]) -> None:
    session.execute(delete(assignment_classes).where(assignment_classes.c.assignment_id == assignment.id))
    session.execute(insert(assignment_classes), [{"assignment_id": assignment.id, "class_id": i} for i in ids])


def create(session: Session, caller: Caller, body: AssignmentIn) -> dict[str, Any]:
    require_teacher(caller)
    paper = _live_paper(session, body.paper)
    classes = _live_classes(session, body.classes)
    assignment = Assignment(
        paper_id=paper.id,
        title=body.title or paper.title,
        kind=body.kind,
        start_time=_aware(body.start_time),
        end_time=_aware(body.end_time),
        time_limit_minutes=body.time_limit_minutes,
        reveal=body.reveal or DEFAULT_REVEAL[body.kind],
        user_id=caller.id,
    )
    _check_times(assignment)
    session.add(assignment)
    session.flush()
    _set_classes(session, assignment, classes)
    return serialize_page(session, [assignment])[0]


def deadline_of(assignment: Assignment, started_at: datetime) -> datetime:
    """min(end_time, started_at + time limit)."""
    if assignment.time_limit_minutes is None:
        return assignment.end_time
    return min(assignment.end_time, started_at + timedelta(minutes=assignment.time_limit_minutes))


def update_assignment(session: Session, caller: Caller, assignment_id: int, body: AssignmentPatch) -> dict[str, Any]:
    assignment = readable_assignment(session, caller, assignment_id)
    require_owner_or_superuser(caller, assignment.user_id)
    sent = body.model_fields_set
    for name in ("paper", "title", "kind", "classes", "start_time", "end_time", "reveal"):
        if name in sent and getattr(body, name) is None:
            raise errors.Invalid.field(name, "该字段不能为空。")
    started = session.scalar(select(exists().where(Attempt.assignment_id == assignment.id)))
    if started and (
        ("paper" in sent and body.paper != assignment.paper_id) or ("kind" in sent and body.kind != assignment.kind)
    ):
        raise errors.Conflict("已有学生作答，不能更换试卷或类型", code="assignment_has_attempts")
    _apply(session, assignment, body)
    _check_times(assignment)
    if body.classes is not None:
        _set_classes(session, assignment, _live_classes(session, body.classes))
    # the attempts under way follow a new end time or time limit
    for attempt in session.scalars(
        select(Attempt).where(Attempt.assignment_id == assignment.id, Attempt.status == "in_progress")
    ):
        attempt.deadline = deadline_of(assignment, attempt.started_at)
    session.flush()
    return serialize_page(session, [assignment])[0]


def _apply(session: Session, assignment: Assignment, body: AssignmentPatch) -> None:
    if body.paper is not None:
        assignment.paper_id = _live_paper(session, body.paper).id
    for name in ("title", "kind", "reveal"):
        if getattr(body, name) is not None:
            setattr(assignment, name, getattr(body, name))
    if body.start_time is not None:
        assignment.start_time = _aware(body.start_time)
    if body.end_time is not None:
        assignment.end_time = _aware(body.end_time)
    if "time_limit_minutes" in body.model_fields_set:
        assignment.time_limit_minutes = body.time_limit_minutes


def delete_assignment(session: Session, caller: Caller, assignment_id: int) -> None:
    assignment = readable_assignment(session, caller, assignment_id)
    require_owner_or_superuser(caller, assignment.user_id)
    assignment.is_delete = True
    session.flush()


def paper_view(session: Session, caller: Caller, assignment_id: int) -> dict[str, Any]:
    """The paper as a student answers it: exam-label topics included (here and nowhere else),
    never a key for a student, and only inside the window."""
    assignment = readable_assignment(session, caller, assignment_id)
    teacher = caller.is_teacher_or_superuser
    if not teacher:
        check_open(assignment, now())
    paper = session.get(Paper, assignment.paper_id)
    assert paper is not None
    return {
        "assignment": assignment.id,
        "title": assignment.title,
        "kind": assignment.kind,
        "total_score": score_out(paper.total_score),
        "items": serialize_items(items_of(session, [paper.id])[paper.id], with_answer=teacher),
    }
